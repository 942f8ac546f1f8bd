"""Target environments: uv's platform spellings, PEP 508 markers, wheel tags and their ranks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.markers import Marker, default_environment
from packaging.tags import Tag, sys_tags

from resolve.targets.environment import (
    DEFAULT_GLIBC,
    DEFAULT_MACOS,
    InvalidPythonVersion,
    TargetEnvironment,
    UnknownPlatform,
    parse_platform,
    parse_python_version,
)


def target(version: str, platform: str) -> TargetEnvironment:
    return TargetEnvironment.create(version, platform)


# -- python versions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3.12", (3, 12, 0)), ("3.12.4", (3, 12, 4)), (" 3.8 ", (3, 8, 0)), ("3.13.10", (3, 13, 10))],
)
def test_python_version_parses(text: str, expected: tuple[int, int, int]) -> None:
    assert parse_python_version(text) == expected


@pytest.mark.parametrize("text", ["3", "312", "3.12.x", "three", "", "3.12.0rc1", "2.7"])
def test_python_version_errors_name_the_value(text: str) -> None:
    with pytest.raises(InvalidPythonVersion) as info:
        parse_python_version(text)
    assert repr(text) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_python_version_error_via_create() -> None:
    with pytest.raises(InvalidPythonVersion, match="only Python 3"):
        TargetEnvironment.create("2.7", "linux")


# -- platform spellings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "full"),
    [
        ("linux", "x86_64-unknown-linux-gnu"),
        ("windows", "x86_64-pc-windows-msvc"),
        ("macos", "aarch64-apple-darwin"),
    ],
)
def test_uv_aliases(alias: str, full: str) -> None:
    assert parse_platform(alias) == parse_platform(full)
    assert parse_platform(alias).name == full


def test_linux_gnu_means_uv_default_glibc() -> None:
    assert DEFAULT_GLIBC == (2, 28)
    gnu = parse_platform("x86_64-unknown-linux-gnu")
    assert gnu.platform_tags == parse_platform("x86_64-manylinux_2_28").platform_tags
    aarch64 = parse_platform("aarch64-unknown-linux-gnu")
    assert aarch64.platform_tags == parse_platform("aarch64-manylinux_2_28").platform_tags
    assert aarch64.platform_machine == "aarch64"


def test_manylinux_platform_order() -> None:
    tags = parse_platform("x86_64-manylinux_2_17").platform_tags
    assert tags[:3] == ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_16_x86_64")
    assert tags.index("manylinux_2_12_x86_64") + 1 == tags.index("manylinux2010_x86_64")
    assert tags[-3:] == ("manylinux_2_5_x86_64", "manylinux1_x86_64", "linux_x86_64")


def test_aarch64_manylinux_starts_at_2_17() -> None:
    tags = parse_platform("aarch64-manylinux_2_28").platform_tags
    assert tags[-3:] == ("manylinux_2_17_aarch64", "manylinux2014_aarch64", "linux_aarch64")
    assert "manylinux1_aarch64" not in tags
    with pytest.raises(UnknownPlatform, match=r"glibc 2\.17"):
        parse_platform("aarch64-manylinux1")


@pytest.mark.parametrize(
    ("spelling", "first"),
    [
        ("x86_64-manylinux_2_31", "manylinux_2_31_x86_64"),
        ("manylinux_2_31_x86_64", "manylinux_2_31_x86_64"),
        ("x86_64-manylinux2014", "manylinux_2_17_x86_64"),
        ("X86_64-Manylinux_2_28", "manylinux_2_28_x86_64"),
        ("i686-manylinux2010", "manylinux_2_12_i686"),
        ("x86_64-unknown-linux-musl", "musllinux_1_2_x86_64"),
        ("aarch64-unknown-linux-musl", "musllinux_1_2_aarch64"),
        ("x86_64-apple-darwin", f"macosx_{DEFAULT_MACOS[0]}_0_x86_64"),
        ("aarch64-apple-darwin", f"macosx_{DEFAULT_MACOS[0]}_0_arm64"),
        ("x86_64-pc-windows-msvc", "win_amd64"),
        ("i686-pc-windows-msvc", "win32"),
        ("aarch64-pc-windows-msvc", "win_arm64"),
    ],
)
def test_spellings_give_platform_tags(spelling: str, first: str) -> None:
    assert parse_platform(spelling).platform_tags[0] == first


def test_musllinux_tags() -> None:
    assert parse_platform("x86_64-unknown-linux-musl").platform_tags == (
        "musllinux_1_2_x86_64",
        "musllinux_1_1_x86_64",
        "musllinux_1_0_x86_64",
        "linux_x86_64",
    )


@pytest.mark.parametrize(
    "spelling",
    ["sparc-sun-solaris", "", "linux-x86_64", "x86_64-unknown-freebsd", "arm-manylinux_2_17"],
)
def test_unknown_platform_lists_accepted_spellings(spelling: str) -> None:
    with pytest.raises(UnknownPlatform) as info:
        parse_platform(spelling)
    message = str(info.value)
    assert repr(spelling) in message
    for accepted in (
        "linux",
        "<arch>-manylinux_2_NN",
        "aarch64-apple-darwin",
        "i686-pc-windows-msvc",
    ):
        assert accepted in message
    assert isinstance(info.value, ValueError)


# -- markers -----------------------------------------------------------------------------------


def test_linux_markers() -> None:
    assert target("3.12", "linux").markers == {
        "implementation_name": "cpython",
        "implementation_version": "3.12.0",
        "os_name": "posix",
        "platform_machine": "x86_64",
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": "3.12.0",
        "python_version": "3.12",
        "sys_platform": "linux",
    }


def test_markers_keep_the_patch_version() -> None:
    markers = target("3.11.9", "macos").markers
    assert markers["python_full_version"] == "3.11.9"
    assert markers["python_version"] == "3.11"
    assert (markers["sys_platform"], markers["platform_system"]) == ("darwin", "Darwin")
    assert markers["platform_machine"] == "arm64"
    assert Marker('python_full_version >= "3.11.5"').evaluate(markers)


@pytest.mark.parametrize(
    ("platform", "machine"),
    [
        ("x86_64-pc-windows-msvc", "AMD64"),
        ("i686-pc-windows-msvc", "x86"),
        ("aarch64-pc-windows-msvc", "ARM64"),
    ],
)
def test_windows_markers(platform: str, machine: str) -> None:
    markers = target("3.12", platform).markers
    assert markers["sys_platform"] == "win32"
    assert markers["os_name"] == "nt"
    assert markers["platform_system"] == "Windows"
    assert markers["platform_machine"] == machine
    assert Marker('sys_platform == "win32" and os_name == "nt"').evaluate(markers)
    assert not Marker('sys_platform == "linux"').evaluate(markers)


def test_markers_are_a_fresh_dict() -> None:
    env = target("3.12", "linux")
    env.markers["sys_platform"] = "changed"
    assert env.markers["sys_platform"] == "linux"


# -- tags and ranks ----------------------------------------------------------------------------


def test_linux_tag_order() -> None:
    tags = [str(t) for t in target("3.12", "linux").tags]
    assert tags[0] == "cp312-cp312-manylinux_2_28_x86_64"
    assert tags.index("cp312-cp312-linux_x86_64") < tags.index("cp312-abi3-manylinux_2_28_x86_64")
    assert tags.index("cp311-abi3-linux_x86_64") < tags.index("py312-none-manylinux_2_28_x86_64")
    assert tags.index("py3-none-linux_x86_64") < tags.index("cp312-none-any")
    assert tags[-15:-12] == ["cp312-none-any", "py312-none-any", "py3-none-any"]
    assert len(tags) == len(set(tags))


def test_cp312_linux_prefers_manylinux_over_pure_python() -> None:
    env = target("3.12", "linux")
    native = env.tag_rank("cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64")
    pure = env.tag_rank("py3-none-any")
    assert native is not None
    assert pure is not None
    assert native < pure
    assert env.tag_rank("py2.py3-none-any") == pure


def test_rank_is_the_best_of_a_compressed_set() -> None:
    env = target("3.12", "linux")
    both = env.tag_rank("cp312-cp312-manylinux_2_28_x86_64.manylinux_2_17_x86_64")
    assert both == env.tag_rank("cp312-cp312-manylinux_2_28_x86_64") == 0
    assert env.tag_rank("cp312-cp312-manylinux_2_17_x86_64") == env.tags.index(
        Tag("cp312", "cp312", "manylinux_2_17_x86_64")
    )


@pytest.mark.parametrize(
    ("tags", "fits"),
    [
        ("cp313-cp313-manylinux_2_17_x86_64", False),  # another CPython
        ("cp38-abi3-manylinux_2_17_x86_64", True),  # PEP 384 stable ABI from an older minor
        ("cp313-abi3-manylinux_2_17_x86_64", False),  # abi3 from a newer minor
        ("cp312-cp312-manylinux_2_31_x86_64", False),  # newer glibc than the default 2.28
        ("cp312-cp312-manylinux_2_28_x86_64", True),
        ("cp312-cp312-manylinux1_x86_64", True),
        ("cp312-cp312-musllinux_1_1_x86_64", False),
        ("cp312-cp312-manylinux_2_17_aarch64", False),
        ("cp312-cp312-win_amd64", False),
        ("pp310-pypy310_pp73-manylinux_2_17_x86_64", False),
        ("py2-none-any", False),
        ("py3-none-any", True),
        ("cp312-none-any", True),
        ("CP312-CP312-MANYLINUX_2_17_X86_64", True),  # tags compare case-insensitively
    ],
)
def test_linux_fits(tags: str, fits: bool) -> None:
    assert (target("3.12", "linux").tag_rank(tags) is not None) is fits


def test_macos_arm64() -> None:
    env = target("3.12", "macos")
    assert env.tag_rank("cp312-cp312-macosx_11_0_arm64") is not None
    assert env.tag_rank("cp312-cp312-macosx_10_9_universal2") is not None
    assert env.tag_rank("cp312-cp312-macosx_11_0_x86_64") is None
    assert env.tag_rank("cp312-cp312-macosx_14_0_arm64") is None  # newer than macOS 13
    assert env.tag_rank("cp312-cp312-manylinux_2_17_x86_64") is None


def test_macos_version_override() -> None:
    env = TargetEnvironment.create("3.12", "macos", macos_version=(14, 0))
    assert env.tag_rank("cp312-cp312-macosx_14_0_arm64") is not None
    older = TargetEnvironment.create("3.12", "macos", macos_version=(11, 0))
    assert older.tag_rank("cp312-cp312-macosx_12_0_arm64") is None


def test_macos_x86_64_takes_old_intel_wheels() -> None:
    env = target("3.12", "x86_64-apple-darwin")
    assert env.tag_rank("cp312-cp312-macosx_10_9_x86_64") is not None
    assert env.tag_rank("cp312-cp312-macosx_11_0_arm64") is None


def test_windows_tags() -> None:
    env = target("3.11", "windows")
    assert str(env.tags[0]) == "cp311-cp311-win_amd64"
    assert env.tag_rank("cp311-cp311-win_amd64") == 0
    assert env.tag_rank("cp311-cp311-win32") is None
    assert env.tag_rank("cp311-cp311-win_arm64") is None
    assert env.tag_rank("cp37-abi3-win_amd64") is not None
    win32 = target("3.11", "i686-pc-windows-msvc")
    assert win32.tag_rank("cp311-cp311-win32") == 0


def test_musl_target() -> None:
    env = target("3.12", "x86_64-unknown-linux-musl")
    assert env.tag_rank("cp312-cp312-musllinux_1_1_x86_64") is not None
    assert env.tag_rank("cp312-cp312-manylinux_2_17_x86_64") is None


def test_old_cpython_has_the_m_abi() -> None:
    env = target("3.7", "linux")
    assert str(env.tags[0]) == "cp37-cp37m-manylinux_2_28_x86_64"
    assert env.tag_rank("cp37-cp37m-manylinux1_x86_64") is not None
    assert env.tag_rank("cp37-cp37-manylinux1_x86_64") is None


@pytest.mark.parametrize("malformed", ["", "py3-none", "py3-none-any-extra", "not a tag"])
def test_malformed_tags_rank_none(malformed: str) -> None:
    assert target("3.12", "linux").tag_rank(malformed) is None


def test_tag_rank_cache_agrees_with_tags() -> None:
    env = target("3.12", "linux")
    tags = env.tags
    for rank, tag in enumerate(tags[:50]):
        assert env.tag_rank(str(tag)) == rank
        assert env.tag_rank(str(tag)) == rank  # served from the cache
    tags.clear()  # callers get a copy
    assert env.tags


def test_equality_ignores_caches() -> None:
    a, b = target("3.12", "linux"), target("3.12", "linux")
    a.tag_rank("py3-none-any")
    assert a == b
    assert hash(a) == hash(b)
    assert a != target("3.12", "x86_64-manylinux_2_17")
    assert str(a) == "CPython 3.12.0 on x86_64-unknown-linux-gnu"


# -- the running interpreter -------------------------------------------------------------------


def test_current_is_the_running_interpreter() -> None:
    env = TargetEnvironment.current()
    assert env.markers == dict(default_environment())
    assert env.tags == list(sys_tags())
    assert env.tag_rank("py3-none-any") is not None
    assert TargetEnvironment.create() == env


def test_python_version_alone_keeps_this_platform() -> None:
    env = TargetEnvironment.create("3.10")
    host = dict(default_environment())
    assert env.markers["python_version"] == "3.10"
    assert env.markers["python_full_version"] == "3.10.0"
    assert env.markers["sys_platform"] == host["sys_platform"]
    assert env.markers["platform_release"] == host["platform_release"]
    assert env.tags[0].interpreter == "cp310"
    assert env.tag_rank("cp310-none-any") is not None
    assert env.tag_rank("cp311-none-any") is None


def test_platform_alone_keeps_this_python() -> None:
    import sys

    env = TargetEnvironment.create(None, "windows")
    assert env.python_version[:2] == sys.version_info[:2]
    assert env.markers["sys_platform"] == "win32"


LINUX_312 = target("3.12", "linux")
CANDIDATE_TAGS = [
    "cp312-cp312-manylinux_2_17_x86_64",
    "cp312-cp312-manylinux2014_x86_64",
    "cp312-abi3-manylinux_2_28_x86_64",
    "cp39-abi3-linux_x86_64",
    "cp313-cp313-manylinux_2_17_x86_64",
    "py3-none-any",
    "py2-none-any",
    "cp312-cp312-win_amd64",
]


@given(st.lists(st.sampled_from(CANDIDATE_TAGS), min_size=1, max_size=4))
def test_compressed_rank_is_the_best_member(chosen: list[str]) -> None:
    # Compress the chosen tags as a wheel filename would (dotted sets per component).
    parts = [t.split("-") for t in chosen]
    compressed = "-".join(".".join(dict.fromkeys(p[i] for p in parts)) for i in range(3))
    expanded = {
        f"{i}-{a}-{p}"
        for i in compressed.split("-")[0].split(".")
        for a in compressed.split("-")[1].split(".")
        for p in compressed.split("-")[2].split(".")
    }
    ranks = [r for t in expanded if (r := LINUX_312.tag_rank(t)) is not None]
    assert LINUX_312.tag_rank(compressed) == (min(ranks) if ranks else None)
