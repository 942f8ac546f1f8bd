"""Core metadata: parsing, identity checks, hashes, static sdist metadata (PEP 643, PEP 621)."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import mirror.metadata.sdist
from db.records import CoreMetadata
from mirror.metadata import core as coremeta
from mirror.metadata.sdist import (
    MetadataError,
    check_matches,
    declares_dynamic,
    is_static,
    metadata_from_pyproject,
    parse_core_metadata,
    sdist_metadata,
    verify_hash,
)
from tests.fixtures.dists import build_metadata, build_sdist

# --- parse_core_metadata ---------------------------------------------------------------------


def test_parses_fields_resolution_needs() -> None:
    data = build_metadata(
        "Foo.Bar",
        "1.0.post1",
        requires_dist=["idna>=3", 'pysocks; extra == "socks"'],
        requires_python=">=3.9",
        provides_extra=["socks"],
    )
    assert parse_core_metadata(data) == CoreMetadata(
        name="Foo.Bar",
        version="1.0.post1",
        metadata_version="2.3",
        requires_dist=("idna>=3", 'pysocks; extra == "socks"'),
        requires_python=">=3.9",
        provides_extra=("socks",),
    )


def test_real_world_layout_folded_lines_crlf_and_body() -> None:
    data = (
        b"Metadata-Version: 2.1\r\n"
        b"Name: requests\r\n"
        b"Version: 2.31.0\r\n"
        b"Summary: Python HTTP for Humans.\r\n"
        b"License: Apache 2.0\r\n"
        b"        with a folded second line\r\n"
        b"Requires-Python: >=3.7\r\n"
        b"Requires-Dist: charset-normalizer\r\n"
        b"  <4,>=2\r\n"
        b"Requires-Dist: PySocks!=1.5.7,>=1.5.6 ; extra == 'socks'\r\n"
        b"Provides-Extra: socks\r\n"
        b"Description-Content-Type: text/markdown\r\n"
        b"\r\n"
        b"Requires-Dist: not-a-header\r\n"
        b"# Requests\r\n"
    )
    meta = parse_core_metadata(data)
    assert meta.name == "requests" and meta.version == "2.31.0"
    # Unfolded (RFC 5322 §2.2.3); the body is the description, not headers.
    assert meta.requires_dist == (
        "charset-normalizer <4,>=2",
        "PySocks!=1.5.7,>=1.5.6 ; extra == 'socks'",
    )
    assert meta.requires_python == ">=3.7"
    assert meta.provides_extra == ("socks",)


def test_non_utf8_bytes_are_decoded_leniently() -> None:
    data = (
        b"Metadata-Version: 1.2\n"
        b"Name: Caf\xe9\n"  # Latin-1
        b"Version: 1.0\n"
        b"Author: J\xc3\xb6rg\n"  # UTF-8
        b"Summary: \xff\xfe broken\n"
        b"Requires-Dist: six\n"
        b"\n"
        b"Description \x80\x81\n"
    )
    meta = parse_core_metadata(data)
    assert (meta.name, meta.version, meta.requires_dist) == ("Café", "1.0", ("six",))
    assert meta.metadata_version == "1.2"


def test_missing_metadata_version_is_kept_empty() -> None:
    assert parse_core_metadata(b"Name: x\nVersion: 1\n").metadata_version == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"Metadata-Version: 2.1\nVersion: 1.0\n", "no Name"),
        (b"Metadata-Version: 2.1\nName: x\n", "no Version"),
        (b"Metadata-Version: 2.1\nName:   \nVersion: 1\n", "no Name"),
        (b"Name: a\nName: b\nVersion: 1\n", "conflicting Name"),
        (b"<html><body>Sign in</body></html>", "no Name"),
    ],
)
def test_unusable_metadata_is_rejected(data: bytes, message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        parse_core_metadata(data)


# --- check_matches ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("project", "version"),
    [("foo-bar", "1.0"), ("Foo_Bar", "1.0.0"), ("foo.bar", "1.0"), ("FOO--bar", "v1.0")],
)
def test_matching_metadata_passes(project: str, version: str) -> None:
    check_matches(CoreMetadata("Foo.Bar", "1.0", "2.1"), project, version)


def test_invalid_versions_compare_raw() -> None:
    meta = CoreMetadata("x", "2004d-1", "1.0")
    check_matches(meta, "x", "2004d-1")
    check_matches(meta, "x", "2004d_1")  # PEP 427 escapes "-" in wheel filenames
    with pytest.raises(MetadataError, match="version"):
        check_matches(meta, "x", "2004e")


@pytest.mark.parametrize(
    ("project", "version", "message"),
    [
        ("other-dist", "1.0", "wrong dist"),
        ("foo-bar", "1.1", "version '1.1'"),
        ("foo-bar", "1.0.post1", "version"),
    ],
)
def test_wrong_dist_metadata_is_rejected(project: str, version: str, message: str) -> None:
    meta = parse_core_metadata(build_metadata("foo-bar", "1.0"))
    with pytest.raises(MetadataError, match=message):
        check_matches(meta, project, version)


# --- verify_hash -----------------------------------------------------------------------------

_DATA = build_metadata("x", "1")
_SHA256 = hashlib.sha256(_DATA).hexdigest()


@pytest.mark.parametrize(
    "expected",
    [
        {},
        {"sha256": _SHA256},
        {"SHA256": _SHA256.upper()},
        {"sha256": _SHA256, "md5": hashlib.md5(_DATA).hexdigest()},
        {"sha256": _SHA256, "blake9000": "whatever"},
    ],
)
def test_hash_matches(expected: dict[str, str]) -> None:
    verify_hash(_DATA, expected)


def test_hash_mismatch_names_algorithm_and_both_digests() -> None:
    wrong = "0" * 64
    with pytest.raises(MetadataError) as caught:
        verify_hash(_DATA, {"sha256": wrong})
    assert "sha256" in str(caught.value)
    assert wrong in str(caught.value) and _SHA256 in str(caught.value)


def test_hash_mismatch_in_any_algorithm_fails() -> None:
    with pytest.raises(MetadataError, match="sha512 mismatch"):
        verify_hash(_DATA, {"sha256": _SHA256, "sha512": "ab" * 64})


def test_unverifiable_hash_is_an_error() -> None:
    with pytest.raises(MetadataError, match="no supported hash algorithm"):
        verify_hash(_DATA, {"blake9000": "00"})


# --- PEP 643 / PEP 621 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata_version", "dynamic", "static"),
    [
        ("2.1", (), False),
        ("1.0", (), False),
        ("", (), False),
        ("garbage", (), False),
        ("2.2", (), True),
        ("2.4", ("License-Expression", "Summary"), True),
        ("2.2", ("Requires-Dist",), False),
        ("2.3", ("requires-python",), False),
        ("2.2", ("Provides-Extra",), False),
        ("2.2", ("Version",), False),
    ],
)
def test_is_static(metadata_version: str, dynamic: tuple[str, ...], static: bool) -> None:
    meta = CoreMetadata("x", "1", metadata_version, dynamic=dynamic)
    assert is_static(meta) is static
    assert declares_dynamic(meta) is (metadata_version in ("2.2", "2.3", "2.4"))


_STATIC_PYPROJECT = """
[build-system]
requires = ["hatchling"]

[project]
name = "demo"
version = "0.3"
requires-python = ">=3.10"
dependencies = ["attrs>=23", "tomli; python_version < '3.11'"]
dynamic = ["readme"]

[project.optional-dependencies]
Dev_Tools = ["pytest>=8", "mypy; platform_system != 'Windows' or python_version > '3.12'"]
"""


def test_static_pyproject_converts_like_a_backend() -> None:
    import tomllib

    meta = metadata_from_pyproject(tomllib.loads(_STATIC_PYPROJECT))
    assert meta == CoreMetadata(
        name="demo",
        version="0.3",
        metadata_version="2.2",
        requires_dist=(
            "attrs>=23",
            "tomli; python_version < '3.11'",
            'pytest>=8; extra == "dev-tools"',
            'mypy; (platform_system != "Windows" or python_version > "3.12") '
            'and extra == "dev-tools"',
        ),
        requires_python=">=3.10",
        provides_extra=("dev-tools",),
    )


@pytest.mark.parametrize(
    ("table", "version", "expected"),
    [
        ({}, None, None),
        ({"project": {"name": "x", "version": "1", "dynamic": ["dependencies"]}}, None, None),
        ({"project": {"name": "x", "dynamic": ["version"]}}, None, None),
        (
            {"project": {"name": "x", "dynamic": ["version"]}},
            "4.0",
            CoreMetadata("x", "4.0", "2.2"),
        ),
        ({"project": {"name": "x", "version": "1"}}, None, CoreMetadata("x", "1", "2.2")),
    ],
)
def test_pyproject_static_or_not(
    table: dict[str, object], version: str | None, expected: CoreMetadata | None
) -> None:
    assert metadata_from_pyproject(table, version=version) == expected


@pytest.mark.parametrize(
    ("project", "message"),
    [
        ({"version": "1"}, "name is missing"),
        ({"name": "x", "version": "1", "dependencies": "six"}, "not a list of strings"),
        ({"name": "x", "version": "1", "dependencies": ["six >>> 1"]}, "invalid requirement"),
        ({"name": "x", "version": "1", "optional-dependencies": {"a": ["b c"]}}, "invalid"),
        ({"name": "x", "version": "1", "requires-python": 3}, "requires-python"),
    ],
)
def test_malformed_static_pyproject(project: dict[str, object], message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        metadata_from_pyproject({"project": project})


# --- sdist_metadata --------------------------------------------------------------------------

FORMATS = ["tar.gz", "zip"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_sdist_static_pkg_info_is_usable(fmt: str) -> None:
    sdist = build_sdist(
        "demo",
        "1.0",
        requires_dist=["six"],
        requires_python=">=3.8",
        metadata_version="2.2",
        fmt=fmt,
    )
    meta = sdist_metadata(io.BytesIO(sdist.data), sdist.filename)
    assert meta == parse_core_metadata(sdist.metadata)
    assert meta is not None and meta.requires_dist == ("six",)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("metadata_version", "dynamic"),
    [("2.1", ()), ("1.0", ()), ("2.2", ("Requires-Dist",)), ("2.4", ("Requires-Python",))],
)
def test_sdist_dynamic_needs_a_build(
    fmt: str, metadata_version: str, dynamic: tuple[str, ...]
) -> None:
    sdist = build_sdist(
        "demo",
        "1.0",
        requires_dist=["six"],
        dynamic=dynamic,
        metadata_version=metadata_version,
        fmt=fmt,
    )
    assert sdist_metadata(io.BytesIO(sdist.data), sdist.filename) is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_sdist_old_pkg_info_with_static_pyproject(fmt: str) -> None:
    sdist = build_sdist("demo", "0.3", metadata_version="2.1", pyproject=_STATIC_PYPROJECT, fmt=fmt)
    meta = sdist_metadata(io.BytesIO(sdist.data), sdist.filename)
    assert meta is not None
    assert meta.requires_dist[0] == "attrs>=23" and meta.provides_extra == ("dev-tools",)


@pytest.mark.parametrize("fmt", FORMATS)
def test_sdist_pyproject_with_dynamic_dependencies_needs_a_build(fmt: str) -> None:
    pyproject = '[project]\nname = "demo"\nversion = "0.3"\ndynamic = ["dependencies"]\n'
    sdist = build_sdist("demo", "0.3", metadata_version="2.1", pyproject=pyproject, fmt=fmt)
    assert sdist_metadata(io.BytesIO(sdist.data), sdist.filename) is None


def test_sdist_dynamic_version_comes_from_pkg_info() -> None:
    pyproject = '[project]\nname = "demo"\ndynamic = ["version"]\ndependencies = ["six"]\n'
    sdist = build_sdist("demo", "7.1", metadata_version="2.1", pyproject=pyproject)
    meta = sdist_metadata(io.BytesIO(sdist.data), sdist.filename)
    assert meta is not None and (meta.version, meta.requires_dist) == ("7.1", ("six",))


def test_sdist_pep643_dynamic_wins_over_static_pyproject() -> None:
    # A 2.2+ backend that says Requires-Dist is dynamic is believed (PEP 643).
    sdist = build_sdist(
        "demo",
        "0.3",
        dynamic=["Requires-Dist"],
        metadata_version="2.2",
        pyproject=_STATIC_PYPROJECT,
    )
    assert sdist_metadata(io.BytesIO(sdist.data), sdist.filename) is None


def test_sdist_pkg_info_and_pyproject_disagreeing_on_name() -> None:
    sdist = build_sdist("other", "0.3", metadata_version="2.1", pyproject=_STATIC_PYPROJECT)
    with pytest.raises(MetadataError, match="PKG-INFO names 'other'"):
        sdist_metadata(io.BytesIO(sdist.data), sdist.filename)


def _tar(members: list[tuple[tarfile.TarInfo, bytes]], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            archive.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


_STATIC_PKG_INFO = build_metadata("demo", "1.0", requires_dist=["six"], metadata_version="2.2")


@pytest.mark.parametrize(
    "name",
    ["../PKG-INFO", "/abs/PKG-INFO", "demo-1.0/sub/PKG-INFO", "PKG-INFO", "demo-1.0//PKG-INFO"],
)
def test_sdist_path_tricks_are_ignored(name: str) -> None:
    data = _tar([(tarfile.TarInfo(name), _STATIC_PKG_INFO)])
    assert sdist_metadata(io.BytesIO(data), "demo-1.0.tar.gz") is None


def test_sdist_leading_dot_slash_is_fine() -> None:
    data = _tar([(tarfile.TarInfo("./demo-1.0/PKG-INFO"), _STATIC_PKG_INFO)])
    assert sdist_metadata(io.BytesIO(data), "demo-1.0.tar.gz") is not None


def test_sdist_symlinked_pkg_info_is_rejected() -> None:
    link = tarfile.TarInfo("demo-1.0/PKG-INFO")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(MetadataError, match="not a regular file"):
        sdist_metadata(io.BytesIO(_tar([(link, b"")])), "demo-1.0.tar.gz")


def test_sdist_duplicate_pkg_info_is_rejected() -> None:
    twice = [(tarfile.TarInfo("demo-1.0/PKG-INFO"), _STATIC_PKG_INFO) for _ in range(2)]
    with pytest.raises(MetadataError, match="duplicate"):
        sdist_metadata(io.BytesIO(_tar(twice)), "demo-1.0.tar.gz")


def test_sdist_root_named_like_the_file_wins() -> None:
    decoy = build_metadata("decoy", "9", metadata_version="2.2")
    data = _tar(
        [
            (tarfile.TarInfo("aaa/PKG-INFO"), decoy),
            (tarfile.TarInfo("demo-1.0/PKG-INFO"), _STATIC_PKG_INFO),
        ]
    )
    meta = sdist_metadata(io.BytesIO(data), "demo-1.0.tar.gz")
    assert meta is not None and meta.name == "demo"
    with pytest.raises(MetadataError, match="several top directories"):
        sdist_metadata(io.BytesIO(data), "renamed-1.0.tar.gz")


def test_sdist_giant_pkg_info_is_refused() -> None:
    huge = _STATIC_PKG_INFO + b"x" * mirror.metadata.sdist.MAX_PKG_INFO
    data = _tar([(tarfile.TarInfo("demo-1.0/PKG-INFO"), huge)])
    with pytest.raises(MetadataError, match=r"demo-1\.0/PKG-INFO is"):
        sdist_metadata(io.BytesIO(data), "demo-1.0.tar.gz")


def test_sdist_decompression_bomb_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mirror.metadata.sdist, "MAX_UNPACKED", 100_000)
    data = _tar(
        [
            (tarfile.TarInfo("demo-1.0/zeros.bin"), bytes(1_000_000)),
            (tarfile.TarInfo("demo-1.0/PKG-INFO"), _STATIC_PKG_INFO),
        ]
    )
    assert len(data) < 10_000
    with pytest.raises(MetadataError, match="more than the allowed size"):
        sdist_metadata(io.BytesIO(data), "demo-1.0.tar.gz")


@pytest.mark.parametrize(("mode", "filename"), [("w:bz2", "demo-1.0.tar.bz2"), ("w:xz", "x.zip")])
def test_sdist_compression_is_detected_by_content(mode: str, filename: str) -> None:
    data = _tar([(tarfile.TarInfo("demo-1.0/PKG-INFO"), _STATIC_PKG_INFO)], mode)
    meta = sdist_metadata(io.BytesIO(data), filename)
    assert meta is not None and meta.requires_dist == ("six",)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[: len(d) // 2],
        lambda d: b"\x1f\x8b" + b"garbage" * 20,
        lambda d: b"PK\x03\x04" + b"garbage" * 20,
        lambda d: b"plain garbage" * 100,
    ],
)
def test_corrupt_sdist_is_a_clear_error(damage: object) -> None:
    sdist = build_sdist("demo", "1.0", metadata_version="2.2")
    assert callable(damage)
    with pytest.raises(MetadataError, match=r"demo-1\.0\.tar\.gz: "):
        sdist_metadata(io.BytesIO(damage(sdist.data)), sdist.filename)


def test_zip_sdist_with_directory_entry_named_pkg_info() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("demo-1.0/PKG-INFO/", b"")
    assert sdist_metadata(io.BytesIO(buffer.getvalue()), "demo-1.0.zip") is None


# --- the plain-field reader agrees with the email parser ------------------------------------

_FIELD_PIECES = [
    b"Name", b"name", b"Version", b"Requires-Dist", b"Provides-Extra", b"Dynamic",
    b"Metadata-Version", b"Requires-Python", b"Summary", b"From ", b"X",
    b":", b": ", b" ", b"\t", b"\n", b"\n\n", b"\r\n", b"\r", b"\x0c", b"\xc3\xa9", b"\xe9",
    b"foo", b"bar>=1.0", b"; extra == 'x'", b"=?utf-8?q?x?=", b"1.0", b"",
]  # fmt: skip


@given(st.lists(st.sampled_from(_FIELD_PIECES), max_size=30).map(b"".join))
@example(b"Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nRequires-Dist: bar\n\nbody\n")
@example(b"Name: foo\n Version: 1.0\n")
@example(b"Name:foo\nName: foo \n")
@example(b"Name: foo\nno field here\nVersion: 1.0\n")
def test_plain_fields_read_as_the_email_parser_does(data: bytes) -> None:
    plain = coremeta._plain_fields(data)
    if plain is not None:
        wanted = {name: values for name, values in plain.items() if name in coremeta._FIELDS}
        assert wanted == coremeta._email_fields(data)
