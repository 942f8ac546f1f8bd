"""Distribution filenames → project, version and wheel tags, without ever raising.

Index pages list files by name only; everything the resolver needs before it has core metadata
(which project, which version, which platforms) comes from the filename. Two forms are usable:

- wheels, per the binary distribution format spec (PEP 427, PEP 491):
  ``{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl``;
- sdists: ``{name}-{version}`` plus an archive suffix. PEP 625 names them ``.tar.gz`` with a
  normalised name, but older uploads use ``.zip``, ``.tar.bz2``, ``.tgz``, ``.tar``… and may have
  ``-`` in the name *and* in the version (``python-dateutil-2.8.2``, ``foo-1.0-1``), so the split
  is ambiguous without knowing the project: given its name, we split as pip does.

Anything else (``.egg``, ``.exe``, ``.msi``, ``.rpm``, a signature file…) is not installable by
pip or uv today: :func:`check_filename` says why, :func:`parse_filename` returns ``None``.
Versions that PEP 440 rejects are kept raw with ``version_valid=False``, never dropped here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from db.canonical import canonical_name
from db.versions import parse_version

__all__ = [
    "SDIST_SUFFIXES",
    "ParsedFilename",
    "UnsupportedFilename",
    "check_filename",
    "is_valid_version",
    "parse_filename",
]

# pip's archive suffixes (pip._internal.utils.filetypes), longest first so ``.tar.gz`` is tried
# before ``.gz`` could ever match. ``.tar.gz`` is the only one PEP 625 allows for new uploads.
SDIST_SUFFIXES: tuple[str, ...] = (
    ".tar.lzma",
    ".tar.bz2",
    ".tar.gz",
    ".tar.lz",
    ".tar.xz",
    ".tar",
    ".tbz",
    ".tgz",
    ".tlz",
    ".txz",
    ".zip",
)

# PEP 427: a build tag must start with a digit; it sorts wheels of the same version.
_BUILD_TAG = re.compile(r"\d[^-]*")
_TAG_PART = re.compile(r"[A-Za-z0-9_.]+")
# Fallback split for an sdist of an unknown project: the first ``-`` followed by a digit. It is
# right for ``foo-bar-1.0-1`` (legacy post release) where splitting at the last ``-`` is not.
_SDIST_FALLBACK = re.compile(r"^(?P<name>.+?)-(?P<version>\d.*)$")


@dataclass(frozen=True, slots=True)
class ParsedFilename:
    """What a distribution filename says.

    ``project`` is the PEP 503 canonical name; ``version`` is the raw text from the filename;
    ``tags`` is the compressed tag set (``cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64``)
    and ``build`` the PEP 427 build tag, both empty for an sdist.
    """

    filename: str
    project: str
    version: str
    version_valid: bool
    is_wheel: bool
    tags: str = ""
    build: str = ""


@dataclass(frozen=True, slots=True)
class UnsupportedFilename:
    """A filename that is not a wheel or sdist we can use, and why (for the sync's warnings).

    ``legacy`` marks the retired built-distribution formats (PEP 527: bdist_egg, bdist_wininst,
    bdist_msi, bdist_rpm, bdist_dmg): old releases list thousands of them, and pip and uv pass
    over them without a word, so a sync's summary counts them in one line.
    """

    filename: str
    reason: str
    legacy: bool = False

    @property
    def kind(self) -> str:
        """The warning kind (mirror.index_api.file_warnings.KINDS) of leaving this file out."""
        if self.legacy:
            return "ancient-format"
        return "unsafe-name" if self.reason == _NOT_PLAIN else "unknown-format"


# PEP 527 retired these upload formats; indexes still list the old files.
_LEGACY_BINARY_SUFFIXES = frozenset({"egg", "exe", "msi", "rpm", "dmg"})
_NOT_PLAIN = "not a plain file name"


def is_valid_version(version: str) -> bool:
    """Whether PEP 440 accepts ``version`` (after its own normalisation); the parse is
    :func:`db.versions.parse_version`'s, cached (a release's files repeat a few versions)."""
    return parse_version(version) is not None


def parse_filename(filename: str, project: str | None = None) -> ParsedFilename | None:
    """Parse a (possibly URL-quoted) distribution filename; ``None`` when it is not usable.

    ``project`` is the name of the project whose page listed the file (any spelling); it is
    only used to split legacy sdist names. See :func:`check_filename` for the reason on failure.
    """
    result = check_filename(filename, project)
    return result if isinstance(result, ParsedFilename) else None


def check_filename(
    filename: str, project: str | None = None
) -> ParsedFilename | UnsupportedFilename:
    """Like :func:`parse_filename`, but say why a filename is unusable instead of ``None``."""
    # Local versions arrive quoted (``1.0%2Bcpu``) from URLs and from some indexes' JSON.
    name = unquote(filename) if "%" in filename else filename
    name = name.strip()
    if not name or not _plain_file_name(name):
        return UnsupportedFilename(filename, _NOT_PLAIN)
    lower = name.lower()
    if lower.endswith(".whl"):
        return _parse_wheel(name)
    for suffix in SDIST_SUFFIXES:
        if lower.endswith(suffix):
            return _parse_sdist(name, name[: -len(suffix)], project)
    kind = name.rpartition(".")[2] if "." in name else ""
    what = f"'.{kind}' files" if kind else "files without a known suffix"
    legacy = kind.lower() in _LEGACY_BINARY_SUFFIXES
    return UnsupportedFilename(filename, f"{what} are neither wheels nor sdists", legacy)


def _plain_file_name(name: str) -> bool:
    """No directory part, drive, parent or hidden-file prefix, nor control characters: such a
    name would leave the directory `mirror serve` and `mirror download` put it in (a page may
    say ``..\\..\\evil.whl`` or ``%2Fetc%2F…``, decoded above)."""
    if name.startswith(".") or any(c in name for c in "/\\:"):
        return False
    return all(ord(c) >= 32 and ord(c) != 127 for c in name)


def _parse_wheel(filename: str) -> ParsedFilename | UnsupportedFilename:
    parts = filename[: -len(".whl")].split("-")
    if len(parts) not in (5, 6):
        return UnsupportedFilename(
            filename, f"a wheel name has 5 or 6 '-'-separated parts, this one has {len(parts)}"
        )
    name, version = parts[0], parts[1]
    build = parts[2] if len(parts) == 6 else ""
    tags = parts[-3:]
    if not name or not version:
        return UnsupportedFilename(filename, "the wheel name has an empty name or version")
    if build and not _BUILD_TAG.fullmatch(build):
        return UnsupportedFilename(filename, f"the build tag {build!r} does not start with a digit")
    if not all(_TAG_PART.fullmatch(tag) for tag in tags):
        return UnsupportedFilename(filename, f"malformed wheel tags {'-'.join(tags)!r}")
    # PEP 427 escapes ``-`` in the version as ``_``; PEP 440 reads ``_`` as a separator anyway,
    # so the raw text is kept and validated as is.
    return ParsedFilename(
        filename=filename,
        project=canonical_name(name),
        version=version,
        version_valid=is_valid_version(version),
        is_wheel=True,
        tags="-".join(tags),
        build=build,
    )


def _parse_sdist(
    filename: str, stem: str, project: str | None
) -> ParsedFilename | UnsupportedFilename:
    split = _split_with_project(stem, canonical_name(project)) if project else None
    if split is None:
        split = _split_without_project(stem)
    if split is None:
        return UnsupportedFilename(filename, "no '-' separates the name from the version")
    name, version = split
    return ParsedFilename(
        filename=filename,
        project=canonical_name(name),
        version=version,
        version_valid=is_valid_version(version),
        is_wheel=False,
    )


def _split_with_project(stem: str, project: str) -> tuple[str, str] | None:
    """Split at the ``-`` whose left side normalises to ``project``, as pip's
    ``_find_name_version_sep`` does: the only reliable way for ``foo-bar-1.0-1.tar.gz``."""
    for index, char in enumerate(stem):
        if char == "-" and canonical_name(stem[:index]) == project and index + 1 < len(stem):
            return stem[:index], stem[index + 1 :]
    return None


def _split_without_project(stem: str) -> tuple[str, str] | None:
    match = _SDIST_FALLBACK.match(stem)
    if match is not None:
        return match["name"], match["version"]
    name, _, version = stem.rpartition("-")
    return (name, version) if name and version else None
