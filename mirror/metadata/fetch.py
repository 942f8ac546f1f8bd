"""Getting one file's core metadata, cheapest way first (MIRROR.md, "Core metadata"):

1. the PEP 658/714 ``.metadata`` file, hash-checked and name/version-checked;
2. for a wheel, a ranged read of ``*.dist-info/METADATA`` (falling back to downloading the
   wheel when the index ignores ``Range``);
3. for an sdist, static PKG-INFO (PEP 643), else "needs a build".

A wrong ``.metadata`` file (hash mismatch, another distribution's metadata) is not trusted: the
distribution itself is read instead, and the reason is kept.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from db.records import CoreMetadata, DistFile
from mirror.index_api.urls import path_from_file_url
from mirror.metadata.core import check_hashers
from mirror.metadata.sdist import (
    MetadataError,
    check_matches,
    declares_dynamic,
    is_static,
    metadata_from_wheel_file,
    parse_core_metadata,
    sdist_metadata,
    verify_hash,
)
from mirror.metadata.spool import Spool, hash_file

__all__ = [
    "MetadataOutcome",
    "RemoteReader",
    "accept_metadata",
    "check_distribution",
    "metadata_from_local_file",
    "metadata_from_remote",
]


@dataclass(frozen=True, slots=True)
class MetadataOutcome:
    """Core metadata for one file, or why there is none.

    ``source``: pep658 | range | download | sdist-static | built when ``parsed`` is set;
    needs-build (an sdist whose dependencies are dynamic) or invalid (with ``error``) otherwise.
    ``build``: a built one's provenance (canonical JSON, ``snapshot_metadata.build``).
    """

    source: str
    raw: bytes | None = None
    parsed: CoreMetadata | None = None
    error: str | None = None
    bytes_fetched: int = 0
    build: str | None = None


class RemoteReader(Protocol):
    """The HTTP operations metadata fetching needs (implemented over the shared client)."""

    async def fetch_metadata_file(self, url: str) -> bytes:
        """A PEP 658 ``.metadata`` file, whole, within the metadata-bytes limit."""
        ...

    async def wheel_metadata_by_range(
        self, dist: DistFile, whole: Spool
    ) -> tuple[bytes, int] | None:
        """(METADATA bytes, bytes transferred) by ranged reads; None when the index does not
        honour Range. A whole file sent instead of a range goes into ``whole``, marked
        complete."""
        ...

    async def fetch_file(self, dist: DistFile, into: Spool) -> None:
        """The whole distribution file into ``into``, unless it already holds it complete
        (with the published size)."""
        ...


def accept_metadata(
    raw: bytes, source: str, dist: DistFile, nbytes: int, note: str | None
) -> MetadataOutcome:
    """``raw`` as ``dist``'s core metadata if it parses and names its project and version."""
    try:
        parsed = parse_core_metadata(raw)
        check_matches(parsed, dist.project, dist.version)
    except MetadataError as exc:
        return MetadataOutcome("invalid", error=f"{source} metadata: {exc}", bytes_fetched=nbytes)
    return MetadataOutcome(source, raw=raw, parsed=parsed, error=note, bytes_fetched=nbytes)


def _from_pep658(raw: bytes, dist: DistFile, nbytes: int) -> MetadataOutcome | str:
    """The outcome of a hash-checked PEP 658 file, or why the distribution must be read instead.

    An sdist's PEP 658 file is its PKG-INFO, usable only when static (PEP 643, MIRROR.md "Core
    metadata" 3): one that declares its dependencies dynamic needs a build, whatever else the
    archive holds; one older than Metadata-Version 2.2 says nothing, so the sdist is read (its
    pyproject.toml may be static).
    """
    outcome = accept_metadata(raw, "pep658", dist, nbytes, None)
    if outcome.parsed is None:
        return outcome.error or "PEP 658 metadata rejected"
    if dist.is_wheel or is_static(outcome.parsed):
        return outcome
    if declares_dynamic(outcome.parsed):
        return MetadataOutcome(
            "needs-build",
            error="the sdist's PEP 658 metadata declares its dependencies dynamic (PEP 643)",
            bytes_fetched=nbytes,
        )
    return "the sdist's PEP 658 metadata predates Metadata-Version 2.2: reading the sdist"


def check_distribution(hashers: Mapping[str, hashlib._Hash], size: int, dist: DistFile) -> None:
    """A downloaded distribution must match the hashes its page gave (PEP 503)."""
    if dist.hashes:
        check_hashers(hashers, dict(dist.hashes))
    if dist.size is not None and size != dist.size:
        raise MetadataError(f"{dist.filename}: got {size} bytes, the page says {dist.size}")


def _from_distribution(
    file: IO[bytes],
    hashers: Mapping[str, hashlib._Hash],
    size: int,
    dist: DistFile,
    *,
    nbytes: int,
    note: str | None,
) -> MetadataOutcome:
    """Core metadata out of the whole distribution ``file`` (``size`` bytes, read from its
    start), whose digests ``hashers`` computed as it was written or read."""
    try:
        check_distribution(hashers, size, dist)
        if dist.is_wheel:
            return accept_metadata(
                metadata_from_wheel_file(file, dist.project), "download", dist, nbytes, note
            )
        static = sdist_metadata(file, dist.filename)
    except MetadataError as exc:
        return MetadataOutcome("invalid", error=str(exc), bytes_fetched=nbytes)
    if static is None:
        return MetadataOutcome(
            "needs-build",
            error="the sdist declares its dependencies dynamic (or predates Metadata 2.2)",
            bytes_fetched=nbytes,
        )
    try:
        check_matches(static, dist.project, dist.version)
    except MetadataError as exc:
        return MetadataOutcome("invalid", error=str(exc), bytes_fetched=nbytes)
    raw = _pkg_info_bytes(static)
    return MetadataOutcome("sdist-static", raw=raw, parsed=static, error=note, bytes_fetched=nbytes)


def _pkg_info_bytes(meta: CoreMetadata) -> bytes:
    """A canonical METADATA rendering of static sdist metadata, stored as its raw record."""
    lines = [
        f"Metadata-Version: {meta.metadata_version}",
        f"Name: {meta.name}",
        f"Version: {meta.version}",
    ]
    if meta.requires_python:
        lines.append(f"Requires-Python: {meta.requires_python}")
    lines += [f"Provides-Extra: {e}" for e in meta.provides_extra]
    lines += [f"Requires-Dist: {r}" for r in meta.requires_dist]
    return ("\n".join(lines) + "\n").encode()


async def metadata_from_remote(dist: DistFile, reader: RemoteReader) -> MetadataOutcome:
    note: str | None = None
    fetched = 0
    if dist.core_metadata is not None:
        try:
            raw = await reader.fetch_metadata_file(dist.url + ".metadata")
            fetched += len(raw)
            verify_hash(raw, dict(dist.core_metadata))
            verdict = _from_pep658(raw, dist, fetched)
            if isinstance(verdict, MetadataOutcome):
                return verdict
            note = verdict
        except MetadataError as exc:
            note = f"PEP 658 metadata rejected: {exc}"
        except Exception as exc:  # the distribution itself is the fallback
            note = f"PEP 658 metadata unavailable: {exc}"
    # The whole file, when it must be read, goes to disk as it arrives: it may weigh up to
    # file-bytes, and several are fetched at once.
    with Spool(dict(dist.hashes)) as whole:
        if dist.is_wheel:
            ranged = await reader.wheel_metadata_by_range(dist, whole)
            if ranged is not None:
                return accept_metadata(ranged[0], "range", dist, fetched + ranged[1], note)
        await reader.fetch_file(dist, whole)
        return _from_distribution(
            whole.rewound(),
            whole.hashers,
            whole.size,
            dist,
            nbytes=fetched + whole.size,
            note=note,
        )


def metadata_from_local_file(dist: DistFile) -> MetadataOutcome:
    """The same steps for a ``file://`` distribution: a ``.metadata`` sidecar, else the file."""
    path = path_from_file_url(dist.url)
    note = None
    sidecar = Path(str(path) + ".metadata")
    if dist.core_metadata is not None and sidecar.is_file():
        raw = sidecar.read_bytes()
        try:
            verify_hash(raw, dict(dist.core_metadata))
            verdict = _from_pep658(raw, dist, len(raw))
            if isinstance(verdict, MetadataOutcome):
                return verdict
            note = verdict
        except MetadataError as exc:
            note = f"PEP 658 metadata rejected: {exc}"
    if not path.is_file():
        return MetadataOutcome("invalid", error=f"{path} does not exist")
    with path.open("rb") as file:  # read where it lies: it may weigh up to file-bytes
        size = os.fstat(file.fileno()).st_size
        hashers = hash_file(file, dict(dist.hashes))
        return _from_distribution(file, hashers, size, dist, nbytes=size, note=note)
