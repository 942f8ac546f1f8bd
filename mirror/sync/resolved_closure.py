"""The closure a resolution needs, fetched while the resolver runs (MIRROR.md, "Sync
behaviour": ``mirror sync --closure``).

For every target the real resolver (:func:`resolve.pipeline.resolve_once`) runs on a thread of
its own against the snapshot being built, with a :class:`resolve.candidates.fetching.Fetcher`
that asks the sync's event loop for what the snapshot still lacks: a project's pages when the
solver first names it, a version's core metadata when the solver first needs it; and, ahead of
the solver, the pages of every dependency it has just seen and the metadata of the version it
would choose for each (uv's look-ahead), so the network stays busy while the solver waits.

One pass over the targets is the fixed point: every answer the provider gives that depends
on a version's metadata (its dependencies, whether a stable release usable on the target
exists) is given after that metadata was fetched, so what is fetched later — for another
target, or ahead of the solver — never changes an answer given earlier, and an offline
``resolve`` asks the finished snapshot the same questions and gets the same answers. Run again
against an unchanged index, the sync refetches each page the solver names, finds the metadata
of the files still listed carried over (:mod:`db.write.snapshot_writer`), and fetches no
metadata: the digest does not change.

The building snapshot holds only what this run fetched: the projects carried over from the
base join it at completion (:mod:`db.write.carry`). So a project the resolution reaches is
fetched again here, never taken unrefreshed from the base.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from db.read.snapshot_reader import SnapshotReader
from mirror.sync.syncer import Syncer
from resolve.candidates.project import Target
from resolve.inputs.requirements import InputRequirement
from resolve.lock.writers import Lock
from resolve.pipeline import resolve_once, stored_rules
from resolve.report.derivation import sentences

__all__ = ["ClosureReport", "resolve_closure"]

_T = TypeVar("_T")


@dataclass(slots=True)
class ClosureReport:
    rounds: int = 0
    fetched_projects: set[str] = field(default_factory=set)
    fetched_metadata: set[tuple[str, str]] = field(default_factory=set)
    # Per target that does not resolve: the first line of the failure.
    unresolved: dict[str, str] = field(default_factory=dict)
    # What the last resolutions still lacked: the indexes do not have it (or failed to give it).
    still_missing: list[str] = field(default_factory=list)
    # The lock per target that resolves (a build's requirements are installed from it:
    # mirror.sync.build_requirements).
    locks: dict[str, Lock] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "rounds": self.rounds,
            "projects_added": sorted(self.fetched_projects),
            "metadata_added": [f"{n}=={v}" for n, v in sorted(self.fetched_metadata)],
            "unresolved": dict(sorted(self.unresolved.items())),
            "still_missing": self.still_missing,
        }


class _LoopFetcher:
    """The :class:`~resolve.candidates.fetching.Fetcher` the solver's thread calls: each call
    becomes a coroutine on the sync's event loop; a blocking one commits what it fetched
    before it returns, so the solver's reader sees it."""

    def __init__(
        self, syncer: Syncer, loop: asyncio.AbstractEventLoop, report: ClosureReport
    ) -> None:
        self._syncer = syncer
        self._loop = loop
        self._report = report
        self._asked: set[str] = set()
        # Every call under way on the loop, so that stop() can cancel them; the lock orders
        # a submission against stop(), so none slips in after it.
        self._lock = threading.Lock()
        self._under_way: set[concurrent.futures.Future[Any]] = set()
        self._stopped = False

    def _submit(self, work: Callable[[], Coroutine[Any, Any, _T]]) -> concurrent.futures.Future[_T]:
        """Run ``work()`` on the loop; made only here, so that a stopped fetcher makes none
        (a coroutine never awaited)."""
        with self._lock:
            if self._stopped:
                raise concurrent.futures.CancelledError
            future = asyncio.run_coroutine_threadsafe(work(), self._loop)
            self._under_way.add(future)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._under_way.discard(future)

    def stop(self) -> None:
        """The sync is ending (interrupted, or failed): every call under way, and every
        later one, raises CancelledError in the solver's thread, which then ends."""
        with self._lock:
            self._stopped = True
            under_way, self._under_way = self._under_way, set()
        for future in under_way:
            future.cancel()

    async def _committed(self, work: Awaitable[object]) -> None:
        await work
        self._syncer.writer.flush()

    def project(self, name: str) -> None:
        self._asked.add(name)
        self._submit(lambda: self._committed(self._syncer.ensure_project(name))).result()

    def prefetch_projects(self, names: Iterable[str]) -> None:
        for name in names:
            if name not in self._asked:
                self._asked.add(name)
                self._submit(partial(self._syncer.ensure_project, name))

    def metadata(self, project: str, index: str, filename: str) -> None:
        self._submit(lambda: self._committed(self._metadata(project, index, filename))).result()

    def prefetch_metadata(self, project: str, index: str, filename: str) -> None:
        self._submit(partial(self._metadata, project, index, filename))

    async def _metadata(self, project: str, index: str, filename: str) -> None:
        version = await self._syncer.ensure_metadata(project, index, filename)
        if version is not None:
            self._report.fetched_metadata.add((project, version))

    def settle(self) -> None:
        """Wait for the look-ahead still under way: the snapshot completes with it."""
        with self._lock:
            under_way = list(self._under_way)
        concurrent.futures.wait(under_way)


async def resolve_closure(
    syncer: Syncer,
    database: str,
    requirements: Sequence[InputRequirement],
    targets: Sequence[Target],
) -> ClosureReport:
    """Resolve ``requirements`` for every target against the snapshot ``syncer`` is
    building, fetching what the solver needs as it asks. The syncer's workers must be
    running."""
    report = ClosureReport()
    fetcher = _LoopFetcher(syncer, asyncio.get_running_loop(), report)
    started = set(syncer.started)
    syncer.look_ahead([target.environment.markers for target in targets])
    try:
        snapshot_id = syncer.writer.snapshot_id
        await asyncio.to_thread(
            _resolve_all, fetcher, database, snapshot_id, requirements, targets, report
        )
    except BaseException:  # cancelled (an interrupt), or failed: the thread must not wait on
        fetcher.stop()  # a loop that stops, nor start work the sync will not finish
        raise
    report.fetched_projects = set(syncer.started) - started
    return report


def _resolve_all(
    fetcher: _LoopFetcher,
    database: str,
    snapshot_id: int,
    requirements: Sequence[InputRequirement],
    targets: Sequence[Target],
    report: ClosureReport,
) -> None:
    report.rounds = 1
    missing: set[str] = set()
    try:
        with SnapshotReader.open_building(database, snapshot_id) as reader:
            rules = stored_rules(reader, None)
            for target in targets:
                outcome = resolve_once(reader, rules, target, requirements, fetcher=fetcher)
                missing |= outcome.missing_projects
                missing |= {f"{n}=={v} (core metadata)" for n, v in outcome.missing_metadata}
                if outcome.lock is not None:
                    report.locks[str(target.environment)] = outcome.lock
                if outcome.failure is not None:
                    first = sentences(outcome.failure.no_solution)[0]
                    report.unresolved[str(target.environment)] = first
    finally:
        fetcher.settle()  # (at once when stopped: every call was cancelled)
    # What the resolutions lacked after asking for it: the indexes do not have it, or failed.
    report.still_missing = sorted(missing)
