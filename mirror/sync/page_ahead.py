"""Pages fetched ahead of a resolver-driven sync, held in memory until it asks for them.

The resolver asks for a project's pages when the solver first names it, and names it only
once it has read the metadata of a version that depends on it: one round trip per level of
the dependency graph, during which the network idles. While the sync already knows core
metadata (a re-sync: the base snapshot's is carried over), the pages of what the newest
release of a fetched project depends on are asked for ahead, and so on from each page that
arrives, as uv prefetches (MIRROR.md, "Sync behaviour": look-ahead).

A page fetched ahead is recorded only when the sync reaches its project, so the snapshot holds
exactly what the resolutions asked for; one never asked for costs its request and nothing
else. A dependency is followed only when its marker holds on one of the sync's targets with
no extra (an extra is asked for by name; PEP 508).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

from packaging.requirements import InvalidRequirement, Requirement

from db.canonical import canonical_name
from db.indexes import IndexConfig
from db.records import DistFile, FetchedPage, PreviousPage
from mirror.sources.protocol import IndexSource, NotModified
from mirror.sync.selection import VersionPolicy, choose_metadata_files

__all__ = ["PagesAhead"]

_Outcome = FetchedPage | NotModified


class PagesAhead:
    """The pages asked for ahead, by (index id, project)."""

    def __init__(
        self,
        indexes: Sequence[IndexConfig],
        sources: Mapping[int, IndexSource],
        policy: VersionPolicy,
        previous: Mapping[tuple[int, str], PreviousPage],
        resumed: Collection[tuple[int, str]],
        metadata: Mapping[tuple[int, str], list[str] | None],
        stored_files: Callable[[int], list[DistFile]],
        environments: Sequence[Mapping[str, str]],
    ) -> None:
        self._indexes = indexes
        self._sources = sources
        self._policy = policy
        self._previous = previous
        # Pages an interrupted run of this snapshot already stored: a resumed sync reads them
        # from the database and never asks the index again.
        self._resumed = resumed
        self._metadata = metadata  # the sync's own map, read as it grows
        self._stored_files = stored_files
        self._environments = [{**env, "extra": ""} for env in environments]
        self._tasks: dict[tuple[int, str], asyncio.Task[_Outcome]] = {}
        self._named: set[str] = set()

    def take(self, index_id: int, project: str) -> asyncio.Task[_Outcome] | None:
        """The fetch under way or done for this page, if one was started ahead."""
        return self._tasks.pop((index_id, project), None)

    def follow(self, requires: Iterable[list[str] | None], reached: Collection[str]) -> None:
        """Ask ahead for the pages of these Requires-Dist lists' projects the sync has not
        reached."""
        for names in requires:
            for name in self._dependencies(names or ()):
                if name not in reached and name not in self._named:
                    self._named.add(name)
                    for index in self._indexes:
                        if (index.id, name) in self._resumed:
                            continue
                        task = asyncio.ensure_future(self._fetch(index.id, name, reached))
                        self._tasks[(index.id, name)] = task

    async def _fetch(self, index_id: int, project: str, reached: Collection[str]) -> _Outcome:
        previous = self._previous.get((index_id, project))
        outcome = await self._sources[index_id].fetch_page(project, previous)
        if isinstance(outcome, NotModified):
            files = self._stored_files(previous.page_id) if previous is not None else []
        else:
            files = list(outcome.parsed.files) if outcome.parsed is not None else []
        chosen = choose_metadata_files(files, self._policy)
        self.follow((self._metadata.get((index_id, d.filename)) for d in chosen), reached)
        return outcome

    def _dependencies(self, requires_dist: Iterable[str]) -> list[str]:
        names = []
        for text in requires_dist:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            marker = requirement.marker
            if marker is None or any(marker.evaluate(env) for env in self._environments):
                names.append(canonical_name(requirement.name))
        return names

    def cancel(self) -> None:
        """The sync is over: what was never asked for is dropped."""
        for task in self._tasks.values():
            if task.done() and not task.cancelled():
                task.exception()  # a failure nobody asked about is not an error
            task.cancel()
        self._tasks.clear()
