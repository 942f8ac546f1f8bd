"""An sdist's build requirements (PEP 518 ``build-system.requires``), made ready to install
offline: synced into the snapshot being built, resolved there by the project's own resolver for
the interpreter that runs the build, and their wheels fetched from the configured indexes into
a wheelhouse the isolated build installs from (:mod:`mirror.metadata.build`).

The resolution is a closure sync's (:func:`mirror.sync.resolved_closure.resolve_closure`): the
resolver runs against the building snapshot and the sync fetches what it asks for, under the
stored rules, so a build requirement comes from the index the rules give it. Wheels only
(``--only-binary :all:``): a build requirement that is itself an sdist would need a build of
its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from db.index_config import IndexConfig
from mirror.download.fetch import Outcome, download_all
from mirror.download.plan import DownloadItem, check_target_name
from mirror.download.target_files import target_files
from mirror.http.client import IndexClient
from mirror.index_api.urls import path_from_file_url
from mirror.metadata.build import BuildFailed
from mirror.sync.syncer import Syncer
from resolve.candidates.judge import BinaryPolicy, Target
from resolve.inputs.requirements import InputError, parse_requirement
from resolve.targets.environment import TargetEnvironment

if TYPE_CHECKING:
    from resolve.lock.writers import Lock

__all__ = ["BuildRequirements"]


class BuildRequirements:
    """Build requirements against one building snapshot, through the sync's fetch."""

    def __init__(
        self,
        database: str,
        syncer: Syncer,
        indexes: Sequence[IndexConfig],
        client: IndexClient | None,
    ) -> None:
        self.database = database
        self.syncer = syncer
        self.indexes = {i.name: i for i in indexes}
        self.client = client
        # One resolution at a time: each may sync more into the snapshot.
        self._lock = asyncio.Lock()
        self.target = Target(TargetEnvironment.current(), BinaryPolicy(frozenset({":all:"})))

    async def prepare(self, requires: Sequence[str], wheelhouse: Path) -> list[str]:
        """The pins (``name==version``) that satisfy ``requires`` here, their wheels in
        ``wheelhouse``; BuildFailed naming what could not be had."""
        try:
            inputs = [parse_requirement(r) for r in requires]
        except InputError as exc:
            raise BuildFailed(f"build requirement: {exc.render()}") from None
        # Imported here for start-up time: the resolver loads when a build has requirements.
        from mirror.sync.resolved_closure import resolve_closure

        async with self._lock:
            report = await resolve_closure(self.syncer, self.database, inputs, [self.target])
        lock = report.locks.get(str(self.target.environment))
        if lock is None:
            why = report.still_missing or list(report.unresolved.values())
            raise BuildFailed(
                f"build requirements {', '.join(requires)} do not resolve: {'; '.join(why)}"
            )
        await self._download(lock, wheelhouse)
        return [f"{p.name}=={p.version}" for p in lock.packages]

    async def _download(self, lock: Lock, wheelhouse: Path) -> None:
        items = [
            DownloadItem(
                f.filename,
                f.url,
                f.sha256,
                f.size,
                f"{p.name}=={p.version}",
                self.indexes.get(p.index_name),
                p.index_url,
            )
            for p in lock.packages
            for f in p.files
            if f.sha256 and f.is_wheel and check_target_name(f.filename) is None
        ]
        wanted = target_files(items, [self.target.environment])
        local = [i for i in wanted if i.url.startswith("file:")]
        remote = [i for i in wanted if not i.url.startswith("file:")]
        for item in local:
            await asyncio.to_thread(_copy_checked, item, wheelhouse)
        if remote:
            if self.client is None:
                raise BuildFailed("build requirements on an HTTP index, but no HTTP client")
            results = await download_all(remote, wheelhouse, self.client)
            failed = [
                f"{r.item.filename}: {r.error}" for r in results if r.outcome is Outcome.FAILED
            ]
            if failed:
                raise BuildFailed(f"build requirement download failed: {'; '.join(failed)}")


def _copy_checked(item: DownloadItem, wheelhouse: Path) -> None:
    """A wheel from a ``file://`` index, copied in after its sha256 matched."""
    source = path_from_file_url(item.url)
    with source.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    if digest != item.sha256:
        raise BuildFailed(f"{item.filename}: sha256 {digest}, the page says {item.sha256}")
    shutil.copyfile(source, wheelhouse / item.filename)
