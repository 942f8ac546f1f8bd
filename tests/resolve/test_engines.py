"""``resolve`` on a PostgreSQL mirror: the same lock, byte for byte, as from SQLite for the same
content, and a role that may only read is enough."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Mirror, Serve, clean_environment
from tests.fixtures.postgres_server import PostgresServer
from tests.resolve.endtoend import TARGET, catalogue, resolved, source_env

pytestmark = pytest.mark.postgresql

REQUEST = ("Zeta_Pkg", "alpha==1.0", *TARGET)


@pytest.fixture
def twins(tmp_path: Path, serve: Serve, pg_url: str) -> tuple[Mirror, Mirror]:
    """The catalogue synced from one served index into an SQLite file and into PostgreSQL."""
    url = serve(catalogue())
    mirrors = (
        Mirror(tmp_path / "mirror.db", clean_environment(tmp_path), tmp_path),
        Mirror(pg_url, clean_environment(tmp_path), tmp_path),
    )
    for mirror in mirrors:
        mirror.add_index("pypi", url, "--default")
        mirror.sync("Zeta_Pkg", "alpha", "mid", "speedy", "--versions", "all", "--quiet")
    return mirrors


@pytest.mark.parametrize("layout", ["requirements", "pylock", "json"])
def test_the_lock_from_postgresql_is_the_lock_from_sqlite(
    twins: tuple[Mirror, Mirror], layout: str
) -> None:
    on_sqlite, on_server = twins
    digests = [m.json("snapshot", "show", "latest")["digest"] for m in twins]
    assert digests[0] == digests[1]
    lock = resolved(on_sqlite, *REQUEST, "--format", layout)
    assert "speedy" in lock
    assert resolved(on_server, *REQUEST, "--format", layout) == lock


def test_explain_reads_the_same_from_both(twins: tuple[Mirror, Mirror]) -> None:
    # The two snapshots' made-up names are their creation times: those may differ.
    explained = [
        re.sub(r"\d{8}T\d{6}", "NAME", resolved(m, "--explain", "alpha", *TARGET)) for m in twins
    ]
    assert "0.9" in explained[0]
    assert explained[1] == explained[0]


def test_a_role_that_may_only_read_resolves(
    twins: tuple[Mirror, Mirror], postgres_server: PostgresServer, tmp_path: Path
) -> None:
    on_sqlite, on_server = twins
    assert isinstance(on_server.db, str)
    database = on_server.db.split("@/", 1)[1].split("?", 1)[0]
    for statement in (
        "CREATE ROLE reader LOGIN PASSWORD 'hunter2-secret'",
        f'GRANT CONNECT ON DATABASE "{database}" TO reader',
    ):
        postgres_server.sql(statement)
    for statement in (
        "GRANT USAGE ON SCHEMA public TO reader",
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader",
    ):
        postgres_server.sql(statement, database=database)
    url = postgres_server.url(database, role="reader", password="hunter2-secret")

    # The console script in a process of its own: what a CI runner with that role runs.
    done = subprocess.run(
        [sys.executable, "-m", "resolve", "--db", url, *REQUEST],
        env=source_env(on_server),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == resolved(on_sqlite, *REQUEST)
    assert "hunter2-secret" not in done.stdout + done.stderr

    # The role really cannot write: `mirror` refuses, naming the database without its password.
    reader = Mirror(url, on_server.env, tmp_path)
    refused = reader.run(
        "rules", "set", "index-strategy", "unsafe-best-match", code=2,
        env={"SNEAKERNET_DEBUG": None},
    )  # fmt: skip
    assert refused.stderr.startswith(
        "error: cannot write to the database postgresql://reader:****@"
    )
    assert "permission denied" in refused.stderr
    assert "hunter2-secret" not in refused.output


def test_a_bundle_exported_from_postgresql_is_the_one_from_sqlite(
    twins: tuple[Mirror, Mirror], tmp_path: Path, postgres_server: PostgresServer
) -> None:
    # The same content on both engines: one bundle imported into a new database of each.
    carried = tmp_path / "carried.sneakernet"
    twins[1].run("export", "latest", "-o", str(carried))
    home = tmp_path / "inside"
    home.mkdir()
    inside = (
        Mirror(home / "mirror.db", twins[0].env, home),
        Mirror(postgres_server.url(postgres_server.fresh_database()), twins[0].env, home),
    )
    bundles = []
    for n, mirror in enumerate(inside):
        mirror.run("import", str(carried))
        assert resolved(mirror, *REQUEST) == resolved(twins[0], *REQUEST)
        bundle = home / f"again-{n}.sneakernet"
        mirror.run("export", "latest", "-o", str(bundle))
        bundles.append(bundle.read_bytes())
    assert bundles[0] == bundles[1]
    assert bundles[0] == carried.read_bytes()
