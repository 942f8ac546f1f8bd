"""``db.read.snapshot_reader``: the resolver's read-only, SQLAlchemy-free view of one snapshot."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from db.errors import DatabaseError, UnknownSnapshot
from db.read import snapshot_reader as reader_module
from db.read.snapshot_reader import SnapshotReader
from db.records import CoreMetadata, FetchedPage
from db.write.snapshot_writer import SnapshotWriter
from tests.db import _index_ids, fetched_page, file_state, new_engine, sdist, wheel, write_snapshot


def _rich_snapshot(engine: Engine) -> str:
    """Two indexes: "main" lists demo (wheel with metadata, sdist needing a build) and says
    404 for other; "second" lists demo 2.0 and failed for broken."""
    ids = _index_ids(engine, ["main", "second"])
    writer = SnapshotWriter.open(engine, name="rich", plan={"test": "rich"})
    demo_files = [wheel("demo", "1.0"), sdist("demo", "1.0"), wheel("demo", "0.9", yanked=True)]
    writer.record_page(ids["main"], "demo", fetched_page("demo", demo_files))
    writer.record_page(ids["second"], "demo", fetched_page("demo", [wheel("demo", "2.0")]))
    writer.record_page(ids["main"], "other", FetchedPage(status=404))
    writer.record_page(ids["second"], "broken", FetchedPage(status=503, error="HTTP 503 x3"))
    parsed = CoreMetadata(
        name="demo",
        version="1.0",
        metadata_version="2.1",
        requires_dist=("idna>=2", "rich; extra == 'cli'"),
        requires_python=">=3.9",
        provides_extra=("cli",),
    )
    writer.record_metadata(
        ids["main"], "demo-1.0-py3-none-any.whl", source="pep658", raw=b"META", parsed=parsed
    )
    writer.record_metadata(
        ids["main"], "demo-1.0.tar.gz", source="needs-build", error="setup.py is dynamic"
    )
    return writer.complete({"test": True}, cumulative=False).digest


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "mirror.db"
    engine = new_engine(path)
    _rich_snapshot(engine)
    engine.dispose()
    return path


def test_project_round_trip(db_path: Path) -> None:
    with SnapshotReader.open(str(db_path)) as reader:
        assert reader.snapshot.name == "rich"
        assert [i.name for i in reader.indexes()] == ["main", "second"]
        main, second = reader.indexes()
        assert main.url == "http://127.0.0.1:1/main/" and main.not_here == ()
        assert main.priority < second.priority and main.exclude_newer is None
        record = reader.project("Demo")
    assert record.name == "demo" and record.in_snapshot
    assert [p.index.name for p in record.pages] == ["main", "second"]
    page = record.pages[0]
    assert page.found and not page.failed and page.status == 200 and page.error is None
    assert [f.filename for f in page.files] == [
        "demo-1.0-py3-none-any.whl",
        "demo-1.0.tar.gz",
        "demo-0.9-py3-none-any.whl",
    ]
    whl, tar, old = page.files
    expected = wheel("demo", "1.0")
    assert (whl.url, whl.version, whl.version_valid, whl.is_wheel, whl.tags) == (
        expected.url,
        "1.0",
        True,
        True,
        "py3-none-any",
    )
    assert whl.sha256 == expected.sha256 and whl.hashes == expected.hashes
    assert (whl.size, whl.upload_time, whl.yanked) == (1000, "2024-01-01T00:00:00Z", False)
    assert whl.metadata is not None and whl.metadata.available
    assert whl.metadata.source == "pep658"
    assert whl.metadata.requires_dist == ("idna>=2", "rich; extra == 'cli'")
    assert whl.metadata.requires_python == ">=3.9"
    assert whl.metadata.provides_extra == ("cli",)
    assert not tar.is_wheel and tar.metadata is not None and not tar.metadata.available
    assert (tar.metadata.source, tar.metadata.error) == ("needs-build", "setup.py is dynamic")
    assert old.yanked and old.yanked_reason == "broken" and old.metadata is None
    assert [f.version for f in record.pages[1].files] == ["2.0"]


def test_failed_page_and_not_here_and_absent(db_path: Path) -> None:
    with SnapshotReader.open(str(db_path)) as reader:
        broken = reader.project("broken")
        other = reader.project("other")
        absent = reader.project("never-synced")
    assert broken.in_snapshot and len(broken.pages) == 1
    assert broken.pages[0].failed and not broken.pages[0].found
    assert broken.pages[0].error == "HTTP 503 x3" and broken.pages[0].status == 503
    assert other.in_snapshot and other.pages[0].status == 404
    assert other.pages[0].not_here and not other.pages[0].failed and other.pages[0].files == ()
    assert not absent.in_snapshot and absent.pages == ()


def test_latest_ignores_building_and_refs(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    engine = new_engine(path)
    first = write_snapshot(engine, "first", {("pypi", "a"): [wheel("a", "1")]})
    second = write_snapshot(engine, "second", {("pypi", "a"): [wheel("a", "2")]})
    write_snapshot(engine, "third", {("pypi", "a"): [wheel("a", "3")]}, complete=False)
    engine.dispose()
    assert first is not None and second is not None and first != second
    with SnapshotReader.open(str(path)) as reader:
        assert (reader.snapshot.name, reader.snapshot.digest) == ("second", second)
        assert [f.version for f in reader.project("a").pages[0].files] == ["2"]
    with SnapshotReader.open(f"sqlite:///{path}", first[:8].upper()) as reader:
        assert reader.snapshot.name == "first"
        assert [f.version for f in reader.project("a").pages[0].files] == ["1"]
    with SnapshotReader.open(str(path), "first") as reader:
        assert reader.snapshot.digest == first
    with pytest.raises(UnknownSnapshot, match="building, not complete"):
        SnapshotReader.open(str(path), "third")
    with pytest.raises(UnknownSnapshot, match="no snapshot named") as info:
        SnapshotReader.open(str(path), "nope")
    assert info.value.hint is not None and "first, second, third" in info.value.hint
    with pytest.raises(UnknownSnapshot, match="no snapshot named"):
        SnapshotReader.open(str(path), first[:7])  # too short for a digest prefix


def test_no_complete_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    engine = new_engine(path)
    write_snapshot(engine, "wip", {("pypi", "a"): [wheel("a", "1")]}, complete=False)
    engine.dispose()
    with pytest.raises(UnknownSnapshot, match="no complete snapshot") as info:
        SnapshotReader.open(str(path))
    assert isinstance(info.value, DatabaseError)


def test_database_errors(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DatabaseError, match="no database at"):
        SnapshotReader.open(str(tmp_path / "missing.db"))
    assert not (tmp_path / "missing.db").exists()
    text = tmp_path / "notes.txt"
    text.write_text("hello, not a database at all")
    with pytest.raises(DatabaseError, match="not an SQLite database"):
        SnapshotReader.open(str(text))
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE stuff (x)")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="not a sneakernet one"):
        SnapshotReader.open(str(foreign))
    with pytest.raises(DatabaseError, match="not an SQLite database file or a PostgreSQL URL"):
        SnapshotReader.open("mysql://u:p@h/db")
    # A server that is not there: named, its password masked.
    with pytest.raises(
        DatabaseError, match=r"cannot connect to postgresql://u:\*\*\*\*@/db"
    ) as info:
        SnapshotReader.open(f"postgresql://u:secret@/db?host={tmp_path / 'no-server'}")
    assert "secret" not in info.value.message

    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="newer than this version") as info:
        SnapshotReader.open(str(db_path))
    assert info.value.hint is not None and "upgrade sneakernet" in info.value.hint
    # An older revision this code knows how to upgrade from.
    monkeypatch.setattr(
        reader_module, "KNOWN_REVISIONS", frozenset({"0001", "9999_from_the_future"})
    )
    with pytest.raises(DatabaseError, match="needs an upgrade") as info:
        SnapshotReader.open(str(db_path))
    assert info.value.hint == "run `mirror db upgrade`"


def test_reader_never_writes(db_path: Path) -> None:
    before = file_state(db_path)
    with SnapshotReader.open(str(db_path)) as reader:
        reader.indexes()
        reader.project("demo")
        reader.project("absent")
    assert file_state(db_path) == before


def test_rows_are_ordered_by_priority_then_position(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    engine = new_engine(path)
    files = [wheel("z", v) for v in ("3", "1", "2")]
    write_snapshot(engine, "s", {("b", "z"): files[:1], ("a", "z"): files})
    engine.dispose()
    with SnapshotReader.open(str(path)) as reader:
        record = reader.project("z")
        # Indexes are created in name order, so "a" has the higher priority.
        assert [p.index.name for p in record.pages] == ["a", "b"]
        assert [f.version for f in record.pages[0].files] == ["3", "1", "2"]
        assert [i.name for i in reader.indexes()] == ["a", "b"]


def test_import_does_not_load_sqlalchemy() -> None:
    code = (
        "import sys, db.read.snapshot_reader; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'sqlalchemy', 'alembic'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "[]"


def test_lazy_files_group_by_version_and_read_upload_times_apart(tmp_path: Path) -> None:
    """A lazy page lists (version, validity, id) per file; upload times (for a cutoff) and
    filenames (for an invalid version's exclusion) come from the page when asked for."""
    from dataclasses import replace

    from packaging.version import Version

    from resolve.candidates.judge import Reason, Target
    from resolve.candidates.project import build_candidates
    from resolve.rules.model import IndexRule, RuleSet
    from resolve.targets.environment import TargetEnvironment

    engine = new_engine(tmp_path / "mirror.db")
    ids = _index_ids(engine, ["main"])
    writer = SnapshotWriter.open(engine, name="times", plan={"test": "times"})
    files = [
        replace(wheel("demo", "2.0"), upload_time="2024-09-01T00:00:00Z"),
        replace(sdist("demo", "nightly"), version_valid=False),
        wheel("demo", "1.0"),
    ]
    writer.record_page(ids["main"], "demo", fetched_page("demo", files))
    writer.complete({"test": True}, cumulative=False)
    engine.dispose()
    rules = RuleSet(
        indexes=(IndexRule("main", "http://127.0.0.1:1/main/", True),),
        exclude_newer="2024-06-01T00:00:00Z",
    )
    target = Target(TargetEnvironment.create("3.12", "x86_64-manylinux_2_28"))
    with SnapshotReader.open(str(tmp_path / "mirror.db")) as reader:
        (page,) = reader.project("demo", lazy_files=True).pages
        listing = page.files.listing
        assert (listing.count, listing.spellings) == (3, [])
        assert [tuple(g) for g in listing.versions + listing.invalid] == [
            ("1.0", [2]),
            ("2.0", [0]),
            ("nightly", [1]),
        ]
        assert page.files.upload_times() == [f.upload_time for f in files]
        assert page.files.upload_times() == [f.upload_time for f in page.files]
        candidates = build_candidates(
            reader.project("demo", lazy_files=True), rules, target, target.environment.markers
        )
        assert list(candidates.versions) == [Version("1.0")]
        invalid = [e for e in candidates.excluded if e.reason is Reason.INVALID_VERSION]
    assert [(e.version, e.filename) for e in invalid] == [("nightly", "demo-nightly.tar.gz")]
