"""A closure sync of many projects runs in bounded memory (pages and core metadata go to the
database as they arrive): the harness bounds the child's address space (RLIMIT_AS)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Mirror, Serve
from tests.fixtures.bounded_child import run_bounded
from tests.fixtures.index_server import FixtureIndex, make_project

#: Address space for the sync: the interpreter, SQLAlchemy, aiohttp, the resolver's thread and
#: the fixture's data, with room to spare; a sync that kept every page and metadata file of
#: a large index in memory would not fit.
MEMORY = 600 << 20


@pytest.mark.slow
def test_a_many_project_closure_sync_stays_within_its_memory(
    mirror: Mirror, serve: Serve, tmp_path: Path
) -> None:
    index = FixtureIndex()
    names = [f"p{n:03d}" for n in range(300)]
    make_project(index, "root", ["1.0"], deps=names)
    for position, name in enumerate(names):
        # Each project needs the next one below 3.0: the solver backtracks on every one.
        later = [f"{names[position + 1]}<3"] if position + 1 < len(names) else []
        make_project(index, name, ["1.0", "2.0", "3.0", "4.0"], deps=later)
    mirror.add_index("one", serve(index), "--default")
    env = {k: v for k, v in mirror.env.items() if v is not None}
    env = {**os.environ, **env, "PYTHONPATH": str(Path.cwd())}
    env.pop("SNEAKERNET_DEBUG", None)

    args = ["--db", str(mirror.db), "sync", "root", "--closure", "--python-version", "3.12"]
    result = run_bounded(
        "mirror", *args, "--json", env=env, cwd=tmp_path, timeout=300, memory=MEMORY
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert mirror.scalar("SELECT state FROM snapshot") == "complete"
    assert mirror.scalar("SELECT count(DISTINCT project) FROM snapshot_page") == 301
