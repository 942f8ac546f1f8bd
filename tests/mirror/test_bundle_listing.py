"""A page's version listing (``page.listing``) never travels in a bundle: the importer
computes it from the file rows it merges, and refuses rows that could make the two disagree;
``mirror db check`` finds a listing that does not match its files."""

from __future__ import annotations

import json
import sqlite3
from functools import partial
from pathlib import Path

import pytest
import zstandard

from tests.conftest import Mirror, Serve
from tests.db import assert_error
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.mirror.test_bundle import TRAILER, other_db, refused, rewrite


@pytest.fixture
def source(mirror: Mirror, serve: Serve) -> Mirror:
    index = FixtureIndex()
    make_project(index, "foo", ["1.0", "2.0", "10.0"], deps=["bar>=1"], sdist=True)
    make_project(index, "bar", ["1.0"])
    mirror.add_index("one", serve(index))
    mirror.sync("foo", "bar", "--name", "s1")
    return mirror


@pytest.fixture
def bundle(source: Mirror, tmp_path: Path) -> Path:
    path = tmp_path / "s1.snb"
    source.run("export", "s1", "-o", str(path))
    return path


def empty_db(tmp_path: Path, source: Mirror) -> Mirror:
    target = other_db(tmp_path, source)
    target.run("db", "upgrade")
    return target


def listings(mirror: Mirror) -> list[tuple[str, str]]:
    return sorted(mirror.sql("SELECT project, listing FROM page"))


def test_the_importer_computes_each_listing_as_the_writer_stored_it(
    source: Mirror, bundle: Path, tmp_path: Path
) -> None:
    inside = zstandard.ZstdDecompressor().decompress(bundle.read_bytes()[:-TRAILER])
    assert b"listing" not in inside
    target = other_db(tmp_path, source)
    target.run("import", str(bundle))
    assert listings(target) == listings(source)
    assert all(json.loads(text)[0] > 0 for _, text in listings(target))


def _edit_section(table: str, edit_header: bool, payload: bytes, twice: bool = False) -> bytes:
    """The payload with ``table``'s header given a listing column, or a file row's position
    made a gap (7) or the same as the file before it on its page."""
    lines = payload.split(b"\n")
    (at,) = [i for i, line in enumerate(lines) if line.endswith(f'"table":"{table}"}}'.encode())]
    header = json.loads(lines[at])
    if edit_header:
        header["columns"].append("listing")
        lines[at] = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
        return b"\n".join(lines)
    page, position = header["columns"].index("page_id"), header["columns"].index("position")
    rows = [json.loads(line) for line in lines[at + 1 : at + 4]]
    i = next(i for i in (1, 2) if rows[i][page] == rows[i - 1][page])  # a page's second file
    rows[i][position] = rows[i - 1][position] if twice else 7
    lines[at + 1 + i] = json.dumps(rows[i], separators=(",", ":")).encode()
    return b"\n".join(lines)


def test_a_bundle_carrying_listings_is_refused(
    bundle: Path, source: Mirror, tmp_path: Path
) -> None:
    edited = rewrite(bundle, lambda p: _edit_section("page", True, p), fix_manifest=True)
    refused(empty_db(tmp_path, source), edited, "columns this version does not know (listing)")


@pytest.mark.parametrize("twice", [False, True], ids=["gap", "twice"])
def test_files_not_numbered_in_listing_order_are_refused(
    bundle: Path, source: Mirror, tmp_path: Path, twice: bool
) -> None:
    edit = partial(_edit_section, "file", False, twice=twice)
    edited = rewrite(bundle, edit, fix_manifest=True)
    refused(empty_db(tmp_path, source), edited, "not numbered 0, 1, … in listing order")


def test_db_check_finds_a_listing_that_does_not_match_its_files(source: Mirror) -> None:
    assert "ok:" in source.run("db", "check").stderr
    with sqlite3.connect(source.db) as conn:
        conn.execute("UPDATE page SET listing = '[0,[],[],[]]' WHERE project = 'foo'")
    result = source.run("db", "check", code=2)
    assert_error(result, 2, "1 problem(s)", "(foo): its version listing does not match its files")
    with sqlite3.connect(source.db) as conn:
        conn.execute("UPDATE page SET listing = NULL WHERE project = 'foo'")
    assert "ok:" in source.run("db", "check").stderr  # grouped when read
    with sqlite3.connect(source.db) as conn:
        conn.execute("UPDATE file SET position = position + 1 WHERE project = 'bar'")
    result = source.run("db", "check", code=2)
    assert_error(result, 2, "1 problem(s)", "(bar): its files are not numbered 0, 1, …")
