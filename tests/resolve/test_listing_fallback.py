"""Resolving reads each page's versions from the listing stored with it, and groups on the fly
the pages that lack one (stored before the column existed): same lock, same explanation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.resolve.endtoend import TARGET, catalogue, failed, resolved, shop_index, sync_snapshot


def test_pages_without_their_listing_resolve_to_the_same_lock(tmp_path: Path) -> None:
    pypi = shop_index()
    pypi.projects.update(catalogue().projects)
    mirror, _ = sync_snapshot(tmp_path, {"pypi": pypi})
    args = ("zeta-pkg", "app[web]", "plugin[all]", *TARGET)
    expected = resolved(mirror, *args)
    explained = resolved(mirror, *args, "--explain", "app")
    with sqlite3.connect(mirror.db) as conn:
        assert conn.execute("SELECT count(*) FROM page WHERE listing IS NULL").fetchone() == (0,)
        conn.execute("UPDATE page SET listing = NULL")

    assert resolved(mirror, *args) == expected
    assert resolved(mirror, *args, "--explain", "app") == explained
    assert "app" in explained


@pytest.mark.parametrize("listing", ["[1,", '[1,[["1.0",[5]]],[],[]]'], ids=["json", "position"])
def test_a_damaged_listing_is_an_error_that_names_the_check(tmp_path: Path, listing: str) -> None:
    mirror, _ = sync_snapshot(tmp_path, {"pypi": shop_index()})
    with sqlite3.connect(mirror.db) as conn:
        conn.execute("UPDATE page SET listing = ?", (listing,))
    stderr = failed(mirror, "app", *TARGET, code=2)
    assert "error: a page's version listing is damaged" in stderr
    assert "hint: run `mirror db check`" in stderr
