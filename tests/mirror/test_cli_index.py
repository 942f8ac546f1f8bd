"""`mirror index add|list|remove` and the `--db` / `$MIRROR_DB` choice of database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.db import assert_error, db_dump, run_mirror


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "mirror.db"


def _add(db: Path, *args: str) -> None:
    result = run_mirror("--db", str(db), "index", "add", *args)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # progress and confirmations go to stderr


def _listed(db: Path) -> list[dict[str, object]]:
    result = run_mirror("--db", str(db), "index", "list", "--json")
    assert result.exit_code == 0, result.output
    value = json.loads(result.stdout)
    assert isinstance(value, list)
    return value


def _rows(db: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT name, url, format, is_default, explicit, not_here, exclude_newer, removed "
            'FROM "index" ORDER BY id'
        ).fetchall()
    finally:
        conn.close()


def test_add_and_list_in_lookup_order(db: Path) -> None:
    _add(db, "first", "http://127.0.0.1:8001/simple/")
    _add(db, "main", "http://127.0.0.1:8002/simple/", "--default")
    _add(db, "second", "http://127.0.0.1:8003/simple/")
    names = [i["name"] for i in _listed(db)]
    # The default index is consulted last, wherever it was added (uv's rule).
    assert names == ["first", "second", "main"]
    text = run_mirror("--db", str(db), "index", "list")
    assert text.exit_code == 0
    assert [line.split("\t")[0] for line in text.stdout.splitlines()] == names
    assert text.stdout.splitlines()[-1] == "main\thttp://127.0.0.1:8002/simple/  [default]"


def test_list_json_shape(db: Path) -> None:
    _add(db, "corp", "http://127.0.0.1:8001/simple/", "--not-here", "403", "--not-here", "401")
    assert _listed(db) == [
        {
            "name": "corp",
            "url": "http://127.0.0.1:8001/simple/",
            "format": "simple",
            "priority": 1,
            "default": False,
            "explicit": False,
            "not_here": [401, 403],
            "exclude_newer": None,
        }
    ]


def test_empty_list(db: Path) -> None:
    assert run_mirror("--db", str(db), "db", "upgrade").exit_code == 0
    result = run_mirror("--db", str(db), "index", "list", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert run_mirror("--db", str(db), "index", "list").stdout == ""


def test_only_one_default(db: Path) -> None:
    _add(db, "a", "http://127.0.0.1:8001/simple/", "--default")
    _add(db, "b", "http://127.0.0.1:8002/simple/", "--default")
    listed = _listed(db)
    assert [(i["name"], i["default"]) for i in listed] == [("a", False), ("b", True)]
    assert [r[3] for r in _rows(db)] == [0, 1]


def test_flags_are_stored(db: Path) -> None:
    _add(db, "pinned", "http://127.0.0.1:8001/simple/", "--explicit")
    _add(db, "nightly", "http://127.0.0.1:8002/whl/", "--not-here", "403")
    _add(db, "cut", "http://127.0.0.1:8003/simple/", "--exclude-newer", "2024-03-01")
    _add(db, "uncut", "http://127.0.0.1:8004/simple/", "--exclude-newer", "false")
    _add(
        db, "zone", "http://127.0.0.1:8005/simple/", "--exclude-newer", "2024-03-01T12:00:00+02:00"
    )
    _add(db, "links", "http://127.0.0.1:8006/wheels/", "--flat")
    by_name = {i["name"]: i for i in _listed(db)}
    assert by_name["pinned"]["explicit"] is True
    assert by_name["nightly"]["not_here"] == [403]
    assert by_name["cut"]["exclude_newer"] == "2024-03-01T00:00:00Z"
    assert by_name["uncut"]["exclude_newer"] == "false"
    assert by_name["zone"]["exclude_newer"] == "2024-03-01T10:00:00Z"
    assert by_name["links"]["format"] == "flat"
    text = run_mirror("--db", str(db), "index", "list").stdout
    assert "pinned\thttp://127.0.0.1:8001/simple/  [explicit]" in text
    assert "nightly\thttp://127.0.0.1:8002/whl/  [not-here 403]" in text
    assert "cut\thttp://127.0.0.1:8003/simple/  [exclude-newer 2024-03-01T00:00:00Z]" in text
    assert "links\thttp://127.0.0.1:8006/wheels/  [flat]" in text


def test_local_directory_becomes_file_url(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels = tmp_path / "wheel house"
    wheels.mkdir()
    monkeypatch.chdir(tmp_path)
    _add(db, "local", "wheel house", "--flat")
    (listed,) = _listed(db)
    assert listed["url"] == wheels.resolve().as_uri() + "/"
    assert listed["url"].startswith("file:///")
    assert "%20" in listed["url"]


def test_credentials_are_never_stored(db: Path) -> None:
    result = run_mirror(
        "--db", str(db), "index", "add", "corp", "http://alice:s3cr3t-token@127.0.0.1:8001/simple/"
    )
    assert result.exit_code == 0, result.output
    assert "s3cr3t" not in result.output and "alice" not in result.output
    _add(db, "tok", "https://only-a-token@127.0.0.1:8443/simple/")
    assert [r[1] for r in _rows(db)] == [
        "http://127.0.0.1:8001/simple/",
        "https://127.0.0.1:8443/simple/",
    ]
    # Not in any row, nor anywhere in the file or its write-ahead log.
    assert not any("s3cr3t" in line or "alice" in line for line in db_dump(db))
    for path in (db, Path(f"{db}-wal")):
        if path.exists():
            data = path.read_bytes()
            assert b"s3cr3t" not in data and b"only-a-token" not in data


def test_duplicate_name(db: Path) -> None:
    _add(db, "corp", "http://127.0.0.1:8001/simple/")
    before = db_dump(db)
    result = run_mirror("--db", str(db), "index", "add", "corp", "http://127.0.0.1:8002/simple/")
    block = assert_error(result, 2, "'corp' already exists")
    assert "corp" in block
    assert "mirror index remove corp" in result.stderr
    assert db_dump(db) == before


def test_remove_unknown_lists_known(db: Path) -> None:
    _add(db, "alpha", "http://127.0.0.1:8001/simple/")
    _add(db, "beta", "http://127.0.0.1:8002/simple/")
    before = db_dump(db)
    result = run_mirror("--db", str(db), "index", "remove", "gamma")
    assert_error(result, 2, "'gamma'", "alpha, beta")
    assert db_dump(db) == before


def test_remove_then_add_again(db: Path) -> None:
    _add(db, "corp", "http://127.0.0.1:8001/simple/", "--default")
    result = run_mirror("--db", str(db), "index", "remove", "corp")
    assert result.exit_code == 0, result.output
    assert _listed(db) == []
    _add(db, "corp", "http://127.0.0.1:8009/simple/")
    assert [(i["name"], i["url"], i["default"]) for i in _listed(db)] == [
        ("corp", "http://127.0.0.1:8009/simple/", False)
    ]
    # The removed row stays (old snapshots still name it), marked removed and no longer default.
    assert [(r[1], r[3], r[7]) for r in _rows(db)] == [
        ("http://127.0.0.1:8001/simple/", 0, 1),
        ("http://127.0.0.1:8009/simple/", 0, 0),
    ]
    again = run_mirror("--db", str(db), "index", "remove", "nosuch")
    assert_error(again, 2, "configured: corp")


@pytest.mark.parametrize("name", ["", "two words", "tab\tname", "-leading", "a/b"])
def test_invalid_index_name(db: Path, name: str) -> None:
    result = run_mirror(
        "--db", str(db), "index", "add", "--", name, "http://127.0.0.1:8001/simple/"
    )
    assert_error(result, 2, "invalid index name")
    assert not db.exists() or _rows(db) == []


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01", "2024-03-01Tnoon"])
def test_invalid_cutoff(db: Path, value: str) -> None:
    result = run_mirror(
        "--db", str(db), "index", "add", "x", "http://127.0.0.1:8001/", "--exclude-newer", value
    )
    assert_error(result, 2, repr(value))


# -- choosing the database -----------------------------------------------------------------


@pytest.mark.parametrize("form", ["path", "url", "env", "relative"])
def test_db_as_path_url_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    target = tmp_path / "chosen.db"
    monkeypatch.chdir(tmp_path)
    args, env = {
        "path": (["--db", str(target)], {}),
        "url": (["--db", f"sqlite:///{target}"], {}),
        "env": ([], {"MIRROR_DB": str(target)}),
        "relative": (["--db", "sqlite:///chosen.db"], {}),
    }[form]
    result = run_mirror(*args, "index", "add", "one", "http://127.0.0.1:1/", env=env)
    assert result.exit_code == 0, result.output
    assert [r[0] for r in _rows(target)] == ["one"]
    assert not (tmp_path / "mirror.db").exists()


def test_db_option_beats_environment(tmp_path: Path) -> None:
    flag, from_env = tmp_path / "flag.db", tmp_path / "env.db"
    env = {"MIRROR_DB": str(from_env)}
    _add(flag, "f", "http://127.0.0.1:1/")
    assert run_mirror("index", "add", "e", "http://127.0.0.1:2/", env=env).exit_code == 0
    listed = run_mirror("--db", str(flag), "index", "list", env=env)
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["f"]
    assert [r[0] for r in _rows(from_env)] == ["e"]


def test_default_database_is_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_mirror("index", "add", "here", "http://127.0.0.1:1/").exit_code == 0
    assert [r[0] for r in _rows(tmp_path / "mirror.db")] == ["here"]
