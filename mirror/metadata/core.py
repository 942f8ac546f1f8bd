"""Core metadata as bytes → :class:`db.records.CoreMetadata`: parse, check, verify.

Pure functions, no I/O. The sources are a PEP 658 ``.metadata`` file, a wheel's
``*.dist-info/METADATA``, an sdist's ``PKG-INFO`` or the ``[project]`` table of its
``pyproject.toml`` (PEP 621). Everything here is lenient about encoding and strict about
identity: a file that does not say which distribution it describes, or says the wrong one,
is rejected with :class:`MetadataError`.
"""

from __future__ import annotations

import email.header
import email.message
import email.parser
import email.policy
import hashlib
import hmac
import re
from collections.abc import Mapping

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import Version

from db.canonical import canonical_name
from db.records import CoreMetadata
from db.versions import parse_version

__all__ = [
    "MetadataError",
    "check_hashers",
    "check_matches",
    "declares_dynamic",
    "hashers_for",
    "is_static",
    "metadata_from_pyproject",
    "parse_core_metadata",
    "verify_hash",
]


class MetadataError(ValueError):
    """Core metadata is missing, malformed, for another distribution, or fails its hash."""


# --- parsing -------------------------------------------------------------------------------


def _header_text(value: str | email.header.Header) -> str:
    """One header value as text, whatever bytes were on the wire.

    ``BytesParser`` decodes as ASCII with surrogateescape and hands back a ``Header`` object
    for any value holding non-ASCII bytes (the same dance ``packaging.metadata.parse_email``
    does). The core metadata spec says UTF-8; old tools wrote Latin-1 or cp1252, so a chunk
    that is not UTF-8 is read as Latin-1, which never fails.
    """
    if isinstance(value, str):
        text = value
    else:
        parts: list[str] = []
        for chunk, _charset in email.header.decode_header(value):
            raw = chunk if isinstance(chunk, bytes) else chunk.encode("utf-8", "surrogateescape")
            try:
                parts.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                parts.append(raw.decode("latin-1"))
        text = "".join(parts)
    # RFC 5322 §2.2.3 unfolding: a line break followed by whitespace is not part of the value.
    return " ".join(line.strip() for line in text.splitlines()).strip()


# A one-line field of printable ASCII (tabs allowed), named as RFC 5322 §3.6.8 allows.
_PLAIN_FIELD = re.compile(rb"[!-9;-~]+:[\t -~]*")
_Fields = Mapping[str, list[str]]


def _plain_fields(data: bytes) -> _Fields | None:
    """The header block's fields by lower-cased name, when every line of it is a plain
    one-line field; None otherwise (folded lines, CR, non-ASCII bytes, a line that is no
    field), which is left to the email parser. Nearly every wheel's METADATA qualifies, and
    reading it here is ten times faster; for these files both readings give the same values."""
    head, separator, _body = data.partition(b"\n\n")
    if not separator and head.endswith(b"\n"):
        head = head[:-1]
    fields: dict[str, list[str]] = {}
    for line in head.split(b"\n"):
        if _PLAIN_FIELD.fullmatch(line) is None:
            return None
        name, _, value = line.partition(b":")
        text = value.decode("ascii").strip(" \t")
        if text:
            fields.setdefault(name.decode("ascii").lower(), []).append(text)
    return fields


# The fields parse_core_metadata reads, by the lower-cased names _plain_fields keys on.
_FIELDS = (
    "name",
    "version",
    "metadata-version",
    "requires-dist",
    "requires-python",
    "provides-extra",
    "dynamic",
)


def _email_fields(data: bytes) -> _Fields:
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(data)
    fields: dict[str, list[str]] = {}
    for field in _FIELDS:
        texts = [text for text in map(_header_text, message.get_all(field) or []) if text]
        if texts:
            fields[field] = texts
    return fields


def _all(fields: _Fields, field: str) -> list[str]:
    return fields.get(field.lower(), [])


def _one(fields: _Fields, field: str, *, required: bool) -> str | None:
    values = _all(fields, field)
    if len(set(values)) > 1:
        # A file that names two different distributions (or versions) describes neither.
        raise MetadataError(f"core metadata has conflicting {field} fields: {values!r}")
    if values:
        return values[0]
    if required:
        raise MetadataError(f"core metadata has no {field} field")
    return None


def parse_core_metadata(data: bytes) -> CoreMetadata:
    """Parse a METADATA / PKG-INFO file (core metadata spec, any Metadata-Version).

    Uses ``BytesParser(policy=compat32)`` as pip and packaging do, so the quirks of real files
    (folded lines, CRLF, non-UTF-8 bytes, a body holding the description) parse the way
    installers see them. Only the fields resolution needs are kept; they stay raw strings
    (requirement and specifier syntax is the resolver's to judge). Name and Version are
    required (PEP 241 onwards); a missing Metadata-Version is kept as ``""`` so nothing is
    invented.
    """
    if not data.strip():
        raise MetadataError("core metadata is empty")
    fields = _plain_fields(data)
    if fields is None:
        fields = _email_fields(data)
    name = _one(fields, "Name", required=True)
    version = _one(fields, "Version", required=True)
    assert name is not None and version is not None
    return CoreMetadata(
        name=name,
        version=version,
        metadata_version=_one(fields, "Metadata-Version", required=False) or "",
        requires_dist=tuple(_all(fields, "Requires-Dist")),
        requires_python=_one(fields, "Requires-Python", required=False),
        provides_extra=tuple(_all(fields, "Provides-Extra")),
        dynamic=tuple(_all(fields, "Dynamic")),
    )


# --- identity and integrity ----------------------------------------------------------------


def _same_version(a: str, b: str) -> bool:
    parsed_a, parsed_b = parse_version(a), parse_version(b)
    if parsed_a is not None and parsed_b is not None:
        return parsed_a == parsed_b
    # Not PEP 440: compare raw, allowing for PEP 427's escaping of "-" as "_" in filenames.
    return a == b or a.replace("-", "_") == b.replace("-", "_")


def check_matches(meta: CoreMetadata, project: str, version: str) -> None:
    """Reject metadata whose Name or Version disagrees with the distribution's filename.

    Indexes have served another distribution's METADATA for a file (MIRROR.md, "Core
    metadata"). Names compare after PEP 503 normalisation, versions after PEP 440
    normalisation (``1.0`` == ``1.0.0``), or raw when either is not a valid version.
    """
    if canonical_name(meta.name) != canonical_name(project):
        raise MetadataError(
            f"metadata is for {meta.name!r}, but the file is for {project!r} (wrong dist?)"
        )
    if not _same_version(meta.version.strip(), version.strip()):
        raise MetadataError(
            f"metadata is for {meta.name} {meta.version!r}, but the file is version {version!r}"
        )


# SHAKE digests need a length, so a bare name cannot be checked with them.
_USABLE_HASHES = frozenset(
    name for name in hashlib.algorithms_available if not name.startswith("shake")
)


def hashers_for(expected: Mapping[str, str]) -> dict[str, hashlib._Hash]:
    """A fresh hasher for each algorithm named in ``expected`` that hashlib can compute, by
    its lowercased name (PEP 503/658 name digests by their hashlib name)."""
    names = {algorithm.lower() for algorithm in expected} & _USABLE_HASHES
    return {name: hashlib.new(name, usedforsecurity=False) for name in sorted(names)}


def check_hashers(hashers: Mapping[str, hashlib._Hash], expected: Mapping[str, str]) -> None:
    """Check the digests ``hashers`` computed (:func:`hashers_for` of ``expected``) against
    every digest in ``expected`` that hashlib can compute.

    An empty mapping means the index gave no hash and there is nothing to check. A non-empty
    mapping with no algorithm we can compute is an error: the file could not be verified, and
    silently accepting it would defeat the point of the hash.
    """
    if not expected:
        return
    checked = 0
    for algorithm, digest in sorted(expected.items()):
        name = algorithm.lower()
        if name not in _USABLE_HASHES:
            continue
        actual = hashers[name].hexdigest()
        if not hmac.compare_digest(actual, digest.strip().lower()):
            raise MetadataError(f"{name} mismatch: expected {digest}, got {actual}")
        checked += 1
    if not checked:
        raise MetadataError(f"cannot verify: no supported hash algorithm in {sorted(expected)}")


def verify_hash(data: bytes, expected: Mapping[str, str]) -> None:
    """Check ``data`` against every digest in ``expected`` that hashlib can compute
    (:func:`check_hashers`)."""
    hashers = hashers_for(expected)
    for hasher in hashers.values():
        hasher.update(data)
    check_hashers(hashers, expected)


# --- static metadata (PEP 643, PEP 621) ------------------------------------------------------

# The fields a resolver reads. PEP 643: in Metadata-Version 2.2+, a field not listed in
# Dynamic must have the same value in every wheel built from the sdist.
_RESOLUTION_FIELDS = frozenset({"requires-dist", "requires-python", "provides-extra"})
_FIRST_STATIC = Version("2.2")


def declares_dynamic(meta: CoreMetadata) -> bool:
    """Whether the file's Metadata-Version (2.2+) gives ``Dynamic`` its PEP 643 meaning.

    Before 2.2 the absence of ``Dynamic`` says nothing: any field may change at build time.
    """
    version = parse_version(meta.metadata_version.strip())
    return version is not None and version >= _FIRST_STATIC


def is_static(meta: CoreMetadata) -> bool:
    """Whether an sdist's PKG-INFO can stand in for its wheels' METADATA (PEP 643).

    It can when Metadata-Version is 2.2 or later and none of Requires-Dist, Requires-Python
    and Provides-Extra is Dynamic. PEP 643 forbids Name and Version in Dynamic; a file that
    lists them anyway is not trusted.
    """
    if not declares_dynamic(meta):
        return False
    dynamic = {field.strip().lower() for field in meta.dynamic}
    return not (dynamic & (_RESOLUTION_FIELDS | {"name", "version"}))


def _requirement(text: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as error:
        raise MetadataError(f"pyproject.toml: invalid requirement {text!r}: {error}") from None


def _extra_requirement(text: str, extra: str) -> str:
    """``text`` restricted to ``extra``, as backends write optional-dependencies (PEP 621)."""
    requirement = _requirement(text)
    marker = requirement.marker
    requirement.marker = None
    condition = f'extra == "{extra}"'
    if marker is not None:
        condition = f"({marker}) and {condition}"
    return f"{requirement}; {condition}"


def _string_list(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MetadataError(f"pyproject.toml: {where} is not a list of strings")
    return [item.strip() for item in value]


def metadata_from_pyproject(
    pyproject: Mapping[str, object], *, version: str | None = None
) -> CoreMetadata | None:
    """Core metadata from a static ``[project]`` table (PEP 621), or None if it is not static.

    Static means ``dependencies``, ``optional-dependencies`` and ``requires-python`` are not
    in ``dynamic``: PEP 621 then forbids the backend from adding to them, and a key that is
    absent means "none". ``version`` may be dynamic; the caller then passes the version from
    PKG-INFO. Extras are written the way backends do: ``Provides-Extra`` with its PEP 685
    normalised name and each requirement conditioned on ``extra == "name"``.
    :class:`MetadataError` is raised for a table that is static but malformed.
    """
    project = pyproject.get("project")
    if not isinstance(project, dict):
        return None
    dynamic = project.get("dynamic", [])
    if not isinstance(dynamic, list):
        raise MetadataError("pyproject.toml: project.dynamic is not a list")
    if {"name", "dependencies", "optional-dependencies", "requires-python"} & set(dynamic):
        return None
    name = project.get("name")
    if not isinstance(name, str) or not name.strip():
        raise MetadataError("pyproject.toml: project.name is missing")
    static_version = project.get("version")
    if "version" not in dynamic and isinstance(static_version, str):
        version = static_version
    if not version:
        return None
    requires_python = project.get("requires-python")
    if requires_python is not None and not isinstance(requires_python, str):
        raise MetadataError("pyproject.toml: project.requires-python is not a string")
    requires_dist = _string_list(project.get("dependencies", []), "project.dependencies")
    for text in requires_dist:
        _requirement(text)  # a backend would refuse to build with it, so refuse it here
    optional = project.get("optional-dependencies", {})
    if not isinstance(optional, dict):
        raise MetadataError("pyproject.toml: project.optional-dependencies is not a table")
    extras: list[str] = []
    for raw_extra, texts in optional.items():
        extra = canonical_name(raw_extra)
        extras.append(extra)
        where = f"project.optional-dependencies.{raw_extra}"
        requires_dist += [_extra_requirement(text, extra) for text in _string_list(texts, where)]
    return CoreMetadata(
        name=name.strip(),
        version=version.strip(),
        # The metadata a PEP 621 backend would write; 2.2 is the first where the absence of
        # Dynamic means "static", which is what this record asserts.
        metadata_version="2.2",
        requires_dist=tuple(requires_dist),
        requires_python=requires_python.strip() if requires_python else None,
        provides_extra=tuple(extras),
    )
