"""Shared fixtures: a temporary snapshot database, the `mirror` CLI run in-process with an
environment that the developer's own pip, netrc and index settings cannot leak into, and
fixture indexes served from background threads (for code that runs ``asyncio.run`` itself).

Example::

    def test_something(mirror: Mirror, serve: Serve) -> None:
        index = FixtureIndex()
        make_project(index, "foo")
        mirror.run("index", "add", "one", serve(index))
        summary = mirror.sync("foo")
        assert mirror.sql("SELECT count(*) FROM file") == [(1,)]
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.fixtures.index_server import FixtureIndex, serve_in_thread
from tests.fixtures.postgres_server import TEMPLATE, PostgresServer, running_server

__all__ = ["BOTH_ENGINES", "Mirror", "Serve", "clean_environment"]

Serve = Callable[[FixtureIndex], str]
"""Serve a fixture index from a thread for the rest of the test; returns its base URL."""

# Variables through which the machine's configuration would reach a test: pip's (PIP_INDEX_URL,
# PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS and the rest), index credentials, the default database.
_LEAKY_PREFIXES = ("PIP_", "SNEAKERNET_INDEX_")
_LEAKY_NAMES = ("MIRROR_DB", "NETRC")


def clean_environment(tmp_path: Path) -> dict[str, str | None]:
    """Overrides (None = unset) that isolate a run from the machine's configuration."""
    env: dict[str, str | None] = {
        name: None
        for name in os.environ
        if name.startswith(_LEAKY_PREFIXES) or name in _LEAKY_NAMES
    }
    # pip reads no configuration file at all when PIP_CONFIG_FILE is os.devnull.
    env["PIP_CONFIG_FILE"] = os.devnull
    # An absent file: the developer's ~/.netrc never supplies credentials to a test.
    env["NETRC"] = str(tmp_path / "no-netrc")
    # Unexpected errors surface as tracebacks instead of the CLI's one-line bug report.
    env["SNEAKERNET_DEBUG"] = "1"
    return env


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    """Apply :func:`clean_environment` to ``os.environ`` for the test (in-process syncs and
    subprocesses alike); returns the overrides."""
    env = clean_environment(tmp_path)
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "mirror.db"


@pytest.fixture
def db_url(request: pytest.FixtureRequest, db_path: Path) -> Path | str:
    """The database a test's `mirror` works on: the SQLite file ``db_path``, unless the test
    is parametrized over :data:`BOTH_ENGINES` (then a fresh PostgreSQL database too)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return db_path
    return str(request.getfixturevalue("pg_url"))


#: ``pytestmark = BOTH_ENGINES``: every test of the module on SQLite and on PostgreSQL.
BOTH_ENGINES = pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)


@dataclass
class Mirror:
    """The `mirror` CLI on one database (an SQLite file, or a PostgreSQL URL), through click's
    CliRunner."""

    db: Path | str
    env: dict[str, str | None] = field(default_factory=dict)
    # Where the test's other files go (the database's folder, for an SQLite file).
    workdir: Path | None = None

    @property
    def folder(self) -> Path:
        if self.workdir is not None:
            return self.workdir
        assert isinstance(self.db, Path)
        return self.db.parent

    @property
    def url(self) -> str:
        """The database as ``--db`` takes it, as a URL (for ``db.engine.open_engine``)."""
        from db.paths import database_url

        return database_url(str(self.db))

    def run(
        self, *args: str, code: int | None = 0, env: Mapping[str, str | None] | None = None
    ) -> Result:
        """Run ``mirror --db DB ARGS…``; asserts the exit code unless ``code`` is None."""
        from mirror.cli.main import main  # imported when used: resolve's tests never need it

        result = CliRunner().invoke(
            main, ["--db", str(self.db), *args], env={**self.env, **(env or {})}
        )
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        if code is not None:
            assert result.exit_code == code, (
                f"mirror {' '.join(args)} exited {result.exit_code}, expected {code}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def json(
        self, *args: str, code: int | None = 0, env: Mapping[str, str | None] | None = None
    ) -> Any:
        return json.loads(self.run(*args, "--json", code=code, env=env).stdout)

    def sync(
        self, *args: str, code: int | None = 0, env: Mapping[str, str | None] | None = None
    ) -> dict[str, Any]:
        """``mirror sync ARGS… --json``: the summary (also when the sync reports failures)."""
        summary: dict[str, Any] = self.json("sync", *args, code=code, env=env)
        return summary

    def add_index(self, name: str, url: str, *options: str, check: bool = True) -> None:
        """``mirror index add``; ``check=False`` for a URL nothing answers at (``--no-check``)."""
        self.run("index", "add", name, url, *options, *([] if check else ["--no-check"]))

    def sql(self, query: str, params: tuple[object, ...] | Mapping[str, object] = ()) -> list[Any]:
        """Rows of a read-only query on the database, as tuples (SQLite's spelling: ``?``
        parameters; db.read.connection runs it on PostgreSQL too)."""
        if isinstance(self.db, str):
            from db.read.connection import PostgresRead

            server = PostgresRead(self.db)
            try:
                return server.execute(query, params).fetchall()
            finally:
                server.close()
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return conn.execute(query, params).fetchall()
        finally:
            conn.close()

    @property
    def engine(self) -> str:
        return "postgresql" if isinstance(self.db, str) else "sqlite"

    def scalar(self, query: str, params: tuple[object, ...] | Mapping[str, object] = ()) -> Any:
        (row,) = self.sql(query, params)
        return row[0]


@pytest.fixture
def mirror(db_url: Path | str, clean_env: dict[str, str | None], tmp_path: Path) -> Mirror:
    return Mirror(db_url, dict(clean_env), tmp_path)


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start fixture indexes in background threads; all stop when the test ends."""
    with contextlib.ExitStack() as stack:

        def start(index: FixtureIndex) -> str:
            return stack.enter_context(serve_in_thread(index))

        yield start


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server per test process (tests/fixtures/postgres_server.py),
    with a template database already at the schema's head."""
    from db.engine import open_engine  # imported when used: most tests never need SQLAlchemy

    with running_server() as server:
        server.sql(f'CREATE DATABASE "{TEMPLATE}"')
        open_engine(server.url(TEMPLATE)).dispose()
        yield server


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh PostgreSQL database at the schema's head, for this test alone."""
    return postgres_server.url(postgres_server.fresh_database())


@pytest.fixture
def pg_empty_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh PostgreSQL database with no tables at all."""
    return postgres_server.url(postgres_server.fresh_database(template="template0"))
