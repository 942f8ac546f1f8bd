"""`mirror snapshot list|show|diff|delete` on snapshots written directly (no HTTP)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from db.records import FetchedPage
from tests.db import assert_error, db_dump, new_engine, run_mirror, sdist, wheel, write_snapshot

OLD = {
    ("main", "alpha"): [wheel("alpha", "1.0"), sdist("alpha", "1.0")],
    ("main", "beta"): [wheel("beta", "2.0")],
}
NEW = {
    ("main", "alpha"): [wheel("alpha", "1.0", yanked=True), wheel("alpha", "1.1")],
    ("main", "gamma"): [wheel("gamma", "0.1")],
    ("extra", "alpha"): FetchedPage(status=0, error="ClientConnectorError: refused"),
}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "mirror.db"
    engine = new_engine(path)
    write_snapshot(engine, "old", OLD, metadata=[("main", "beta-2.0-py3-none-any.whl", b"b")])
    write_snapshot(engine, "new", NEW)
    write_snapshot(engine, "wip", OLD, complete=False)
    engine.dispose()
    return path


def _mirror(db: Path, *args: str) -> tuple[str, str]:
    result = run_mirror("--db", str(db), *args)
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def _digests(db: Path) -> dict[str, str | None]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT name, digest FROM snapshot").fetchall())
    finally:
        conn.close()


def test_list(db: Path) -> None:
    out, _ = _mirror(db, "snapshot", "list")
    rows = [line.split("\t") for line in out.splitlines()]
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("old", "complete", "2 pages"),
        ("new", "complete", "3 pages"),
        ("wip", "building", "2 pages"),
    ]
    assert rows[0][2] == _digests(db)["old"][:12]  # type: ignore[index]
    assert rows[2][2] == "-"
    listed = json.loads(_mirror(db, "snapshot", "list", "--json")[0])
    assert [s["name"] for s in listed] == ["old", "new", "wip"]
    assert set(listed[0]) == {
        "name",
        "state",
        "created_at",
        "completed_at",
        "digest",
        "pages",
        "summary",
    }
    assert listed[2]["digest"] is None and listed[2]["completed_at"] is None


@pytest.mark.parametrize("ref", ["new", "latest", "DIGEST8", "DIGEST"])
def test_show_by_name_latest_and_digest(db: Path, ref: str) -> None:
    digest = _digests(db)["new"]
    assert digest is not None
    ref = {"DIGEST8": digest[:8], "DIGEST": digest}.get(ref, ref)
    details = json.loads(_mirror(db, "snapshot", "show", ref, "--json")[0])
    assert details["name"] == "new"
    assert details["digest"] == digest
    assert details["indexes"] == {
        "extra": {"failed": 1},
        "main": {"files": 3, "found": 2},
    }
    text, _ = _mirror(db, "snapshot", "show", ref)
    assert "name: new\n" in text
    assert f"digest: {digest}\n" in text
    assert "index main: files 3, found 2" in text
    assert "index extra: failed 1" in text


def test_show_building_snapshot(db: Path) -> None:
    text, _ = _mirror(db, "snapshot", "show", "wip")
    assert "state: building" in text


def test_show_unknown(db: Path) -> None:
    before = db_dump(db)
    result = run_mirror("--db", str(db), "snapshot", "show", "nosuch")
    assert_error(result, 2, "'nosuch'")
    assert "old, new, wip" in result.stderr  # the hint names recent snapshots
    assert db_dump(db) == before


def test_show_when_there_are_none(tmp_path: Path) -> None:
    assert run_mirror("--db", str(tmp_path / "fresh.db"), "db", "upgrade").exit_code == 0
    result = run_mirror("--db", str(tmp_path / "fresh.db"), "snapshot", "show", "latest")
    assert_error(result, 2, "no complete snapshot")
    assert "mirror sync" in result.stderr


def test_diff_text_and_json(db: Path) -> None:
    text, _ = _mirror(db, "snapshot", "diff", "old", "new")
    assert text.splitlines() == [
        "+ project gamma (main)",
        "- project beta (main)",
        "+ version alpha 1.1 (main)",
        "+ version gamma 0.1 (main)",
        "- version beta 2.0 (main)",
        "+ file alpha-1.1-py3-none-any.whl (main)",
        "+ file gamma-0.1-py3-none-any.whl (main)",
        "- file alpha-1.0.tar.gz (main)",
        "- file beta-2.0-py3-none-any.whl (main)",
        "! yanked alpha-1.0-py3-none-any.whl (main)",
        "? unknown (a page failed) alpha (extra)",
    ]
    diff = json.loads(_mirror(db, "snapshot", "diff", "old", "latest", "--json")[0])
    assert diff["yanked"] == ["alpha-1.0-py3-none-any.whl (main)"]
    assert diff["unyanked"] == []
    assert diff["unknown"] == ["alpha (extra)"]
    back = json.loads(_mirror(db, "snapshot", "diff", "new", "old", "--json")[0])
    assert back["unyanked"] == ["alpha-1.0-py3-none-any.whl (main)"]
    assert back["projects_added"] == ["beta (main)"]


def test_diff_needs_complete_snapshots(db: Path) -> None:
    result = run_mirror("--db", str(db), "snapshot", "diff", "old", "wip")
    assert_error(result, 2, "'wip' is building")


def test_delete(db: Path) -> None:
    _, err = _mirror(db, "snapshot", "delete", "old")
    # `wip` (still building) holds the same two pages as `old`, so they stay; the METADATA
    # file only `old` referenced goes.
    assert "deleted snapshot old (0 pages, 1 payloads no longer used)" in err
    assert sorted(_digests(db)) == ["new", "wip"]
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM metadata").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM page").fetchone() == (5,)
    finally:
        conn.close()
    _mirror(db, "snapshot", "delete", "wip")
    _mirror(db, "snapshot", "delete", "latest")
    assert _digests(db) == {}
    conn = sqlite3.connect(db)
    try:
        for table in ("page", "file", "blob", "snapshot_page", "snapshot_metadata"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
    finally:
        conn.close()


def test_delete_unknown_changes_nothing(db: Path) -> None:
    before = db_dump(db)
    assert_error(run_mirror("--db", str(db), "snapshot", "delete", "nosuch"), 2, "'nosuch'")
    assert db_dump(db) == before
