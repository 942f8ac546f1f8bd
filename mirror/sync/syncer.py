"""The sync: every requested project's page from every configured index, then core metadata
for the selected versions, following Requires-Dist when asked (MIRROR.md, "Sync behaviour").

The order of network work does not matter to the result: pages are stored by (index, project)
and the snapshot's content digest is computed from sorted content.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from db.canonical import canonical_name
from db.indexes import IndexConfig
from db.records import DistFile, FetchedPage, PreviousPage
from db.write.snapshot_writer import SnapshotWriter
from mirror.index_api.file_warnings import prefixed
from mirror.metadata.fetch import MetadataOutcome
from mirror.sources.protocol import IndexSource, NotModified
from mirror.sync.closure import ClosureState
from mirror.sync.page_ahead import PagesAhead
from mirror.sync.selection import VersionPolicy, choose_metadata_files
from mirror.sync.stats import Progress, SyncStats

__all__ = ["MetadataBuilder", "Progress", "SyncStats", "Syncer"]


class MetadataBuilder(Protocol):
    """Builds an sdist's metadata (:class:`mirror.sync.builds.Builds`)."""

    async def build(self, index_id: int, dist: DistFile) -> MetadataOutcome:
        """``built`` with its provenance, or ``needs-build`` saying why the build failed."""
        ...


@dataclass(slots=True)
class _ProjectState:
    files: dict[int, list[DistFile]] = field(default_factory=dict)  # index_id → files
    # Requires-Dist per (index_id, filename) whose metadata the snapshot holds.
    requires: dict[tuple[int, str], list[str]] = field(default_factory=dict)
    followed: set[tuple[int, str]] = field(default_factory=set)
    pins_done: frozenset[str] | None = None
    extras_done: frozenset[str] = frozenset()
    not_here: int = 0  # indexes whose page says the project is not there


class Syncer:
    """One sync run: a queue of projects worked by ``concurrency`` tasks."""

    def __init__(
        self,
        writer: SnapshotWriter,
        indexes: Sequence[IndexConfig],
        sources: Mapping[int, IndexSource],
        *,
        policy: VersionPolicy,
        closure: ClosureState | None,
        pins: Mapping[str, set[str]] | None = None,
        concurrency: int = 8,
        progress: Progress | None = None,
        builds: MetadataBuilder | None = None,
    ) -> None:
        self.writer = writer
        self.indexes = list(indexes)
        self.sources = sources
        self.policy = policy
        self.closure = closure
        self.pins: dict[str, set[str]] = {k: set(v) for k, v in (pins or {}).items()}
        self.concurrency = max(1, concurrency)
        self.progress = progress or Progress()
        # None: an sdist whose metadata is dynamic is recorded as needing a build (--no-build).
        self.builds = builds
        self.stats = SyncStats()
        self._state: dict[str, _ProjectState] = {}
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._queued: set[str] = set()
        self._in_progress: set[str] = set()
        self._previous: dict[tuple[int, str], PreviousPage] = {}
        self._resumed: set[tuple[int, str]] = set()
        self._stale: list[tuple[IndexConfig, str]] = []
        # (index_id, filename) → Requires-Dist (None: no usable metadata) for every file whose
        # metadata this snapshot has or will carry over from the previous one.
        self._metadata: dict[tuple[int, str], list[str] | None] = {}
        self._requeue_after: set[str] = set()
        # Projects whose pages are recorded, for ensure_project (a resolver asking for the
        # pages need not wait for the selection's metadata), and projects whose first pass
        # (pages, selected metadata) is over, for ensure_metadata.
        self._paged: dict[str, asyncio.Event] = {}
        self._done: dict[str, asyncio.Event] = {}
        # Core metadata reads under way, so that two askers share one; and builds, which run
        # apart from the workers (a build's requirements are synced by them).
        self._reading: dict[tuple[int, str], asyncio.Task[None]] = {}
        self._building: dict[tuple[int, str], asyncio.Task[None]] = {}
        self._ahead: PagesAhead | None = None  # a resolver-driven sync's pages asked ahead

    # -- driving ----------------------------------------------------------------------------

    def enqueue(self, project: str) -> None:
        if project in self._in_progress:
            # A worker is on it; it will see the new extras/pins when it finishes.
            self._requeue_after.add(project)
            return
        if project not in self._queued:
            self._queued.add(project)
            self._queue.put_nowait(project)
            self.progress.project_queued(len(self._state.keys() | self._queued))

    @property
    def started(self) -> set[str]:
        """The projects this run has fetched or is fetching."""
        return set(self._state) | self._queued | self._in_progress

    async def run(
        self, projects: Sequence[str], during: Callable[[], Awaitable[object]] | None = None
    ) -> SyncStats:
        """Sync ``projects`` (and what they lead to); ``during``, when given, runs while the
        workers do, and may ask for more (:meth:`ensure_project`, :meth:`ensure_metadata`)."""
        self._previous = self.writer.previous_pages()
        self._resumed = self.writer.resumed_pages
        self._metadata = self.writer.metadata_index(previous=True)
        self._metadata.update(self.writer.metadata_index(previous=False))
        for project in sorted(set(projects)):
            self.enqueue(project)
        workers = [asyncio.create_task(self._worker()) for _ in range(self.concurrency)]
        workers.append(asyncio.create_task(self._flusher()))
        try:
            if during is not None:
                await during()
            await self._queue.join()
            if self._stale:
                await self._retry_stale()
                await self._queue.join()  # projects whose page caught up: metadata, closure
            while self._building:  # what was built may lead further (its Requires-Dist)
                await asyncio.gather(*list(self._building.values()))
                await self._queue.join()
        finally:
            for task in [*workers, *self._building.values()]:
                task.cancel()
            if self._ahead is not None:
                self._ahead.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            # Whatever was recorded is committed even when the run is interrupted, so that a
            # resumed sync does not fetch it again.
            self.writer.flush()
        self.stats.projects = len(self._state)
        self.stats.not_found = [
            p for p, s in self._state.items() if s.not_here == len(self.indexes)
        ]
        return self.stats

    def look_ahead(self, environments: Sequence[Mapping[str, str]]) -> None:
        """From now on (the run has started), ask ahead for pages the metadata known leads to
        on these marker environments."""
        args = (self.policy, self._previous, self._resumed, self._metadata, self.writer.page_files)
        self._ahead = PagesAhead(self.indexes, self.sources, *args, environments)

    async def ensure_project(self, project: str) -> bool:
        """Wait until ``project``'s pages are recorded (the metadata its selection wants
        may still be on its way: :meth:`ensure_metadata` waits for a file's own); True when
        this call started it."""
        new = project not in self.started
        if new:
            self.enqueue(project)
        await self._paged.setdefault(project, asyncio.Event()).wait()
        return new

    async def ensure_metadata(self, project: str, index: str, filename: str) -> str | None:
        """Fetch ``filename``'s core metadata from index ``index`` unless this run knows it
        already (fetched, carried over or tried); its version when it was fetched now."""
        await self.ensure_project(project)
        # The selection may be reading another wheel of the same release, whose metadata
        # stands for this one (resolve.candidates.judge): one read per release, not two.
        await self._done.setdefault(project, asyncio.Event()).wait()
        index_id = next((i.id for i in self.indexes if i.name == index), -1)
        files = self._state[project].files.get(index_id, ())
        dist = next((d for d in files if d.filename == filename), None)
        key = (index_id, filename)
        if (
            dist is None
            or key in self._metadata
            or self._wheel_sibling_known(index_id, dist, files)
        ):
            return None
        if key not in self._building:
            await self._read_metadata(index_id, dist)
        building = self._building.get(key)  # it needs a build: the answer is the build's
        if building is not None:
            await asyncio.shield(building)
        return dist.version

    def _wheel_sibling_known(
        self, index_id: int, dist: DistFile, files: Sequence[DistFile]
    ) -> bool:
        """Whether ``dist`` is a wheel and another wheel of its release among ``files`` (its
        index's) has usable metadata in this run."""
        return dist.is_wheel and any(
            d.is_wheel
            and d.version == dist.version
            and self._metadata.get((index_id, d.filename)) is not None
            for d in files
            if d.filename != dist.filename
        )

    async def _flusher(self) -> None:
        """Commit buffered records on a clock too, so a stalled request never holds finished
        work uncommitted (a SIGKILL then loses at most ``FLUSH_SECONDS`` of it)."""
        while True:
            await asyncio.sleep(self.writer.FLUSH_SECONDS)
            self.writer.flush()

    async def _worker(self) -> None:
        while True:
            project = await self._queue.get()
            self._queued.discard(project)
            self._in_progress.add(project)
            try:
                await self._sync_project(project)
            finally:
                self._in_progress.discard(project)
                for events in (self._paged, self._done):
                    events.setdefault(project, asyncio.Event()).set()
                if project in self._requeue_after:
                    self._requeue_after.discard(project)
                    self.enqueue(project)
                self._queue.task_done()

    # -- one project --------------------------------------------------------------------------

    async def _sync_project(self, project: str) -> None:
        state = self._state.get(project)
        if state is None:
            state = self._state[project] = _ProjectState()
            await asyncio.gather(*(self._sync_page(ix, project, state) for ix in self.indexes))
            self.progress.project_done()
        self._paged.setdefault(project, asyncio.Event()).set()
        pins = frozenset(self.pins.get(project, set()))
        if self.closure is not None:
            pins |= self.closure.pins.get(project, set())
        if pins != state.pins_done:
            state.pins_done = pins
            await self._sync_metadata(project, state, pins)
        if self.closure is not None:
            self._follow(project, state, self.closure)
        if self._ahead is not None:
            self._ahead.follow(state.requires.values(), self._state)

    def _follow(self, project: str, state: _ProjectState, closure: ClosureState) -> None:
        """Follow the Requires-Dist not followed yet — all of them again when new extras of
        this project were requested since."""
        extras = frozenset(closure.extras.get(project, set()))
        if extras != state.extras_done:
            state.extras_done = extras
            state.followed.clear()
        for key in sorted(state.requires.keys() - state.followed):
            state.followed.add(key)
            for dependency in closure.follow(project, state.requires[key]):
                self.enqueue(dependency)

    async def _sync_page(self, index: IndexConfig, project: str, state: _ProjectState) -> None:
        key = (index.id, project)
        if key in self._resumed:
            link = self.writer.page_link(index.id, project)
            if link is not None:
                self.stats.count_page(index.name, "resumed")
                self.progress.page_done("resumed")
                state.not_here += index.means_not_here(link[1]) and not link[2]
                if link[1] == 200 and not link[2]:
                    state.files[index.id] = self.writer.page_files(link[0])
                return
        previous = self._previous.get(key)
        source = self.sources[index.id]
        try:
            ahead = self._ahead and self._ahead.take(index.id, project)
            outcome = await (ahead or source.fetch_page(project, previous))
        except Exception as exc:  # a source bug or I/O error fails this page, not the sync
            outcome = FetchedPage(status=0, error=f"{type(exc).__name__}: {exc}")
        if isinstance(outcome, NotModified):
            assert previous is not None
            self.writer.reuse_page(
                index.id, project, previous.page_id, outcome.etag, outcome.last_modified
            )
            self.stats.bytes_fetched += outcome.nbytes
            self.stats.count_page(index.name, "unchanged" if outcome.same_body else "not_modified")
            self.progress.page_done("unchanged" if outcome.same_body else "not-modified")
            if previous.status == 200 and not previous.failed:
                state.files[index.id] = self.writer.page_files(previous.page_id)
            return
        if self._is_stale(outcome, previous):
            assert previous is not None
            self._stale.append((index, project))
            self.writer.reuse_page(
                index.id, project, previous.page_id, previous.etag, previous.last_modified
            )
            self.stats.count_page(index.name, "stale")
            state.files[index.id] = self.writer.page_files(previous.page_id)
            return
        self.writer.record_page(index.id, project, outcome)
        self.stats.bytes_fetched += len(outcome.body or b"")
        asked = self.stats.pages_asked
        asked[index.name] = asked.get(index.name, 0) + 1
        if outcome.status in (401, 403) and not index.means_not_here(outcome.status):
            # `--not-here 401` / `403` make these data
            refused = self.stats.unauthorized if outcome.status == 401 else self.stats.forbidden
            refused[index.name] = refused.get(index.name, 0) + 1
        if outcome.error is not None:
            self.stats.count_page(index.name, "failed")
            self.stats.failures.append(f"{project} on {index.name}: {outcome.error}")
            self.progress.page_done("failed")
            return
        self.stats.count_page(index.name, "fetched")
        self.progress.page_done("fetched")
        state.not_here += index.means_not_here(outcome.status)
        if outcome.parsed is not None:
            state.files[index.id] = list(outcome.parsed.files)
            self.stats.warnings += [
                prefixed(f"{project} on {index.name}: ", w) for w in outcome.parsed.warnings
            ]

    @staticmethod
    def _is_stale(outcome: FetchedPage, previous: PreviousPage | None) -> bool:
        """A page whose serial is lower than the stored one came from a lagging CDN node."""
        if previous is None or previous.serial is None or outcome.parsed is None:
            return False
        serial = outcome.parsed.last_serial
        return serial is not None and serial < previous.serial

    async def _retry_stale(self) -> None:
        """Fetch each stale page once more, at the end of the run. A page that caught up
        replaces the kept one, and its project is queued again so that the new files get
        their core metadata (and, in a closure sync, their dependencies). Anything else — still
        stale, failed, not a page — leaves the stored page in place."""
        stale, self._stale = self._stale, []
        for index, project in stale:
            previous = self._previous.get((index.id, project))
            try:
                outcome = await self.sources[index.id].fetch_page(project, None)
            except Exception:  # as in _sync_page: a failed retry keeps the stored page
                outcome = None
            if (
                not isinstance(outcome, FetchedPage)
                or outcome.error is not None
                or outcome.parsed is None
                or self._is_stale(outcome, previous)
            ):
                self.stats.warnings.append(
                    f"{project} on {index.name}: serial went back (stale cache); "
                    "kept the stored page"
                )
                continue
            self.writer.record_page(index.id, project, outcome)
            self.stats.count_page(index.name, "stale", -1)
            self.stats.count_page(index.name, "fetched")
            self.stats.bytes_fetched += len(outcome.body or b"")
            state = self._state[project]
            state.files[index.id] = list(outcome.parsed.files)
            state.pins_done = None  # forces _sync_project to look at the metadata again
            self.enqueue(project)

    # -- core metadata ------------------------------------------------------------------------

    async def _sync_metadata(
        self, project: str, state: _ProjectState, pins: frozenset[str]
    ) -> None:
        jobs = []
        for index_id in sorted(state.files):
            chosen = choose_metadata_files(state.files[index_id], self.policy, pins)
            jobs.append(self._metadata_for_index(index_id, chosen, state))
        await asyncio.gather(*jobs)

    async def _metadata_for_index(
        self, index_id: int, chosen: list[DistFile], state: _ProjectState
    ) -> None:
        missing = [d for d in chosen if (index_id, d.filename) not in self._metadata]
        self.stats.metadata_known += len(chosen) - len(missing)
        await asyncio.gather(*(self._read_metadata(index_id, d) for d in missing))
        for dist in chosen:
            requires = self._metadata.get((index_id, dist.filename))
            if requires is not None:
                state.requires[(index_id, dist.filename)] = requires

    async def _read_metadata(self, index_id: int, dist: DistFile) -> None:
        """One read per file, however many ask for it at once."""
        key = (index_id, dist.filename)
        task = self._reading.get(key)
        if task is None:
            task = self._reading[key] = asyncio.ensure_future(self._fetch_metadata(index_id, dist))
            task.add_done_callback(lambda _: self._reading.pop(key, None))
        await asyncio.shield(task)

    async def _fetch_metadata(self, index_id: int, dist: DistFile) -> None:
        try:
            outcome = await self.sources[index_id].fetch_metadata(dist)
        except Exception as exc:  # recorded as data; a later sync retries it
            # Not "invalid": the index did not give it (a 503, a timeout), which says nothing
            # of the metadata; `resolve` must not resolve past it as if the version were bad.
            outcome = MetadataOutcome("failed", error=f"{type(exc).__name__}: {exc}")
        if outcome.source == "needs-build" and self.builds is not None:
            key = (index_id, dist.filename)
            if key not in self._building:  # recorded once its build has ended
                task = self._building[key] = asyncio.create_task(self._build(index_id, dist))
                task.add_done_callback(lambda _: self._building.pop(key, None))
            return
        self._record(index_id, dist, outcome)

    async def _build(self, index_id: int, dist: DistFile) -> None:
        """Build ``dist``'s metadata, record the outcome and follow what was built."""
        assert self.builds is not None
        outcome = await self.builds.build(index_id, dist)
        self._record(index_id, dist, outcome)
        if outcome.source != "built":
            index = next(i.name for i in self.indexes if i.id == index_id)
            self.stats.build_failures.append(f"{dist.filename} on {index}: {outcome.error}")
        requires = self._metadata[(index_id, dist.filename)]
        project = canonical_name(dist.project)
        state = self._state.get(project)
        if requires is not None and state is not None:
            state.requires[(index_id, dist.filename)] = requires
            if self.closure is not None:
                self._follow(project, state, self.closure)
        self.writer.flush()

    def _record(self, index_id: int, dist: DistFile, outcome: MetadataOutcome) -> None:
        self.writer.record_metadata(
            index_id,
            dist.filename,
            source=outcome.source,
            raw=outcome.raw,
            parsed=outcome.parsed,
            error=outcome.error,
            build=outcome.build,
        )
        self._metadata[(index_id, dist.filename)] = (
            list(outcome.parsed.requires_dist) if outcome.parsed is not None else None
        )
        self.stats.bytes_fetched += outcome.bytes_fetched
        index = next(i.name for i in self.indexes if i.id == index_id)
        self.stats.count_metadata(outcome.source, dist.filename, index, outcome.error)
        self.progress.metadata_done(outcome.source, outcome.bytes_fetched)
