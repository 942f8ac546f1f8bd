"""The alembic migrations and ``db.schema`` describe exactly the same database."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.runtime.migration import MigrationContext as _Context
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, create_engine, inspect, text

from db.engine import HEAD_REVISION, engine_url, open_engine, schema_revision
from db.migrate import alembic_config, head_revision, known_revisions
from db.paths import KNOWN_REVISIONS
from db.schema import metadata_obj


def _alembic(engine: Engine, action: str, target: str) -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, action)(config, target)


def _unquote(default: str | None) -> str | None:
    if default is None:
        return None
    # PostgreSQL reflects a default with its cast: 'simple'::character varying.
    value = re.sub(r"::[a-z ]+$", "", default.strip())
    while value.startswith("(") and value.endswith(")"):
        value = value[1:-1].strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        value = value[1:-1].replace("''", "'")
    return value


def _compare_default(
    context: _Context,
    inspected_column: Column[object],
    metadata_column: Column[object],
    inspected_default: str | None,
    metadata_default: object,
    rendered_metadata_default: str | None,
) -> bool:
    # alembic's SQLite comparison does not unquote an empty string default ('' stays "''"),
    # so compare the values with SQL quoting and parentheses removed on both sides.
    return _unquote(inspected_default) != _unquote(rendered_metadata_default)


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": _compare_default}
        )
        return list(compare_metadata(context, metadata_obj))


def _structure(path: Path) -> dict[str, object]:
    """Everything SQLite knows about each table: columns, keys, indexes (with their predicate),
    foreign keys with their actions, and whether the table has a rowid."""
    conn = sqlite3.connect(path)
    try:
        out: dict[str, object] = {}
        tables = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='table' AND name != 'alembic_version'"
        ).fetchall()
        for name, sql in tables:
            indexes = {}
            for row in conn.execute(f'PRAGMA index_list("{name}")'):
                index_name, unique, origin, partial = row[1], row[2], row[3], row[4]
                columns = [r[2] for r in conn.execute(f'PRAGMA index_info("{index_name}")')]
                # A WITHOUT ROWID table's primary key is the table itself: no sqlite_master row.
                found = conn.execute(
                    "SELECT sql FROM sqlite_master WHERE name = ?", (index_name,)
                ).fetchone()
                index_sql = found[0] if found else None
                where = index_sql.split(" WHERE ", 1)[1] if index_sql and partial else None
                key = index_name if origin == "c" else f"{origin}:{columns}"
                indexes[key] = (unique, columns, where)
            out[name] = {
                "columns": conn.execute(f'PRAGMA table_xinfo("{name}")').fetchall(),
                "indexes": indexes,
                "foreign_keys": sorted(
                    r[2:] for r in conn.execute(f'PRAGMA foreign_key_list("{name}")')
                ),
                "without_rowid": "WITHOUT ROWID" in sql.upper(),
            }
        return out
    finally:
        conn.close()


def test_head_revision_is_the_single_alembic_head() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [HEAD_REVISION]
    assert len(script.get_bases()) == 1
    assert head_revision() == HEAD_REVISION
    assert HEAD_REVISION in known_revisions()
    assert known_revisions() == KNOWN_REVISIONS


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    return str(request.getfixturevalue("pg_empty_url"))


def test_upgrade_from_empty_gives_exactly_the_schema(empty_url: str) -> None:
    engine = create_engine(engine_url(empty_url))
    _alembic(engine, "upgrade", "head")
    assert _differences(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            HEAD_REVISION
        )
    engine.dispose()


def test_comparison_sees_a_difference_on_postgresql(pg_url: str) -> None:
    # The PostgreSQL comparison can fail too: a column type the schema does not say.
    engine = create_engine(engine_url(pg_url))
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE file ALTER COLUMN size TYPE integer"))
    assert _differences(engine) != []
    engine.dispose()


def test_postgresql_keeps_the_partial_unique_index(pg_url: str) -> None:
    # A removed index's name may be used again on PostgreSQL too.
    engine = create_engine(engine_url(pg_url))
    with engine.connect() as conn:
        definition = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_index_active_name'")
        ).scalar()
    engine.dispose()
    assert "UNIQUE" in definition and "WHERE (NOT removed)" in definition


def test_comparison_sees_a_difference(tmp_path: Path) -> None:
    # The check above can fail: a column the migrations do not create is reported.
    engine = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    _alembic(engine, "upgrade", "head")
    with engine.begin() as conn:
        conn.execute(text('ALTER TABLE "index" ADD COLUMN stray INTEGER'))
    assert _differences(engine) != []


def test_migrated_and_created_databases_are_structurally_identical(tmp_path: Path) -> None:
    # Beyond compare_metadata: WITHOUT ROWID, partial-index predicates and ON DELETE actions.
    migrated, created = tmp_path / "migrated.db", tmp_path / "created.db"
    _alembic(create_engine(f"sqlite:///{migrated}"), "upgrade", "head")
    metadata_obj.create_all(create_engine(f"sqlite:///{created}"))
    assert _structure(migrated) == _structure(created)
    assert _structure(migrated)["index"]["indexes"]["uq_index_active_name"] == (  # type: ignore[index]
        1,
        ["name"],
        "removed = 0",
    )


def test_downgrade_to_base_and_upgrade_again(tmp_path: Path) -> None:
    path = tmp_path / "cycle.db"
    engine = open_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO setting (key, value) VALUES ('k', 'v')"))
    _alembic(engine, "downgrade", "base")
    assert inspect(engine).get_table_names() == ["alembic_version"]
    assert schema_revision(path) is None
    _alembic(engine, "upgrade", "head")
    assert _differences(engine) == []
    assert schema_revision(path) == HEAD_REVISION
    engine.dispose()
    # The database opens normally again and is empty.
    with open_engine(f"sqlite:///{path}").connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM setting")).scalar() == 0


def test_upgrade_at_head_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "twice.db"
    open_engine(f"sqlite:///{path}").dispose()
    before = sqlite3.connect(path).execute("SELECT sql FROM sqlite_master").fetchall()
    engine = open_engine(f"sqlite:///{path}")
    _alembic(engine, "upgrade", "head")
    assert sqlite3.connect(path).execute("SELECT sql FROM sqlite_master").fetchall() == before
    assert schema_revision(path) == HEAD_REVISION
