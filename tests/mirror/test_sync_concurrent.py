"""Two `mirror sync` processes without --name, started together on one database, both
finish: made-up names taken in the same second do not collide (db/snapshot_names.py), and the
one that completes last carries the other's project over (db/write/carry.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BOTH_ENGINES, Mirror, Serve
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.mirror.test_sync_resume import mirror_process

pytestmark = BOTH_ENGINES

# Both processes read the same clock second, whenever each of them starts, and each waits,
# once it has picked a free name, until the other has too: both pick before either inserts.
SAME_SECOND = """
import os, pathlib, time
import db.write.snapshot_writer as w
w.now_utc = lambda: "2026-11-24T10:15:00.000000Z"
pick = w.made_up_name
def made_up_name(created, taken):
    name = pick(created, taken)
    barrier = pathlib.Path(os.environ["SYNC_BARRIER"])
    (barrier / str(os.getpid())).touch()
    until = time.monotonic() + 20
    while len(list(barrier.iterdir())) < 2 and time.monotonic() < until:
        time.sleep(0.01)
    return name
w.made_up_name = made_up_name
from mirror.cli.main import main
main()
"""


@pytest.mark.slow
def test_two_syncs_started_together_both_complete(
    mirror: Mirror, serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    monkeypatch.setenv("SYNC_BARRIER", str(barrier))
    index = FixtureIndex()
    for name in ("foo", "bar"):
        make_project(index, name, ["1.0"])
    mirror.add_index("one", serve(index))
    runs = [
        mirror_process(mirror, "sync", project, "--quiet", program=SAME_SECOND)
        for project in ("foo", "bar")
    ]
    for run in runs:
        _out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err.decode()
    assert len(list(barrier.iterdir())) == 2
    rows = mirror.sql("SELECT name, state FROM snapshot ORDER BY name")
    assert rows == [("20261124T101500", "complete"), ("20261124T101500-2", "complete")]
    # The clock is fixed here, so both completions carry the same time and `latest` cannot
    # tell them apart: whichever completed last holds both projects.
    held = [
        sorted(
            p
            for (p,) in mirror.sql(
                "SELECT project FROM snapshot_page sp JOIN snapshot s ON s.id = sp.snapshot_id "
                "WHERE s.name = ?",
                (name,),
            )
        )
        for name, _ in rows
    ]
    assert ["bar", "foo"] in held


@pytest.mark.slow
def test_two_syncs_of_the_same_projects_at_once_store_each_payload_once(
    mirror: Mirror, serve: Serve
) -> None:
    # Both syncers fetch the same pages and metadata at the same time: every content-addressed
    # row (payload, parsed metadata, page) is inserted by one and found by the other.
    index = FixtureIndex()
    projects = [f"p{n:02d}" for n in range(24)]
    for name in projects:
        make_project(index, name, ["1.0", "2.0"])
    mirror.add_index("one", serve(index))
    runs = [
        mirror_process(mirror, "sync", *projects, "--versions", "all", "--name", name, "--quiet")
        for name in ("left", "right")
    ]
    for run in runs:
        _out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err.decode()
    shown = {s["name"]: s for s in mirror.json("snapshot", "list")}
    assert {shown[n]["state"] for n in ("left", "right")} == {"complete"}
    assert shown["left"]["digest"] == shown["right"]["digest"]
    assert shown["left"]["pages"] == len(projects)
    assert mirror.scalar("SELECT count(*) FROM page") == len(projects)
    assert mirror.scalar("SELECT count(*) FROM metadata") == 2 * len(projects)
    assert mirror.scalar("SELECT count(DISTINCT sha256) FROM blob") == mirror.scalar(
        "SELECT count(*) FROM blob"
    )
    assert "payloads verified" in mirror.run("db", "check").stderr
