"""An interrupted sync (MIRROR.md, "Atomic, resumable"): `mirror sync` killed with SIGKILL
mid-run leaves a `building` snapshot that readers never see; the same command run again
resumes it without fetching again what was stored, and the database is intact."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine

from db.engine import engine_url
from db.snapshot_queries import find_snapshot
from tests.conftest import BOTH_ENGINES, Mirror, Serve
from tests.fixtures.index_server import FixtureIndex, make_project

pytestmark = BOTH_ENGINES

PROJECTS = [f"p{n:02d}" for n in range(8)]
STORED_BEFORE_KILL = 3


# The writer commits its records in batches (by count and by time); committing each one makes
# "what was stored when the process died" exact: the first projects, and nothing after them.
COMMIT_EACH_RECORD = (
    "from db.write.snapshot_writer import SnapshotWriter; SnapshotWriter.FLUSH_ITEMS = 1; "
    "from mirror.cli.main import main; main()"
)


def mirror_process(
    mirror: Mirror, *args: str, program: str | None = None
) -> subprocess.Popen[bytes]:
    """`mirror` as a separate process, so that it can be killed like a real one."""
    command = ["-c", program] if program else ["-m", "mirror"]
    return subprocess.Popen(
        [sys.executable, *command, "--db", str(mirror.db), *args],
        env=dict(os.environ),  # the test's clean environment (see the clean_env fixture)
        cwd=mirror.folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def request_counts(index: FixtureIndex) -> dict[str, int]:
    counts: dict[str, int] = {}
    for request in index.recorder.matching():
        counts[request.path] = counts.get(request.path, 0) + 1
    return counts


@pytest.mark.slow
@pytest.mark.parametrize("closure", [False, True], ids=["named", "closure"])
def test_sigkill_mid_sync_then_resume(mirror: Mirror, serve: Serve, closure: bool) -> None:
    index = FixtureIndex()
    for n, name in enumerate(PROJECTS):
        # A chain p00 → p01 → …: a resumed closure sync must follow stored metadata onwards.
        deps = [PROJECTS[n + 1]] if closure and n + 1 < len(PROJECTS) else []
        make_project(index, name, ["1.0", "2.0"], deps=deps)
    mirror.add_index("one", serve(index))
    mirror.sync("p00", "--name", "before")
    wanted = ("p00", "--closure") if closure else PROJECTS
    command = ("sync", *wanted, "--concurrency", "1", "--name", "after", "--quiet")

    # One worker, one request at a time: when the fourth page is asked for, the first three
    # projects (page and core metadata) are committed. Hold that request and kill the sync.
    index.stall_pages_after = STORED_BEFORE_KILL
    process = mirror_process(mirror, *command, program=COMMIT_EACH_RECORD)
    try:
        assert index.stalled.wait(timeout=60), "the sync never reached the fourth page"
    finally:
        process.kill()  # SIGKILL: no cleanup of any kind runs
        process.wait()
    assert process.returncode == -9

    snapshots = {s["name"]: s for s in mirror.json("snapshot", "list")}
    assert {name: s["state"] for name, s in snapshots.items()} == {
        "before": "complete",
        "after": "building",
    }
    assert snapshots["after"]["pages"] == STORED_BEFORE_KILL
    assert snapshots["after"]["digest"] is None
    # What `resolve` would use: the newest *complete* snapshot.
    assert mirror.json("snapshot", "show", "latest")["name"] == "before"
    engine = create_engine(engine_url(mirror.url))
    with engine.connect() as conn:
        assert find_snapshot(conn, "latest").name == "before"
    engine.dispose()
    stored = [
        row[0]
        for row in mirror.sql(
            "SELECT project FROM snapshot_page sp JOIN snapshot s ON s.id = sp.snapshot_id "
            "WHERE s.name = 'after' ORDER BY project"
        )
    ]
    assert stored == PROJECTS[:STORED_BEFORE_KILL]

    # Release the request the killed process left behind, then run the same command again.
    index.stall_pages_after = None
    index.unstall.set()
    before_resume = request_counts(index)
    resumed = mirror_process(mirror, *command)
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()

    after_resume = request_counts(index)
    for name in PROJECTS[:STORED_BEFORE_KILL]:
        touched = [p for p in after_resume if p.startswith((f"/simple/{name}/", f"/files/{name}-"))]
        assert touched
        assert all(after_resume[p] == before_resume[p] for p in touched), name
    for name in PROJECTS[STORED_BEFORE_KILL + 1 :]:
        assert after_resume[f"/simple/{name}/"] == 1
    snapshots = {s["name"]: s for s in mirror.json("snapshot", "list")}
    assert snapshots["after"]["state"] == "complete"
    assert snapshots["after"]["pages"] == len(PROJECTS)
    assert snapshots["after"]["summary"]["pages"]["resumed"] == STORED_BEFORE_KILL
    assert mirror.json("snapshot", "show", "latest")["name"] == "after"
    # The structure, foreign keys (SQLite; a server enforces its own) and every payload.
    assert "payloads verified" in mirror.run("db", "check").stderr
    # The resumed snapshot holds what an uninterrupted sync of the same state holds.
    again = mirror.sync(*wanted, "--name", "again")
    assert again["pages"]["not_modified"] == len(PROJECTS)
    assert again["digest"] == snapshots["after"]["digest"]
