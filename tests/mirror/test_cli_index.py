"""`mirror index add|list|remove` and the `--db` / `$MIRROR_DB` choice of database; `index add`
reading the URL first (real servers on 127.0.0.1: a fixture index, raw pages and statuses)."""

from __future__ import annotations

import asyncio
import functools
import json
import socket
import sqlite3
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import Result

from mirror.http.client import ClientConfig
from tests.conftest import Serve
from tests.db import assert_error, db_dump, run_mirror
from tests.fixtures.index_model import FixtureIndex, make_project
from tests.fixtures.index_pages import login_page
from tests.fixtures.raw_server import Behaviour, answer, serve_raw


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "mirror.db"


def _add(db: Path, *args: str) -> None:
    """Add an index nothing answers at (the URLs of these tests are placeholders)."""
    result = run_mirror("--db", str(db), "index", "add", "--no-check", *args)
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
        "--db",
        str(db),
        "index",
        "add",
        "corp",
        "http://alice:s3cr3t-token@127.0.0.1:8001/simple/",
        "--no-check",
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
    # Checked (nothing listens there), yet the taken name is told first: no network wait.
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
    result = run_mirror(*args, "index", "add", "one", "http://127.0.0.1:1/", "--no-check", env=env)
    assert result.exit_code == 0, result.output
    assert [r[0] for r in _rows(target)] == ["one"]
    assert not (tmp_path / "mirror.db").exists()


def test_db_option_beats_environment(tmp_path: Path) -> None:
    flag, from_env = tmp_path / "flag.db", tmp_path / "env.db"
    env = {"MIRROR_DB": str(from_env)}
    _add(flag, "f", "http://127.0.0.1:1/")
    added = run_mirror("index", "add", "e", "http://127.0.0.1:2/", "--no-check", env=env)
    assert added.exit_code == 0
    listed = run_mirror("--db", str(flag), "index", "list", env=env)
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["f"]
    assert [r[0] for r in _rows(from_env)] == ["e"]


def test_default_database_is_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_mirror("index", "add", "here", "http://127.0.0.1:1/", "--no-check").exit_code == 0
    assert [r[0] for r in _rows(tmp_path / "mirror.db")] == ["here"]


# -- the URL is read before it is stored -------------------------------------------------------

LOGIN = login_page()
HTML_ROOT = b'<!DOCTYPE html><html><body><a href="/simple/foo/">foo</a></body></html>'
EMPTY_ROOT = b'<html><head><meta name="pypi:repository-version" content="1.1"></head></html>'
JSON = "application/vnd.pypi.simple.v1+json"


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real retry loop, with backoff delays of about a millisecond."""
    fast = functools.partial(ClientConfig, backoff_base=0.001, backoff_cap=0.001)
    monkeypatch.setattr("mirror.cli.common.ClientConfig", fast)


def _hint(result: Result) -> str:
    return result.stderr.partition("\nhint: ")[2]


def _status(code: int) -> Behaviour:
    async def run(method: str, headers: Mapping[str, str], out: asyncio.StreamWriter) -> None:
        out.write(f"HTTP/1.1 {code} Oops\r\nContent-Length: 0\r\n\r\n".encode())

    return run


def test_a_fixture_index_is_read_as_json_and_added(db: Path, serve: Serve) -> None:
    index = FixtureIndex()
    make_project(index, "foo")
    url = serve(index)
    result = run_mirror("--db", str(db), "index", "add", "one", url)
    assert result.exit_code == 0, result.output
    assert [r[:2] for r in _rows(db)] == [("one", url)]
    (asked,) = index.recorder.requests
    assert (asked.path, asked.status) == ("/simple/", 200)
    assert asked.headers["accept"].startswith(JSON)  # PEP 691: the small form of a big root


@pytest.mark.parametrize(
    ("path", "body", "args"),
    [
        ("/simple/", HTML_ROOT, ()),
        ("/simple/", EMPTY_ROOT, ()),  # no projects yet, but PEP 629 says it is an index
        ("/simple/", b'{"meta": {"api-version": "1.0"}, "projects": []}', ()),
        (
            "/wheels/",
            b'<a href="foo-1.0-py3-none-any.whl">foo-1.0-py3-none-any.whl</a>',
            ("--flat",),
        ),
    ],
    ids=["html", "empty-html", "empty-json", "flat"],
)
def test_other_index_pages_are_added(
    db: Path, path: str, body: bytes, args: tuple[str, ...]
) -> None:
    kind = "application/json" if body.startswith(b"{") else "text/html"
    with serve_raw({path: answer(body, kind)}) as base:
        result = run_mirror("--db", str(db), "index", "add", "one", base + path, *args)
    assert result.exit_code == 0, result.output
    assert [r[0] for r in _rows(db)] == ["one"]


@pytest.mark.parametrize(
    ("body", "kind", "args", "needles"),
    [
        (LOGIN, "text/html", (), ["password field", "/simple/ URL"]),
        (b"<html><title>Welcome</title></html>", "text/html", (), ["no links", "PEP 629"]),
        (b'{"detail": "Not Found"}', "application/json", (), ["no meta.api-version"]),
        (
            b'<a href="foo-1.0.tar.gz">foo-1.0.tar.gz</a>',
            "text/html",
            (),
            ["1 distribution file(s)", "--flat"],
        ),
        (LOGIN, "text/html", ("--flat",), ["password field", "--find-links"]),
        (b"hello", "text/plain", (), ["the Content-Type 'text/plain' is not"]),
    ],
    ids=["login", "landing", "json-error", "project-page", "flat-login", "text"],
)
def test_a_200_that_is_no_index_is_refused_with_exit_2(
    db: Path, body: bytes, kind: str, args: tuple[str, ...], needles: list[str]
) -> None:
    with serve_raw({"/simple/": answer(body, kind)}) as base:
        url = f"{base}/simple/"
        result = run_mirror("--db", str(db), "index", "add", "corp", url, *args)
        assert_error(result, 2, url, "HTTP 200", kind)
        assert all(n in result.stderr for n in needles), result.stderr
        assert "--no-check" in _hint(result)
        assert not db.exists() or _rows(db) == []
        added = run_mirror("--db", str(db), "index", "add", "corp", url, *args, "--no-check")
    assert added.exit_code == 0, added.output
    assert [r[0] for r in _rows(db)] == ["corp"]


@pytest.mark.parametrize(
    ("code", "needle"), [(404, "/simple/ URL"), (403, "credentials"), (503, "try again later")]
)
def test_an_error_status_at_the_root_is_exit_3(
    db: Path, code: int, needle: str, fast_retries: None
) -> None:
    with serve_raw({"/simple/": _status(code)}) as base:
        result = run_mirror("--db", str(db), "index", "add", "corp", f"{base}/simple/")
    assert_error(result, 3, f"{base}/simple/ answered HTTP {code}")
    assert needle in _hint(result) and "--no-check" in _hint(result)
    assert not db.exists() or _rows(db) == []


def test_connection_refused_is_exit_3_and_no_check_adds_anyway(
    db: Path, fast_retries: None
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/simple/"
    result = run_mirror("--db", str(db), "index", "add", "dead", url)
    assert_error(result, 3, f"cannot reach index URL {url}", "Connect")
    assert "--no-check" in _hint(result)
    assert not db.exists() or _rows(db) == []
    assert run_mirror("--db", str(db), "index", "add", "dead", url, "--no-check").exit_code == 0
    assert [r[:2] for r in _rows(db)] == [("dead", url)]


def test_the_password_in_the_url_is_used_for_the_check_and_never_shown(
    db: Path, serve: Serve
) -> None:
    index = FixtureIndex(auth=("alice", "s3cr3t-token"))
    make_project(index, "foo")
    url = serve(index)
    wrong = url.replace("http://", "http://alice:wrong-s3cr3t@")
    refused = run_mirror("--db", str(db), "index", "add", "corp", wrong)
    assert_error(refused, 3, "http://alice:****@127.0.0.1", "HTTP 401")
    assert "credentials" in _hint(refused)
    assert "s3cr3t" not in refused.output
    right = url.replace("http://", "http://alice:s3cr3t-token@")
    added = run_mirror("--db", str(db), "index", "add", "corp", right)
    assert added.exit_code == 0, added.output
    assert "s3cr3t" not in added.output
    assert [r[:2] for r in _rows(db)] == [("corp", url)]
    assert [r.has_authorization for r in index.recorder.requests] == [True, True]


def test_the_check_uses_the_index_credentials_from_the_environment(db: Path, serve: Serve) -> None:
    index = FixtureIndex(auth=("ci", "t0ken"))
    make_project(index, "foo")
    env = {"SNEAKERNET_INDEX_CORP_USERNAME": "ci", "SNEAKERNET_INDEX_CORP_PASSWORD": "t0ken"}
    result = run_mirror("--db", str(db), "index", "add", "corp", serve(index), env=env)
    assert result.exit_code == 0, result.output
    refused = run_mirror("--db", str(db), "index", "add", "other", serve(index), env=env)
    assert_error(refused, 3, "HTTP 401")
    assert "SNEAKERNET_INDEX_OTHER_USERNAME" in _hint(refused)


def test_a_file_url_must_name_a_directory(db: Path, tmp_path: Path) -> None:
    missing = (tmp_path / "gone").as_uri() + "/"
    result = run_mirror("--db", str(db), "index", "add", "local", missing, "--flat")
    assert_error(result, 2, missing, "does not exist")
    assert "--no-check" in _hint(result)
    (tmp_path / "gone").mkdir()
    assert run_mirror("--db", str(db), "index", "add", "local", missing).exit_code == 0


def test_a_root_past_page_bytes_is_exit_3_naming_the_limit(db: Path) -> None:
    with serve_raw({"/simple/": answer(HTML_ROOT * 20)}) as base:
        url = f"{base}/simple/"
        result = run_mirror(
            "--db", str(db), "index", "add", "big", url, "--limit", "page-bytes=1KiB"
        )
        assert_error(result, 3, f"cannot check index URL {url}", "page-bytes=1KiB")
        assert "--no-check" in _hint(result)
        raised = run_mirror(
            "--db", str(db), "index", "add", "big", url, "--limit", "page-bytes=1MiB"
        )
    assert raised.exit_code == 0, raised.output


def test_the_check_uses_pips_credentials_for_the_same_url(db: Path, serve: Serve) -> None:
    index = FixtureIndex(auth=("ci", "t0ken"))
    make_project(index, "foo")
    url = serve(index)
    pip = {"PIP_INDEX_URL": url.replace("http://", "http://ci:t0ken@")}
    result = run_mirror("--db", str(db), "index", "add", "corp", url, env=pip)
    assert result.exit_code == 0, result.output
    assert "t0ken" not in result.output
