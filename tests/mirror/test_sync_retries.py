"""Transient failures during a sync: 429/503 with Retry-After, connections cut mid-body, for
pages and for ranged wheel reads (MIRROR.md, "Sync behaviour", HTTP).

These run the :class:`~mirror.sync.syncer.Syncer` directly, with the fixture index in the same event
loop and an :class:`~mirror.http.client.IndexClient` whose backoff sleep is recorded instead of
waited for, so the delays the client chose are asserted without spending them.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

from db.engine import open_engine
from db.indexes import add_index, list_indexes, ordered_for_lookup
from db.write.snapshot_writer import SnapshotWriter
from mirror.http.client import ClientConfig, IndexClient
from mirror.sources.factory import open_sources
from mirror.sync.selection import VersionPolicy
from mirror.sync.syncer import Syncer, SyncStats
from tests.conftest import BOTH_ENGINES, Mirror
from tests.fixtures.index_server import FixtureIndex, make_project, serve_index
from tests.mirror.synctools import files, metadata, page

pytestmark = BOTH_ENGINES


class Sleeps:
    """The injected backoff sleep: records the delays, never waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def sync(
    mirror: Mirror, index: FixtureIndex, projects: Sequence[str]
) -> tuple[SyncStats, Sleeps]:
    """One complete sync of ``projects`` from ``index`` (served in this loop) into the
    mirror's database."""
    async with serve_index(index) as server:
        return await sync_from(mirror, server.base_url, projects)


async def sync_from(mirror: Mirror, url: str, projects: Sequence[str]) -> tuple[SyncStats, Sleeps]:
    """One complete sync of ``projects`` from the index at ``url``."""
    sleeps = Sleeps()
    engine = open_engine(mirror.url)
    with engine.begin() as conn:
        add_index(conn, name="one", url=url)
        indexes = ordered_for_lookup(list_indexes(conn))
    writer = SnapshotWriter.open(engine, name=None, plan={"projects": sorted(projects)})
    syncer = Syncer(writer, indexes, {}, policy=VersionPolicy(), closure=None, concurrency=2)
    config = ClientConfig(backoff_base=0.001, concurrency_per_host=2)
    async with (
        IndexClient(config, sleep=sleeps, rand=lambda: 0.5) as client,
        open_sources(indexes, client=client) as sources,
    ):
        syncer.sources = sources
        stats = await syncer.run(projects)
    writer.complete(stats.as_json(), cumulative=True)
    engine.dispose()
    return stats, sleeps


async def test_429_with_retry_after_then_success(mirror: Mirror) -> None:
    index = FixtureIndex()
    make_project(index, "foo", ["1.0"], fail_next=1, fail_status=429, retry_after="7")

    stats, sleeps = await sync(mirror, index, ["foo"])

    assert stats.failures == [] and stats.pages_fetched == 1
    assert [r.status for r in index.recorder.matching("/simple/foo/")] == [429, 200]
    assert sleeps.delays == [7.0]  # Retry-After honoured, not the (tiny) computed backoff
    assert (page(mirror, "one", "foo").status, page(mirror, "one", "foo").error) == (200, None)
    assert len(files(mirror, "one", "foo")) == 1


async def test_503_twice_then_success(mirror: Mirror) -> None:
    index = FixtureIndex()
    make_project(index, "foo", ["1.0"], fail_next=2, fail_status=503)

    stats, sleeps = await sync(mirror, index, ["foo"])

    assert stats.failures == []
    assert [r.status for r in index.recorder.matching("/simple/foo/")] == [503, 503, 200]
    assert sleeps.delays == [0.0005, 0.001]  # capped exponential backoff (rand = 0.5)
    assert page(mirror, "one", "foo").error is None


async def test_connection_cut_mid_page_then_success(mirror: Mirror) -> None:
    index = FixtureIndex()
    make_project(index, "foo", ["1.0", "2.0"], cut_next=1)

    stats, sleeps = await sync(mirror, index, ["foo"])

    assert stats.failures == [] and stats.pages_fetched == 1
    assert index.recorder.count("/simple/foo/") == 2 and len(sleeps.delays) == 1
    assert [f.version for f in files(mirror, "one", "foo")] == ["1.0", "2.0"]
    assert mirror.scalar("SELECT count(*) FROM page") == 1  # nothing of the cut body is kept


async def test_range_reads_are_retried_too(mirror: Mirror) -> None:
    index = FixtureIndex()
    (entry,) = make_project(index, "foo", ["1.0"], deps=["bar"], padding=200_000).files
    entry.core_metadata = False
    entry.cut_next, entry.fail_next = 1, 1

    stats, sleeps = await sync(mirror, index, ["foo"])

    meta = metadata(mirror)[entry.filename]
    assert (meta.source, meta.requires_dist) == ("range", ["bar"])
    gets = index.recorder.matching(f"/files/{entry.filename}", method="GET")
    assert [r.status for r in gets][:2] == [503, 206]  # 503, then the cut one, then good ones
    assert all(r.range for r in gets) and len(sleeps.delays) == 2
    assert stats.metadata_fetched == 1 and stats.metadata_failed == 0


async def test_a_page_failing_after_all_attempts_is_recorded_as_failed(mirror: Mirror) -> None:
    index = FixtureIndex()
    make_project(index, "foo", ["1.0"], status=503)
    make_project(index, "bar", ["1.0"])

    stats, _ = await sync(mirror, index, ["foo", "bar"])

    assert stats.pages_failed == 1 and stats.pages_fetched == 1
    assert [f.split(":")[0] for f in stats.failures] == ["foo on one"]
    assert index.recorder.count("/simple/foo/") == ClientConfig().max_attempts
    failed = page(mirror, "one", "foo")
    assert failed.status == 503 and failed.error
    assert mirror.json("snapshot", "show", "latest")["indexes"]["one"]["failed"] == 1


async def test_an_unreachable_index_fails_every_page(mirror: Mirror) -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    stats, sleeps = await sync_from(mirror, f"http://127.0.0.1:{port}/simple/", ["foo", "bar"])

    assert stats.pages_failed == 2 and stats.pages_fetched == 0
    assert len(sleeps.delays) == 2 * (ClientConfig().max_attempts - 1)
    for name in ("foo", "bar"):
        failed = page(mirror, "one", name)
        assert failed.status == 0 and failed.error  # no HTTP status: not "not here"
    counts = mirror.json("snapshot", "show", "latest")["indexes"]["one"]
    assert counts["failed"] == 2 and "found" not in counts
