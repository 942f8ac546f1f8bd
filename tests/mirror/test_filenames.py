"""Distribution filename parsing: wheels, modern and legacy sdists, unsupported kinds."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from db.canonical import canonical_name
from mirror.index_api.filenames import (
    SDIST_SUFFIXES,
    ParsedFilename,
    UnsupportedFilename,
    check_filename,
    is_valid_version,
    parse_filename,
)


def test_wheel_with_compressed_tags() -> None:
    name = "numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    assert parse_filename(name) == ParsedFilename(
        filename=name,
        project="numpy",
        version="2.1.0",
        version_valid=True,
        is_wheel=True,
        tags="cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
    )


def test_wheel_build_tag_and_escaped_name() -> None:
    parsed = parse_filename("Foo_Bar-1.0-1local-py2.py3-none-any.whl")
    assert parsed is not None
    assert (parsed.project, parsed.version, parsed.build, parsed.tags) == (
        "foo-bar",
        "1.0",
        "1local",
        "py2.py3-none-any",
    )


@pytest.mark.parametrize(
    ("filename", "reason"),
    [
        ("foo-1.0-none-any.whl", "5 or 6"),
        ("foo-1.0-x-y-py3-none-any.whl", "5 or 6"),
        ("foo-1.0-abc-py3-none-any.whl", "build tag"),
        ("foo-1.0-py3-none-an!y.whl", "malformed wheel tags"),
        ("-1.0-py3-none-any.whl", "empty"),
    ],
)
def test_malformed_wheel_names_are_unsupported(filename: str, reason: str) -> None:
    result = check_filename(filename, "foo")
    assert isinstance(result, UnsupportedFilename)
    assert reason in result.reason
    assert parse_filename(filename, "foo") is None


@pytest.mark.parametrize(
    ("filename", "project", "expected_project", "version"),
    [
        ("foo-1.0.tar.gz", None, "foo", "1.0"),
        ("foo_bar-1.0.tar.gz", None, "foo-bar", "1.0"),  # PEP 625 normalised name
        ("Foo-Bar-2.0.zip", "foo-bar", "foo-bar", "2.0"),
        ("python-dateutil-2.8.2.tar.gz", "python_dateutil", "python-dateutil", "2.8.2"),
        ("foo-bar-1.0-1.tar.bz2", "Foo.Bar", "foo-bar", "1.0-1"),  # legacy post release
        ("foo-bar-1.0-1.tar.bz2", None, "foo-bar", "1.0-1"),  # fallback: first -<digit>
        ("foo-1.0.tgz", "foo", "foo", "1.0"),
        ("foo-1.0.tar", "foo", "foo", "1.0"),
        ("foo-1.0.tar.xz", "foo", "foo", "1.0"),
        ("foo-1.0.ZIP", "foo", "foo", "1.0"),
        # the page's project does not prefix the file: split without it
        ("other-3.tar.gz", "foo", "other", "3"),
        ("foo-dev.tar.gz", None, "foo", "dev"),  # no digit: split at the last '-'
    ],
)
def test_sdists(filename: str, project: str | None, expected_project: str, version: str) -> None:
    parsed = parse_filename(filename, project)
    assert parsed is not None
    assert (parsed.project, parsed.version, parsed.is_wheel, parsed.tags) == (
        expected_project,
        version,
        False,
        "",
    )


def test_known_project_decides_an_ambiguous_split() -> None:
    # Without the project the split is a guess; pip uses the project name, and so do we.
    assert parse_filename("foo-2fa-1.0.tar.gz", "foo-2fa") == parse_filename(
        "foo-2fa-1.0.tar.gz", "Foo_2FA"
    )
    parsed = parse_filename("foo-2fa-1.0.tar.gz", "foo-2fa")
    assert parsed is not None and (parsed.project, parsed.version) == ("foo-2fa", "1.0")


def test_url_quoted_local_version() -> None:
    parsed = parse_filename("torch-2.3.0%2Bcpu-cp311-cp311-linux_x86_64.whl")
    assert parsed is not None
    assert parsed.filename == "torch-2.3.0+cpu-cp311-cp311-linux_x86_64.whl"
    assert (parsed.version, parsed.version_valid) == ("2.3.0+cpu", True)
    sdist = parse_filename("foo-1.0%2Blocal.tar.gz", "foo")
    assert sdist is not None and sdist.version == "1.0+local"


@pytest.mark.parametrize(
    "filename",
    ["foo-latest.tar.gz", "foo-2004d-py3-none-any.whl", "foo-1.0.0.0.0-beta-final.zip"],
)
def test_invalid_versions_are_kept_raw(filename: str) -> None:
    parsed = parse_filename(filename, "foo")
    assert parsed is not None
    assert parsed.version_valid is False
    assert parsed.version in filename


@pytest.mark.parametrize(
    "filename",
    [
        "foo-1.0-py2.7.egg",
        "foo-1.0.win32.exe",
        "foo-1.0.msi",
        "foo-1.0-1.noarch.rpm",
        "foo-1.0.tar.gz.asc",
        "foo-1.0-py3-none-any.whl.metadata",
        "README",
        "",
        "dir/foo-1.0.tar.gz",
        "foo.tar.gz",
    ],
)
def test_unsupported(filename: str) -> None:
    assert parse_filename(filename, "foo") is None
    assert isinstance(check_filename(filename, "foo"), UnsupportedFilename)


def test_is_valid_version() -> None:
    assert is_valid_version("1.0.post1.dev2+abc.1")
    assert is_valid_version("1.0_rc1")  # PEP 440 normalisation accepts '_'
    assert not is_valid_version("1.0-foo-bar")


# --- properties: every generated valid name round-trips --------------------------------------

_names = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,12}[A-Za-z0-9])?", fullmatch=True)
_local = st.from_regex(r"[a-z0-9]{1,4}(\.[a-z0-9]{1,4}){0,2}", fullmatch=True)


@st.composite
def _versions(draw: st.DrawFn) -> str:
    text = ".".join(str(n) for n in draw(st.lists(st.integers(0, 999), min_size=1, max_size=4)))
    if draw(st.booleans()):
        text += draw(st.sampled_from(["a", "b", "rc"])) + str(draw(st.integers(0, 20)))
    if draw(st.booleans()):
        text += ".post" + str(draw(st.integers(0, 20)))
    if draw(st.booleans()):
        text += ".dev" + str(draw(st.integers(0, 20)))
    if draw(st.booleans()):
        text += "+" + draw(_local)
    return text


@given(
    name=_names,
    version=_versions(),
    build=st.sampled_from(["", "1", "2_x"]),
    tags=st.sampled_from(["py3-none-any", "cp312-abi3-macosx_11_0_arm64.macosx_11_0_x86_64"]),
    quoted=st.booleans(),
)
def test_wheel_round_trip(name: str, version: str, build: str, tags: str, quoted: bool) -> None:
    escaped = canonical_name(name).replace("-", "_")  # the binary distribution format's escaping
    filename = "-".join(p for p in (escaped, version, build, tags) if p) + ".whl"
    parsed = parse_filename(quote(filename) if quoted else filename, name)
    assert parsed == ParsedFilename(
        filename=filename,
        project=canonical_name(name),
        version=version,
        version_valid=True,
        is_wheel=True,
        tags=tags,
        build=build,
    )
    assert Version(parsed.version) == Version(version)


@given(name=_names, version=_versions(), suffix=st.sampled_from(SDIST_SUFFIXES))
def test_sdist_round_trip_with_known_project(name: str, version: str, suffix: str) -> None:
    # Legacy names keep their '-' and the version may use '-' for post releases: only the
    # project name makes the split certain.
    legacy_version = version.replace(".post", "-", 1)
    parsed = parse_filename(f"{name}-{legacy_version}{suffix}", canonical_name(name))
    assert parsed is not None
    assert (parsed.project, parsed.version, parsed.version_valid) == (
        canonical_name(name),
        legacy_version,
        True,
    )


@given(st.text(max_size=60), st.one_of(st.none(), st.text(max_size=20)))
def test_never_raises(filename: str, project: str | None) -> None:
    result = check_filename(filename, project)
    assert isinstance(result, ParsedFilename | UnsupportedFilename)
