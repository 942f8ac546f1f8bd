"""Resolving reads each version's Requires-Dist as the snapshot stores it split, and splits on
the fly what a row does not hold split (a row imported from an older bundle): same lock."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from db.requirement_facts import split_json
from tests.resolve.endtoend import TARGET, catalogue, resolved, shop_index, sync_snapshot


def test_rows_without_their_split_resolve_to_the_same_lock(tmp_path: Path) -> None:
    pypi = shop_index()
    pypi.projects.update(catalogue().projects)
    mirror, _ = sync_snapshot(tmp_path, {"pypi": pypi})
    args = ("zeta-pkg", "app[web]", "plugin[all]", *TARGET)
    expected = resolved(mirror, *args)
    with sqlite3.connect(mirror.db) as conn:
        stored = conn.execute("SELECT requires_dist, requires_split FROM metadata").fetchall()
        assert any(json.loads(texts) for texts, _ in stored)
        assert all(split == split_json(json.loads(texts)) for texts, split in stored)
        conn.execute("UPDATE metadata SET requires_split = NULL")

    assert resolved(mirror, *args) == expected
