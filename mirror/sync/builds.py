"""Metadata builds during a sync (MIRROR.md, "Core metadata"): each sdist whose metadata is
dynamic is fetched (within file-bytes), unpacked (under the sdist guards), its build
requirements made ready offline (:mod:`mirror.sync.build_requirements`) and its metadata built
in an isolated environment (:mod:`mirror.metadata.build`), ``jobs`` files at a time.

A file's outcome is recorded once, when its build has ended: ``built`` with its provenance, or
``needs-build`` with the reason the build failed — never a half-done row. Built metadata joins
the closure like any other (the syncer follows its Requires-Dist).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping
from pathlib import Path

from db.canonical import canonical_json
from db.records import DistFile
from mirror.metadata.build import (
    BuildFailed,
    BuildSettings,
    build_metadata,
    build_system,
    stop_running_builds,
)
from mirror.metadata.fetch import MetadataOutcome, accept_metadata, check_distribution
from mirror.metadata.sdist import MetadataError, unpack_sdist
from mirror.metadata.spool import Spool
from mirror.sources.protocol import IndexSource
from mirror.sync.build_requirements import BuildRequirements

__all__ = ["Builds"]

#: Builds at once by default: each is a venv and a backend process; two keep a small machine
#: responsive while the network side goes on.
DEFAULT_JOBS = 2


class Builds:
    """The sync's metadata builds (a :class:`mirror.sync.syncer.MetadataBuilder`)."""

    def __init__(
        self,
        sources: Mapping[int, IndexSource],
        requirements: BuildRequirements,
        settings: BuildSettings,
        jobs: int = DEFAULT_JOBS,
    ) -> None:
        self.sources = sources
        self.requirements = requirements
        self.settings = settings
        self._jobs = asyncio.Semaphore(max(1, jobs))

    async def build(self, index_id: int, dist: DistFile) -> MetadataOutcome:
        """Build ``dist``'s metadata (``jobs`` builds at once): ``built`` with its provenance,
        or ``needs-build`` with why the build failed."""
        async with self._jobs:
            with tempfile.TemporaryDirectory(prefix="sneakernet-build-") as scratch:
                try:
                    return await self._build(index_id, dist, Path(scratch))
                except asyncio.CancelledError:  # interrupted: end the backends, not wait
                    stop_running_builds()
                    raise
                except (BuildFailed, MetadataError, OSError) as exc:
                    return MetadataOutcome("needs-build", error=f"metadata build failed: {exc}")
                except Exception as exc:  # a failed build is data, never the sync's end
                    error = f"metadata build failed: {type(exc).__name__}: {exc}"
                    return MetadataOutcome("needs-build", error=error)

    async def _build(self, index_id: int, dist: DistFile, scratch: Path) -> MetadataOutcome:
        unpacked = scratch / "src"
        unpacked.mkdir()
        with Spool(dict(dist.hashes)) as spool:
            await self.sources[index_id].fetch_file(dist, spool)
            check_distribution(spool.hashers, spool.size, dist)
            nbytes = spool.size
            source = await asyncio.to_thread(unpack_sdist, spool.rewound(), dist.filename, unpacked)
        system = await asyncio.to_thread(build_system, source)
        pins: list[str] = []
        wheelhouse = scratch / "wheels"
        if system.requires:
            wheelhouse.mkdir()
            pins = await self.requirements.prepare(system.requires, wheelhouse)
        raw = await asyncio.to_thread(
            build_metadata, source, dist.project, pins, wheelhouse, self.settings
        )
        outcome = accept_metadata(raw, "built", dist, nbytes, None)
        if outcome.parsed is None:
            error = f"metadata build failed: the built metadata: {outcome.error}"
            return MetadataOutcome("needs-build", error=error)
        provenance = canonical_json({"backend": system.backend, "requires": sorted(pins)})
        return MetadataOutcome(
            "built", raw=raw, parsed=outcome.parsed, bytes_fetched=nbytes, build=provenance
        )
