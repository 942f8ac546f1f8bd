"""Opening databases (create, migrate, refuse) and the content-addressed payload store."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from db.blobs import get_blob, put_blob, sha256_hex
from db.engine import (
    HEAD_REVISION,
    database_path,
    database_url,
    open_engine,
    schema_revision,
)
from db.errors import DatabaseError
from db.schema import blob
from tests.db import file_state, new_engine

# -- URLs ------------------------------------------------------------------------------------


def test_database_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIRROR_DB", raising=False)
    assert database_url(None) == "sqlite:///mirror.db"
    assert database_url(str(tmp_path / "a.db")) == f"sqlite:///{tmp_path / 'a.db'}"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"
    monkeypatch.setenv("MIRROR_DB", str(tmp_path / "env.db"))
    assert database_url(None) == f"sqlite:///{tmp_path / 'env.db'}"
    assert database_url(str(tmp_path / "flag.db")) == f"sqlite:///{tmp_path / 'flag.db'}"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert database_url("~/home.db") == f"sqlite:///{tmp_path / 'home.db'}"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///rel/x.db", Path("rel/x.db")),
        ("sqlite:////abs/x.db", Path("/abs/x.db")),
        ("sqlite+pysqlite:////abs/x.db", Path("/abs/x.db")),
        ("sqlite:////abs/x.db?timeout=5", Path("/abs/x.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql://u:p@h/db", None),
    ],
)
def test_database_path(url: str, path: Path | None) -> None:
    assert database_path(url) == path


@pytest.mark.parametrize(
    "url",
    ["mysql://u:secret@h/db", "postgresql+psycopg2://u:secret@h/db", "foo://bar", "not a url://"],
)
def test_an_unsupported_url_is_refused(url: str) -> None:
    with pytest.raises(DatabaseError) as info:
        open_engine(url)
    assert "secret" not in info.value.message
    assert info.value.hint


@pytest.mark.postgresql
@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg"])
def test_postgresql_urls_open_through_psycopg(pg_url: str, scheme: str) -> None:
    engine = open_engine(pg_url.replace("postgresql", scheme, 1))
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            HEAD_REVISION
        )
    engine.dispose()


def test_an_unreachable_server_is_named_without_its_password(tmp_path: Path) -> None:
    with pytest.raises(
        DatabaseError, match="cannot connect to postgresql://u:\\*\\*\\*\\*@/db"
    ) as info:
        open_engine(f"postgresql://u:secret@/db?host={tmp_path}")
    assert "secret" not in info.value.message
    assert info.value.hint is not None and "PGPASSWORD" in info.value.hint


def test_the_sqlite_path_never_imports_the_postgresql_driver(tmp_path: Path) -> None:
    # psycopg is an optional extra; SQLite users neither need it nor pay for its import (nor
    # for SQLAlchemy's PostgreSQL dialect, once the schema is at head and alembic stays out).
    open_engine(f"sqlite:///{tmp_path / 'm.db'}").dispose()
    program = (
        "import sys; from db.engine import open_engine; "
        "from db.read.snapshot_reader import SnapshotReader; import mirror.cli.main; "
        f"open_engine('sqlite:///{tmp_path / 'm.db'}').dispose(); "
        "loaded = sorted(m for m in sys.modules if 'psycopg' in m or 'postgresql' in m); "
        "assert not loaded, loaded"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_sqlite_url_with_query_string_still_checks_the_file(tmp_path: Path) -> None:
    foreign = tmp_path / "other.db"
    _foreign_db(foreign)
    before = file_state(foreign)
    with pytest.raises(DatabaseError, match="not a sneakernet one"):
        open_engine(f"sqlite:///{foreign}?timeout=5")
    assert file_state(foreign) == before


# -- a new database --------------------------------------------------------------------------


def test_new_database_is_wal_with_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    engine = new_engine(path)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
    # WAL is persistent: the file header says so (bytes 18-19 are 2 in WAL mode).
    assert path.read_bytes()[18:20] == b"\x02\x02"
    assert schema_revision(path) == HEAD_REVISION


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    engine = new_engine(tmp_path / "fk.db")
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO metadata (sha256, name, version, metadata_version, requires_dist,"
                " requires_python, provides_extra, dynamic)"
                " VALUES ('0' , 'a', '1', '2.1', '[]', NULL, '[]', '[]')"
            )
        )


def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "again.db"
    with new_engine(path).begin() as conn:
        digest = put_blob(conn, b"payload")
    with open_engine(f"sqlite:///{path}", create=False).connect() as conn:
        assert get_blob(conn, digest) == b"payload"


def test_empty_file_becomes_a_database(tmp_path: Path) -> None:
    # SQLite treats a zero-byte file as an empty database; there is nothing in it to lose.
    path = tmp_path / "empty.db"
    path.touch()
    new_engine(path).dispose()
    assert schema_revision(path) == HEAD_REVISION


def test_missing_database_without_create(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="no database at"):
        open_engine(f"sqlite:///{tmp_path / 'absent.db'}", create=False)
    assert not (tmp_path / "absent.db").exists()


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="does not exist"):
        open_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'x.db'}")


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="is a directory"):
        open_engine(f"sqlite:///{tmp_path}")


def test_empty_database_needing_upgrade_without_permission(tmp_path: Path) -> None:
    path = tmp_path / "blank.db"
    path.touch()
    with pytest.raises(DatabaseError, match="needs a schema upgrade") as info:
        open_engine(f"sqlite:///{path}", upgrade=False)
    assert "mirror db upgrade" in (info.value.hint or "")


# -- refusing files that are not ours, untouched ---------------------------------------------


def _foreign_db(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users (name) VALUES ('ada')")
    conn.commit()
    conn.close()


def _refused(path: Path, match: str) -> DatabaseError:
    before = file_state(path)
    with pytest.raises(DatabaseError, match=match) as info:
        open_engine(f"sqlite:///{path}")
    assert str(path) in info.value.message
    assert info.value.hint
    assert file_state(path) == before
    return info.value


def test_foreign_sqlite_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    _foreign_db(path)
    error = _refused(path, "not a sneakernet one")
    assert "users" in error.message
    assert sqlite3.connect(path).execute("SELECT name FROM users").fetchall() == [("ada",)]


@pytest.mark.parametrize(
    "content",
    [os.urandom(4096), b"hello world\n" * 100, b"SQLite format 2\x00" + bytes(100)],
    ids=["random", "text", "near-magic"],
)
def test_non_sqlite_file_is_refused_and_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "data.db"
    path.write_bytes(content)
    _refused(path, "not an SQLite database")


def _newer(tmp_path: Path) -> Path:
    path = tmp_path / "newer.db"
    new_engine(path).dispose()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for sidecar in ("-wal", "-shm"):
        Path(f"{path}{sidecar}").unlink(missing_ok=True)
    return path


def test_newer_schema_is_refused_and_untouched(tmp_path: Path) -> None:
    path = _newer(tmp_path)
    error = _refused(path, "newer")
    assert "9999_from_the_future" in error.message
    assert schema_revision(path) == "9999_from_the_future"


def test_revision_is_read_through_a_live_wal(tmp_path: Path) -> None:
    # While another engine holds the database open, committed data may live only in the WAL
    # file; the revision probe must read through it.
    path = tmp_path / "live.db"
    engine = new_engine(path)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        assert Path(f"{path}-wal").exists()
        assert schema_revision(path) == HEAD_REVISION
        with open_engine(f"sqlite:///{path}", create=False).connect() as other:
            assert other.execute(text("SELECT count(*) FROM blob")).scalar() == 0
    engine.dispose()


def test_path_with_url_characters(tmp_path: Path) -> None:
    path = tmp_path / "odd ?name#1%20.db"
    url = database_url(str(path))
    assert database_path(url) == path
    open_engine(url).dispose()
    assert path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert schema_revision(path) == HEAD_REVISION


@pytest.mark.parametrize("keep", [100, 0.5])
def test_truncated_database_is_refused(tmp_path: Path, keep: float) -> None:
    path = tmp_path / "whole.db"
    engine = new_engine(path)
    with engine.begin() as conn:
        for n in range(50):
            put_blob(conn, os.urandom(2000) + bytes([n]))
    engine.dispose()
    data = path.read_bytes()
    cut = int(keep) if keep >= 1 else int(len(data) * keep)
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(data[:cut])
    _refused(truncated, "damaged or not a database")


def test_garbled_pages_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "garbled.db"
    new_engine(path).dispose()
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xab" * (len(data) - 4096)  # keep the header page, garble the rest
    path.write_bytes(bytes(data))
    _refused(path, "damaged or not a database")


def test_schema_revision_of_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "blank.db"
    sqlite3.connect(path).execute("VACUUM").connection.close()
    assert schema_revision(path) is None


# -- payloads --------------------------------------------------------------------------------


def test_blob_round_trip_and_dedupe(tmp_path: Path) -> None:
    engine = new_engine(tmp_path / "blobs.db")
    page = b'{"files": []}' * 1000
    with engine.begin() as conn:
        digest = put_blob(conn, page)
        assert put_blob(conn, page) == digest
        other = put_blob(conn, b"")
    assert digest == sha256_hex(page)
    with engine.connect() as conn:
        assert get_blob(conn, digest) == page
        assert get_blob(conn, other) == b""
        rows = conn.execute(select(blob.c.sha256, blob.c.size, blob.c.data)).all()
    assert sorted(r.sha256 for r in rows) == sorted([digest, other])
    stored = {r.sha256: r for r in rows}[digest]
    assert stored.size == len(page)
    assert len(stored.data) < len(page) // 10  # compressed
    assert zstandard.ZstdDecompressor().decompress(stored.data) == page


def test_missing_blob(tmp_path: Path) -> None:
    engine = new_engine(tmp_path / "blobs.db")
    with engine.connect() as conn, pytest.raises(DatabaseError, match="missing"):
        get_blob(conn, "0" * 64)


def _tamper(engine_path: Path, digest: str, data: bytes) -> None:
    conn = sqlite3.connect(engine_path)
    conn.execute("UPDATE blob SET data = ? WHERE sha256 = ?", (data, digest))
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    "replacement",
    [
        b"not zstd at all",
        zstandard.ZstdCompressor().compress(b"other bytes, valid frame"),
        b"",
    ],
    ids=["garbage", "wrong-content", "empty"],
)
def test_corrupt_blob_is_detected(tmp_path: Path, replacement: bytes) -> None:
    path = tmp_path / "blobs.db"
    engine = new_engine(path)
    with engine.begin() as conn:
        digest = put_blob(conn, b"the real page")
    _tamper(path, digest, replacement)
    with engine.connect() as conn, pytest.raises(DatabaseError, match="corrupt") as info:
        get_blob(conn, digest)
    assert digest in info.value.message


def test_copy_of_database_opens(tmp_path: Path) -> None:
    # A snapshot file carried to another machine (copied with its WAL checkpointed) opens.
    path = tmp_path / "a.db"
    engine = new_engine(path)
    with engine.begin() as conn:
        digest = put_blob(conn, b"travels")
    engine.dispose()
    copy = tmp_path / "b.db"
    shutil.copy(path, copy)
    with open_engine(f"sqlite:///{copy}", create=False).connect() as conn:
        assert get_blob(conn, digest) == b"travels"
