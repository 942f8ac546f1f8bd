"""The marker algebra is exact: every operation agrees with ``packaging``'s evaluation at every
environment, and the text it writes means what it meant."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.markers import Marker

from resolve.universal.marker_algebra import FALSE, TRUE, Expr
from resolve.universal.marker_parse import parse, parse_text, python_range

PLATFORMS = ("linux", "win32", "darwin")
MACHINES = ("x86_64", "AMD64", "arm64")
EXTRAS = ("", "socks", "dev")
PYTHONS = [(3, minor, micro) for minor in range(7, 15) for micro in (0, 1, 4)]

_atoms = st.one_of(
    st.builds(
        lambda op, minor: f"python_version {op} '3.{minor}'",
        st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
        st.integers(7, 14),
    ),
    st.builds(
        lambda op, minor, micro: f"python_full_version {op} '3.{minor}.{micro}'",
        st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
        st.integers(7, 14),
        st.integers(0, 4),
    ),
    st.builds(
        lambda op, minor: f"python_full_version {op} '3.{minor}.*'",
        st.sampled_from(["==", "!="]),
        st.integers(7, 14),
    ),
    st.builds(
        lambda op, value: f"sys_platform {op} '{value}'",
        st.sampled_from(["==", "!="]),
        st.sampled_from(PLATFORMS),
    ),
    st.builds(
        lambda op, value: f"platform_machine {op} '{value}'",
        st.sampled_from(["==", "!="]),
        st.sampled_from(MACHINES),
    ),
    st.builds(lambda value: f"extra == '{value}'", st.sampled_from(EXTRAS[1:])),
)
markers = st.recursive(
    _atoms,
    lambda inner: st.builds(
        lambda a, op, b: f"({a}) {op} ({b})", inner, st.sampled_from(["and", "or"]), inner
    ),
    max_leaves=6,
)
environments = st.builds(
    lambda python, platform, machine, extra: {
        "python_version": f"{python[0]}.{python[1]}",
        "python_full_version": ".".join(map(str, python)),
        "sys_platform": platform,
        "platform_machine": machine,
        "extra": extra,
    },
    st.sampled_from(PYTHONS),
    st.sampled_from(PLATFORMS),
    st.sampled_from(MACHINES),
    st.sampled_from(EXTRAS),
)


def _holds(expr: Expr, environment: dict[str, str]) -> bool:
    """Membership through the algebra alone: the environment as a point, inside ``expr``."""
    major, minor, micro = map(int, environment["python_full_version"].split("."))
    point = python_range((major, minor, micro), (major, minor, micro + 1))
    for name in ("sys_platform", "platform_machine", "extra"):
        point &= parse_text(f"{name} == '{environment[name]}'")
    return point.within(expr)


def _evaluate(text: str, environment: dict[str, str]) -> bool:
    full = {
        "implementation_name": "cpython",
        "os_name": "posix",
        "platform_system": "Linux",
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_version": "",
        "implementation_version": environment["python_full_version"],
        **environment,
    }
    return Marker(text).evaluate(full)


@settings(max_examples=300, deadline=None)
@given(markers, markers, environments)
def test_operations_agree_with_evaluation(a: str, b: str, environment: dict[str, str]) -> None:
    left, right = parse(Marker(a)), parse(Marker(b))
    in_a, in_b = _evaluate(a, environment), _evaluate(b, environment)
    assert _holds(left, environment) == in_a
    assert _holds(left & right, environment) == (in_a and in_b)
    assert _holds(left | right, environment) == (in_a or in_b)
    assert _holds(~left, environment) == (not in_a)
    # The text means what the expression meant, simplified or not.
    text = left.text()
    assert (_evaluate(text, environment) if text else True) == in_a
    within = left.simplified(right)
    assert _holds(within & right, environment) == (in_a and in_b)


@settings(max_examples=200, deadline=None)
@given(markers)
def test_text_round_trips(a: str) -> None:
    expr = parse(Marker(a))
    text = expr.text()
    again = TRUE if not text else parse(Marker(text))
    assert again.same(expr)
    assert expr.disjoint(~expr)
    assert (expr | ~expr).is_true()


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("python_version < '3.10'", "python_version < '3.10'"),
        ("python_version <= '3.10'", "python_version < '3.11'"),
        ("python_version > '3.10'", "python_version >= '3.11'"),
        ("python_version == '3.10'", "python_version == '3.10'"),
        ("python_full_version >= '3.10.2'", "python_full_version >= '3.10.2'"),
        (
            "sys_platform == 'win32' or sys_platform == 'linux'",
            "sys_platform == 'linux' or sys_platform == 'win32'",
        ),
        (
            "sys_platform != 'win32' and sys_platform != 'linux'",
            "sys_platform != 'linux' and sys_platform != 'win32'",
        ),
        (
            "python_version < '3.10' and sys_platform == 'win32' or python_version >= '3.10' "
            "and sys_platform == 'win32'",
            "sys_platform == 'win32'",
        ),
        ("'linux' in sys_platform", '"linux" in sys_platform'),
    ],
)
def test_text(text: str, written: str) -> None:
    assert parse_text(text).text() == written


def test_disjointness_and_simplification_within_a_range() -> None:
    below, above = parse_text("python_version < '3.10'"), parse_text("python_version >= '3.10'")
    assert below.disjoint(above)
    assert not below.disjoint(parse_text("sys_platform == 'win32'"))
    lock = parse_text("python_version >= '3.9'")
    needed = lock & below & parse_text("sys_platform == 'win32'")
    assert needed.simplified(lock).text() == "python_version < '3.10' and sys_platform == 'win32'"
    assert (FALSE | lock).same(lock)


def test_extra_is_substituted() -> None:
    marker = parse_text("extra == 'Socks' and python_version < '3.10' or sys_platform == 'win32'")
    assert marker.restrict("extra", "socks").text() == (
        "python_version < '3.10' or sys_platform == 'win32'"
    )
    assert marker.restrict("extra", "").text() == "sys_platform == 'win32'"
