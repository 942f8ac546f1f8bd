"""``page.listing``: each page's files grouped by version when stored, filled by the migration
for pages stored before it, computed by an import rather than read from a bundle, and grouped
on the fly for a page that lacks it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from db.engine import engine_url, open_engine
from db.read.snapshot_reader import SnapshotReader
from db.records import DistFile, FetchedPage
from db.version_listing import Listing, listing_json, listing_of, load_listing
from db.write.snapshot_writer import SnapshotWriter
from tests.db import _index_ids, fetched_page, sdist, wheel
from tests.db.test_schema import _alembic


def test_versions_ascend_spellings_stay_adjacent_and_invalid_text_is_apart() -> None:
    heads = [
        ("2.0", True),
        ("1.0.0", True),
        ("nightly", False),
        ("1.0", True),
        ("1.0.0", True),
        ("10.0", True),
        ("2.0rc1", True),
        ("nightly", False),
        ("latest", True),  # flagged valid by an older parser, not PEP 440
    ]
    listing = listing_of(heads)
    assert listing == Listing(
        count=9,
        versions=[("1.0.0", [1, 3, 4]), ("2.0rc1", [6]), ("2.0", [0]), ("10.0", [5])],
        invalid=[("nightly", [2, 7]), ("latest", [8])],
        spellings=["1.0"],
    )
    assert listing.texts() == ["1.0", "1.0.0", "10.0", "2.0", "2.0rc1", "latest", "nightly"]
    stored = load_listing(listing_json(listing))
    assert listing_json(stored) == listing_json(listing) and stored.texts() == listing.texts()
    assert listing_of(()) == Listing(0, [], [], [])


def _files() -> list[DistFile]:
    return [
        wheel("demo", "2.0"),
        sdist("demo", "2.0"),
        replace(sdist("demo", "nightly"), version_valid=False),
        wheel("demo", "1.0.0"),
        wheel("demo", "1.0", tag="py2-none-any"),
    ]


def _write(engine: Engine) -> None:
    ids = _index_ids(engine, ["main"])
    writer = SnapshotWriter.open(engine, name="listed", plan={"test": "listing"})
    writer.record_page(ids["main"], "demo", fetched_page("demo", _files()))
    writer.record_page(ids["main"], "gone", FetchedPage(status=404))
    writer.complete({"test": True}, cumulative=False)


def _listings(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT project, listing FROM page ORDER BY project"))
        return {str(project): listing for project, listing in rows}


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mirror.db'}"
    return str(request.getfixturevalue("pg_url"))


def test_the_writer_stores_it_and_the_migration_fills_it_alike(url: str) -> None:
    engine = open_engine(url)
    _write(engine)
    written = _listings(engine)
    expected = listing_of((f.version, f.version_valid) for f in _files())
    assert written == {"demo": listing_json(expected), "gone": listing_json(listing_of(()))}
    _alembic(engine, "downgrade", "0004")
    _alembic(engine, "upgrade", "head")
    assert _listings(engine) == written
    engine.dispose()


def test_a_page_without_its_listing_is_grouped_on_the_fly(tmp_path: Path) -> None:
    path = tmp_path / "mirror.db"
    engine = create_engine(engine_url(f"sqlite:///{path}"))
    _alembic(engine, "upgrade", "head")
    _write(engine)
    with SnapshotReader.open(str(path)) as reader:
        stored = reader.project("demo", lazy_files=True).pages[0].files
        expected = (stored.listing, [f.filename for f in stored])
    with engine.begin() as conn:
        conn.execute(text("UPDATE page SET listing = NULL"))
    engine.dispose()
    with SnapshotReader.open(str(path)) as reader:
        (page,) = reader.project("demo", lazy_files=True).pages
        assert (page.files.listing, [f.filename for f in page.files]) == expected
        assert [f.version for f in page.files.take([4, 0])] == ["1.0", "2.0"]
