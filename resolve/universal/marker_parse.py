"""PEP 508 marker text → :class:`resolve.universal.marker_algebra.Expr`.

``python_version`` and ``python_full_version`` become intervals of release numbers
(``python_version <= '3.10'`` is ``python_full_version < '3.11.0'``; PEP 440 zero padding
makes ``python_full_version == '3.10'`` mean 3.10.0); the string variables' ``==`` and ``!=``
become value sets (``extra`` values normalised, PEP 685); anything else is an opaque atom.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from packaging.markers import Marker

from resolve.universal.marker_algebra import (
    FALSE,
    PYTHON,
    STRING_VARIABLES,
    TRUE,
    Expr,
    Python,
    Release,
    Values,
)

__all__ = ["parse", "parse_text", "python_range"]

_RELEASE_RE = re.compile(r"\d+(\.\d+){0,2}\Z")


def parse_text(text: str) -> Expr:
    return parse(Marker(text))


def parse(marker: Marker | None) -> Expr:
    """A ``packaging`` marker (None: no marker) as an :class:`Expr`."""
    if marker is None:
        return TRUE
    return _parse_list(marker._markers)


def _parse_list(items: Sequence[object]) -> Expr:
    # PEP 508: `and` binds tighter than `or`.
    result = FALSE
    current = TRUE
    for item in items:
        if item == "or":
            result |= current
            current = TRUE
        elif item == "and":
            continue
        elif isinstance(item, list):
            current &= _parse_list(item)
        else:
            current &= _atom(item)  # type: ignore[arg-type]
    return result | current


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}


def _atom(atom: tuple[object, object, object]) -> Expr:
    lhs, op, rhs = atom
    left, right = str(lhs), str(rhs)
    operator = str(op)
    lhs_variable = type(lhs).__name__ == "Variable"
    rhs_variable = type(rhs).__name__ == "Variable"
    if rhs_variable and not lhs_variable and operator in _FLIP:
        lhs_variable, rhs_variable = True, False
        left, right, operator = right, left, _FLIP[operator]
    if lhs_variable and not rhs_variable:
        if left in ("python_version", PYTHON):
            found = _python_atom(left, operator, right)
            if found is not None:
                return Expr(((((PYTHON, found),)),))
        elif left in STRING_VARIABLES and operator in ("==", "!="):
            value = right.lower() if left == "extra" else right
            if left == "extra":
                value = re.sub(r"[-_.]+", "-", value)
            values = Values(frozenset([value]), operator == "!=")
            return Expr((((left, values),),))
    return _opaque(
        f'{left} {operator} "{right}"' if lhs_variable else f'"{left}" {operator} {right}'
    )


def _opaque(text: str) -> Expr:
    return Expr((((f"<{text}>", Values(frozenset(["true"]), False)),),))


def _release(text: str) -> Release | None:
    if not _RELEASE_RE.match(text):
        return None
    parts = [int(p) for p in text.split(".")]
    return (*parts, 0, 0)[:3]  # type: ignore[return-value]


def _next(release: Release, position: int) -> Release:
    parts = list(release[: position + 1])
    parts[position] += 1
    return (*parts, 0, 0)[:3]  # type: ignore[return-value]


def _interval(low: Release | None, high: Release | None) -> Python:
    return Python.between(low, high)


def _python_atom(variable: str, operator: str, text: str) -> Python | None:
    wildcard = operator in ("==", "!=") and text.endswith(".*")
    release = _release(text[:-2] if wildcard else text)
    if release is None:
        return None
    given = len((text[:-2] if wildcard else text).split("."))
    if variable == "python_version":
        if given != 2:
            return None
        # python_version is 'X.Y': comparing it is comparing the minor series.
        series_end = _next(release, 1)
        found = {
            "==": _interval(release, series_end),
            "!=": ~_interval(release, series_end),
            "<": _interval(None, release),
            "<=": _interval(None, series_end),
            ">": _interval(series_end, None),
            ">=": _interval(release, None),
        }.get(operator)
        if operator == "~=":
            found = _interval(release, _next(release, 0))
        return found
    if wildcard:
        end = _next(release, given - 1)
        return _interval(release, end) if operator == "==" else ~_interval(release, end)
    after = _next(release, 2)  # PEP 440 zero padding: '3.10' == '3.10.0'
    if operator == "~=":
        if given < 2:
            return None
        return _interval(release, _next(release, given - 2))
    return {
        "==": _interval(release, after),
        "!=": ~_interval(release, after),
        "<": _interval(None, release),
        "<=": _interval(None, after),
        ">": _interval(after, None),
        ">=": _interval(release, None),
    }.get(operator)


def python_range(lowest: Release, highest: Release | None = None) -> Expr:
    """``lowest <= python_full_version < highest`` as a marker."""
    return Expr((((PYTHON, _interval(lowest, highest)),),))
