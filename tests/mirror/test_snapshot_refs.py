"""Which snapshot `latest`, a name, a digest or a digest prefix means, through the real CLIs
(db/snapshot_ref.py): `latest` is the newest *complete* snapshot; a digest two no-change
syncs share means the newer of them; an ambiguous prefix is an error listing the digests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from db.engine import open_engine
from db.write.snapshot_writer import SnapshotWriter
from tests.conftest import Mirror, Serve
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.mirror.test_download import Setup, listing
from tests.resolve.endtoend import invoke, resolved


def _synced(mirror: Mirror, serve: Serve) -> FixtureIndex:
    index = FixtureIndex()
    make_project(index, "foo", ["1.0"])
    mirror.add_index("one", serve(index))
    return index


def _show(mirror: Mirror, ref: str) -> dict[str, object]:
    details: dict[str, object] = mirror.json("snapshot", "show", ref)
    return details


def test_latest_skips_a_snapshot_still_building(mirror: Mirror, serve: Serve) -> None:
    index = _synced(mirror, serve)
    done = mirror.sync("foo", "--name", "done")
    make_project(index, "foo", ["2.0"])
    # A sync that started later and never finished (interrupted): left `building`.
    engine = open_engine(f"sqlite:///{mirror.db}")
    writer = SnapshotWriter.open(engine, name="unfinished", plan={"projects": ["foo", "bar"]})
    writer.flush()
    engine.dispose()
    assert _show(mirror, "unfinished")["state"] == "building"

    shown = _show(mirror, "latest")
    assert (shown["name"], shown["digest"]) == ("done", done["digest"])
    lock = resolved(mirror, "foo")
    assert "foo==1.0" in lock and f"snapshot: done (sha256 {done['digest']})" in lock


def test_latest_is_the_one_completed_last(mirror: Mirror, serve: Serve) -> None:
    """A sync started first but completed (resumed) last is the newest complete snapshot."""
    _synced(mirror, serve)
    engine = open_engine(f"sqlite:///{mirror.db}")
    slow = SnapshotWriter.open(engine, name="started-first", plan={"slow": True})
    mirror.sync("foo", "--name", "started-second")
    assert _show(mirror, "latest")["name"] == "started-second"
    slow.complete({}, cumulative=True)
    engine.dispose()
    assert _show(mirror, "latest")["name"] == "started-first"


def test_a_digest_two_syncs_share_means_the_newer(mirror: Mirror, serve: Serve) -> None:
    _synced(mirror, serve)
    first = mirror.sync("foo")
    second = mirror.sync("foo")  # nothing changed: the same content, the same digest
    digest = first["digest"]
    assert second["digest"] == digest and first["snapshot"] != second["snapshot"]

    for ref in (digest, f"sha256:{digest}", digest[:8], digest[:8].upper()):
        assert _show(mirror, ref)["name"] == second["snapshot"], ref
    lock = resolved(mirror, "foo", "--snapshot", digest[:8])
    assert "foo==1.0" in lock and f"sha256 {digest}" in lock
    # Shorter than 8 hex digits is not a prefix.
    result = mirror.run("snapshot", "show", digest[:7], code=2)
    assert "no snapshot named" in result.stderr and "at least 8 hex digits" in result.stderr


def test_a_prefix_of_two_digests_is_ambiguous(mirror: Mirror, serve: Serve) -> None:
    index = _synced(mirror, serve)
    first = mirror.sync("foo")
    make_project(index, "foo", ["2.0"])
    second = mirror.sync("foo")
    assert first["digest"] != second["digest"]
    # Two different digests sharing their first 8 digits: give the first one the second's.
    shared = second["digest"][:8]
    conn = sqlite3.connect(mirror.db)
    with conn:
        conn.execute(
            "UPDATE snapshot SET digest = ? WHERE name = ?",
            (shared + first["digest"][8:], first["snapshot"]),
        )
    conn.close()

    result = mirror.run("snapshot", "show", shared, code=2)
    assert "error: the digest prefix" in result.stderr and "hint: give more digits" in result.stderr
    assert shared + first["digest"][8:] in result.stderr and second["digest"] in result.stderr
    result = invoke(mirror, "foo", "--snapshot", shared)
    assert result.exit_code == 2 and "matches 2 different snapshots" in result.stderr
    assert _show(mirror, second["digest"][:12])["name"] == second["snapshot"]


def test_download_of_a_lock_whose_digest_two_snapshots_share(
    mirror: Mirror, serve: Serve, tmp_path: Path
) -> None:
    setup = Setup(mirror, serve, tmp_path)
    again = mirror.sync("foo", "bar")
    assert again["digest"] == setup.summary["digest"]
    setup.write_lock()
    setup.download()
    assert listing(setup.dest) == sorted(setup.rows)
