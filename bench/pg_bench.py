"""SQLite vs PostgreSQL: whole-process ``resolve`` and ``mirror sync`` throughput.

    python -m bench.pg_bench [--sizes 100,700] [--repeat 5] [--projects 240]

Starts a throwaway PostgreSQL server (tests/fixtures/postgres_server.py: PATH's programs, else
the pgserver wheel's). For each size, the synthetic snapshot of :mod:`bench.resolve_bench` is
built (cached) as an SQLite file and moved to PostgreSQL with ``mirror db copy``; then
``resolve`` runs on each ``--repeat`` times (after a warm-up), and the locks are compared byte
for byte. Then ``mirror sync`` of ``--projects`` fixture projects (three versions each, PEP 658
metadata) from a loopback index: one syncer on SQLite, one on PostgreSQL, and two at once on
PostgreSQL, each syncing half. Printed: best and median seconds, and projects per second.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.resolve_bench import TARGET, bench_env, snapshot_for, use_bytecode_cache
from tests.fixtures.index_server import FixtureIndex, make_project, serve_in_thread
from tests.fixtures.postgres_server import TEMPLATE as _TEMPLATE
from tests.fixtures.postgres_server import PostgresServer, running_server

MIRROR = [sys.executable, "-m", "mirror"]


def run_checked(command: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, env=bench_env(), cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return done


def _resolve_once(resolve: Path, db: str, reqs: Path, out: Path) -> tuple[float, bytes]:
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    run_checked([str(resolve), "--db", db, "-r", str(reqs), *TARGET, "-o", str(out)], out.parent)
    return time.perf_counter() - started, out.read_bytes()


def bench_resolve(
    server: PostgresServer, sizes: Sequence[int], repeat: int, cache: Path, resolve: Path
) -> None:
    """Per size: the two engines alternated, ``repeat`` rounds after a warm-up of each, so a
    slow spell of the machine hits both; best and median seconds, and the median of the
    per-round ratios."""
    print(f"{'size':>6} {'engine':>10} {'best s':>8} {'median s':>9} {'ratio':>6}  lock")
    for size in sizes:
        _graph, db, reqs = snapshot_for(str(size), 0, cache)
        url = server.url(server.fresh_database())
        run_checked([*MIRROR, "--db", str(db), "db", "copy", url], cache)
        # One lock path for both: the lock's header names it.
        out = cache / "pg-bench-lock.txt"
        seconds: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
        locks = set()
        for round_ in range(repeat + 1):
            for engine, where in (("sqlite", str(db)), ("postgresql", url)):
                elapsed, lock = _resolve_once(resolve, where, reqs, out)
                locks.add(lock)
                if round_:
                    seconds[engine].append(elapsed)
        same = "identical" if len(locks) == 1 else "DIFFERENT"
        ratios = [p / s for p, s in zip(seconds["postgresql"], seconds["sqlite"], strict=True)]
        for engine, times in seconds.items():
            ratio = f"{statistics.median(ratios):>6.2f}" if engine == "postgresql" else " " * 6
            print(
                f"{size:>6} {engine:>10} {min(times):>8.3f} "
                f"{statistics.median(times):>9.3f} {ratio}  {same}",
                flush=True,
            )


def _sync(dbs: Sequence[str], halves: Sequence[Sequence[str]], cwd: Path) -> float:
    """Wall seconds until every ``mirror sync`` (one per database URL and project list,
    started together) has finished."""
    started = time.perf_counter()
    runs = [
        subprocess.Popen(
            [*MIRROR, "--db", db, "sync", *projects, "--versions", "all", "--quiet"],
            env=bench_env(),
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for db, projects in zip(dbs, halves, strict=True)
    ]
    for run in runs:
        _out, err = run.communicate()
        if run.returncode != 0:
            raise SystemExit(f"mirror sync failed ({run.returncode}):\n{err.decode()}")
    return time.perf_counter() - started


def bench_sync(server: PostgresServer, count: int, work: Path) -> None:
    index = FixtureIndex()
    projects = [f"proj{n:04d}" for n in range(count)]
    for name in projects:
        make_project(index, name, ["1.0", "1.1", "2.0"])
    print(f"\nmirror sync of {count} projects (3 versions each) from a loopback index")
    with serve_in_thread(index) as url:
        cases: list[tuple[str, float]] = []
        for label, engine, syncers in (
            ("sqlite, one syncer", "sqlite", 1),
            ("postgresql, one syncer", "postgresql", 1),
            ("postgresql, two syncers", "postgresql", 2),
        ):
            db = (
                str(work / f"sync-{len(cases)}.db")
                if engine == "sqlite"
                else server.url(server.fresh_database(template="template0"))
            )
            run_checked([*MIRROR, "--db", db, "index", "add", "one", url, "--default"], work)
            halves = [projects[n::syncers] for n in range(syncers)]
            seconds = _sync([db] * syncers, halves, work)
            cases.append((label, seconds))
            print(f"{label:<26} {seconds:>7.2f} s  {count / seconds:>7.1f} projects/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="sneakernet SQLite vs PostgreSQL benchmark")
    parser.add_argument("--sizes", default="100,700", help="Comma-separated graph sizes.")
    parser.add_argument("--repeat", type=int, default=5, help="resolve runs per size.")
    parser.add_argument("--projects", type=int, default=240, help="Projects to sync.")
    parser.add_argument("--cache", type=Path, default=Path(".bench-cache"))
    parser.add_argument("--resolve", type=Path, default=Path(sys.executable).parent / "resolve")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.cache.mkdir(parents=True, exist_ok=True)
    use_bytecode_cache(args.cache)
    with running_server() as server:
        server.sql(f'CREATE DATABASE "{_TEMPLATE}"')
        run_checked([*MIRROR, "--db", server.url(_TEMPLATE), "db", "upgrade"], args.cache)
        bench_resolve(server, sizes, max(1, args.repeat), args.cache.resolve(), args.resolve)
        bench_sync(server, args.projects, args.cache.resolve())


if __name__ == "__main__":
    main()
