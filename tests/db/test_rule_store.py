"""Rule sets as rows: documents round-trip through rows, versions are content-addressed, the
history records every change, and old digests stay readable without SQLAlchemy."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from db.indexes import add_index, remove_index
from db.read.snapshot_reader import SnapshotReader
from db.rules.rows import (
    UnknownRules,
    document_from_rows,
    rows_from_document,
    rule_document,
    rule_history,
)
from db.rules.store import current_digest, record_rule_set
from resolve.policy.prerelease import PrereleaseMode
from resolve.rules.model import IndexRule, IndexStrategy, Pin, RuleSet
from tests.db import file_state, new_engine, wheel, write_snapshot

FULL = RuleSet(
    indexes=(
        IndexRule("nightly", "http://127.0.0.1:8001/whl/", not_here=(401, 403)),
        IndexRule("cpu", "http://127.0.0.1:8002/cpu/", explicit=True, exclude_newer=False),
        IndexRule("main", "http://127.0.0.1:8003/simple/", default=True),
    ),
    strategy=IndexStrategy.UNSAFE_BEST_MATCH,
    pins=(
        Pin("torch", ("cpu",), 'sys_platform == "darwin"'),
        Pin("torch", ("nightly",)),
        Pin("nvidia-*", ("nightly", "cpu")),
    ),
    prerelease=PrereleaseMode.DISALLOW,
    prerelease_packages={"c": PrereleaseMode.ALLOW, "zope-interface": PrereleaseMode.PEP440},
    exclude_newer="2024-03-01T00:00:00Z",
    exclude_newer_packages={"b": False, "c": "2024-01-01T00:00:00Z"},
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = new_engine(tmp_path / "mirror.db")
    yield engine
    engine.dispose()


@contextlib.contextmanager
def _sqlite(engine: Engine) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection, as `resolve` has (no SQLAlchemy)."""
    assert engine.url.database is not None
    conn = sqlite3.connect(engine.url.database)
    try:
        yield conn
    finally:
        conn.close()


def _record(engine: Engine, rules: RuleSet, summary: str = "change") -> bool:
    with engine.begin() as conn:
        return record_rule_set(conn, rules.to_document(), rules.digest, summary)


def test_document_round_trips_through_rows() -> None:
    document = FULL.to_document()
    rows = rows_from_document(document)
    assert document_from_rows(rows) == document
    assert RuleSet.from_document(document_from_rows(rows)).digest == FULL.digest
    by_kind = {(kind, subject): (value, marker) for kind, subject, value, marker in rows}
    # One fact a row, values as JSON: false, null and strings stay apart.
    assert by_kind[("setting", "strategy")] == ('"unsafe-best-match"', None)
    assert by_kind[("index", "cpu")][0] == (
        '{"default":false,"exclude-newer":false,"explicit":true,"not-here":[],'
        '"url":"http://127.0.0.1:8002/cpu/"}'
    )
    assert ("pin", "torch") in by_kind and by_kind[("exclude-newer", "b")] == ("false", None)
    assert [r[1] for r in rows if r[0] == "pin"] == ["torch", "torch", "nvidia-*"]
    assert [r[3] for r in rows if r[0] == "pin"] == ['sys_platform == "darwin"', None, None]


def test_stored_versions_read_back_by_digest_and_prefix(engine: Engine) -> None:
    assert _record(engine, FULL)
    with _sqlite(engine) as conn:
        assert rule_document(conn) == FULL.to_document()
        assert rule_document(conn, FULL.digest) == FULL.to_document()
        assert rule_document(conn, FULL.digest[:8].upper()) == FULL.to_document()
        for ref, needle in (("0000000000", "no stored rule set"), (FULL.digest[:6], "8 of")):
            with pytest.raises(UnknownRules, match=needle) as info:
                rule_document(conn, ref)
            assert info.value.hint is not None and "mirror rules history" in info.value.hint


def test_history_grows_and_undone_changes_reuse_their_rows(engine: Engine) -> None:
    allow = FULL.with_changes(prerelease=PrereleaseMode.ALLOW)
    assert _record(engine, FULL, "first")
    assert not _record(engine, FULL, "again")  # already current: nothing stored
    assert _record(engine, allow, "second")
    assert _record(engine, FULL, "undo")
    with _sqlite(engine) as conn:
        history = rule_history(conn)
        assert [(c.digest, c.summary) for c in history] == [
            (FULL.digest, "undo"),
            (allow.digest, "second"),
            (FULL.digest, "first"),
        ]
        assert conn.execute("SELECT count(*) FROM rule_set").fetchone() == (2,)
        assert rule_document(conn) == FULL.to_document()
        # The older version stays readable by its digest.
        assert rule_document(conn, allow.digest)["prerelease"] == "allow"
    with engine.connect() as conn:
        assert current_digest(conn) == FULL.digest


def test_ambiguous_prefix(engine: Engine) -> None:
    with engine.begin() as conn:
        for digest in ("abcdef12" + "0" * 56, "abcdef12" + "1" * 56):
            conn.execute(
                text("INSERT INTO rule_set (digest, created_at) VALUES (:d, 'now')"), {"d": digest}
            )
    with _sqlite(engine) as conn, pytest.raises(UnknownRules, match="ambiguous"):
        rule_document(conn, "abcdef12")


def test_without_stored_rules_the_indexes_imply_them(engine: Engine) -> None:
    with engine.begin() as conn:
        add_index(conn, name="gone", url="http://127.0.0.1:8000/")
        add_index(conn, name="main", url="http://127.0.0.1:8001/", is_default=True)
        add_index(conn, name="extra", url="http://127.0.0.1:8002/", not_here=(403,))
        add_index(conn, name="cut", url="http://127.0.0.1:8003/", exclude_newer="false")
        remove_index(conn, "gone")
        assert current_digest(conn) is None
    with _sqlite(engine) as conn:
        document = rule_document(conn)
        assert rule_history(conn) == []
    rules = RuleSet.from_document(document)
    assert [i.name for i in rules.indexes] == ["main", "extra", "cut"]
    assert rules.indexes[0].default and rules.indexes[1].not_here == (403,)
    assert rules.indexes[2].exclude_newer is False
    # Every other rule is at its default.
    assert rules.with_changes(indexes=()) == RuleSet()


def test_snapshot_reader_reads_rules_without_writing(engine: Engine) -> None:
    write_snapshot(engine, "s", {("main", "demo"): [wheel("demo", "1.0")]})
    path = Path(str(engine.url.database))
    with SnapshotReader.open(str(path)) as reader:
        implied = RuleSet.from_document(reader.rule_document())
    assert [i.name for i in implied.indexes] == ["main"]
    pinned = implied.with_changes(pins=(Pin("demo", ("main",)),))
    assert _record(engine, implied) and _record(engine, pinned)
    engine.dispose()
    before = file_state(path)
    with SnapshotReader.open(str(path)) as reader:
        assert reader.rule_document() == pinned.to_document()
        assert reader.rule_document(implied.digest[:10]) == implied.to_document()
        with pytest.raises(UnknownRules):
            reader.rule_document("f" * 64)
    assert file_state(path) == before
