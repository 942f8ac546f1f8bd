"""Made-up snapshot names never collide: two writers opening in the same clock second get
distinct names, also when the second one checked before the first one inserted."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection

import db.write.snapshot_writer as snapshot_writer
from db.errors import SneakernetError
from db.snapshot_names import given_name
from db.write.snapshot_writer import SnapshotWriter
from tests.db import new_engine

CLOCK = "2026-11-24T10:15:00.000000Z"


def _name(writer: SnapshotWriter) -> str:
    with writer.engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT name FROM snapshot WHERE id = ?", (writer.snapshot_id,)
        ).one()
    return str(row[0])


def test_two_writers_in_one_second_race_for_a_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = new_engine(tmp_path / "mirror.db")
    monkeypatch.setattr(snapshot_writer, "now_utc", lambda: CLOCK)
    first = SnapshotWriter.open(engine, name=None, plan={"projects": ["a"]})
    # The second writer looked before the first one's insert committed: every name seemed free.
    real = snapshot_writer._name_taken
    looks = []

    def stale_once(conn: Connection, name: str) -> bool:
        looks.append(name)
        return len(looks) > 1 and real(conn, name)

    monkeypatch.setattr(snapshot_writer, "_name_taken", stale_once)
    second = SnapshotWriter.open(engine, name=None, plan={"projects": ["b"]})
    third = SnapshotWriter.open(engine, name=None, plan={"projects": ["c"]})
    names = [_name(w) for w in (first, second, third)]
    assert looks[0] == "20261124T101500"  # the stale look, then the retry's
    assert names == ["20261124T101500", "20261124T101500-2", "20261124T101500-3"]
    assert [given_name(n) for n in names] == [None, None, None]
    engine.dispose()


def test_a_given_name_in_use_is_still_an_error(tmp_path: Path) -> None:
    engine = new_engine(tmp_path / "mirror.db")
    SnapshotWriter.open(engine, name="mine", plan={"projects": ["a"]})
    with pytest.raises(SneakernetError, match="a snapshot named 'mine' already exists"):
        SnapshotWriter.open(engine, name="mine", plan={"projects": ["b"]})
    engine.dispose()
