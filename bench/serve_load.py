"""``mirror serve`` under load: requests per second and errors, by worker count.

    python -m bench.serve_load [--size 700] [--workers 1,2,4] [--clients 20] [--seconds 20]
                               [--engines sqlite,postgresql]

The snapshot is :mod:`bench.uv_bench`'s for ``--size`` (built and cached if absent), served
from its SQLite file and from a throwaway PostgreSQL server it is copied to with ``mirror db
copy`` (tests/fixtures/postgres_server.py starts it). For each engine and worker count,
``mirror serve --workers N`` runs on a free loopback port and this process, as the load, keeps
``--clients`` connections busy for ``--seconds``: each client loops over the requests pip and
uv make while resolving (a project page as PEP 691 JSON or PEP 503 HTML, then one PEP 658
metadata file of that page), over the graph's projects in a fixed shuffled order. Printed per
engine and worker count: requests, requests per second, errors (any status but 200, or a
failed connection), and the median and 99th-percentile latency.
Both sides share the machine's cores, so the figures are for comparing worker counts and
engines on one machine, not a capacity planning number.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import aiohttp

from bench.pg_bench import MIRROR, run_checked
from bench.resolve_bench import snapshot_for, use_bytecode_cache
from bench.uv_bench import served_snapshot, serving
from tests.fixtures.postgres_server import running_server

JSON = "application/vnd.pypi.simple.v1+json"
HTML = "text/html"


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def _get(session: aiohttp.ClientSession, url: str, accept: str, load: Load) -> bytes:
    started = time.perf_counter()
    try:
        async with session.get(url, headers={"Accept": accept}) as answer:
            body = await answer.read()
            if answer.status != 200:
                load.error(f"HTTP {answer.status}")
                return b""
    except (aiohttp.ClientError, TimeoutError) as exc:
        load.error(type(exc).__name__)
        return b""
    load.latencies.append(time.perf_counter() - started)
    return body


async def _client(base: str, projects: list[str], seed: int, deadline: float, load: Load) -> None:
    order = projects[:]
    random.Random(seed).shuffle(order)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        step = 0
        while time.monotonic() < deadline:
            name = order[step % len(order)]
            accept = JSON if step % 2 else HTML
            page_url = f"{base}{name}/"
            page = await _get(session, page_url, accept, load)
            if accept == JSON and page:
                files = [f for f in json.loads(page)["files"] if f.get("core-metadata")]
                if files:
                    metadata = urljoin(page_url, files[0]["url"] + ".metadata")
                    await _get(session, metadata, "*/*", load)
            step += 1


async def _load(base: str, projects: list[str], clients: int, seconds: float) -> Load:
    load = Load()
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(_client(base, projects, n, deadline, load) for n in range(clients)))
    return load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="700", help="700, or a shape: airflow-700")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--cache", type=Path, default=Path(".bench-cache"))
    args = parser.parse_args()
    use_bytecode_cache(args.cache)
    graph, plain, _ = snapshot_for(args.size, args.seed, args.cache)
    db, files = served_snapshot(graph, plain)
    projects = sorted(project.canonical for project in graph.projects)
    print(
        f"{args.size}-package snapshot: {len(projects)} projects, {args.clients} clients for "
        f"{args.seconds:.0f} s per engine and worker count"
    )
    print(
        f"{'engine':>10} {'workers':>7} {'requests':>9} {'req/s':>8} {'errors':>7} "
        f"{'p50 ms':>7} {'p99 ms':>7}"
    )
    engines = args.engines.split(",")
    with contextlib.ExitStack() as stack:
        databases = {"sqlite": str(db)}
        if "postgresql" in engines:
            server = stack.enter_context(running_server())
            url = server.url(server.fresh_database(template="template0"))
            run_checked([*MIRROR, "--db", str(db.resolve()), "db", "copy", url], args.cache)
            databases["postgresql"] = url
        for engine in engines:
            for workers in [int(w) for w in args.workers.split(",")]:
                _measure(engine, databases[engine], files, workers, projects, args)


def _measure(
    engine: str,
    db: str,
    files: Path,
    workers: int,
    projects: list[str],
    args: argparse.Namespace,
) -> None:
    mirror = Path(sys.executable).with_name("mirror")
    with serving(mirror, db, files, "--workers", str(workers)) as url:
        started = time.monotonic()
        load = asyncio.run(_load(url, projects, args.clients, args.seconds))
        elapsed = time.monotonic() - started
    done = len(load.latencies)
    errors = sum(load.errors.values())
    p50 = statistics.median(load.latencies) * 1000 if done else 0.0
    p99 = statistics.quantiles(load.latencies, n=100)[98] * 1000 if done > 100 else 0.0
    print(
        f"{engine:>10} {workers:>7} {done:>9} {done / elapsed:>8.0f} {errors:>7} "
        f"{p50:>7.1f} {p99:>7.1f}",
        flush=True,
    )
    for what, count in sorted(load.errors.items()):
        print(f"{'':>18} {count} x {what}")


if __name__ == "__main__":
    main()
