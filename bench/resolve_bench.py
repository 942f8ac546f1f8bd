"""Resolve benchmark: whole-process ``resolve`` times on PyPI-shaped synthetic snapshots.

    python -m bench.resolve_bench [--sizes 100,700,3000] [--repeat 5] [--profile]

For each size, a snapshot of ``bench.synthetic_graph.build_graph(size)`` is written the way
``mirror sync --closure --versions all`` writes one (the same page parser, metadata checks and
snapshot writer, fed from memory instead of HTTP) and cached under ``--cache`` by generator
parameters and schema revision. Then the installed ``resolve`` console script runs on it as a
subprocess ``--repeat`` times. Printed: resolved package count, best and median wall seconds,
whether every run wrote the same lock, the bare interpreter start-up for reference, the
slowest imports on the ``resolve`` path (``-X importtime``), and a warning if a heavy library
that ``resolve`` should never load is imported. ``--profile`` adds a cProfile listing per size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.synthetic_graph import GENERATOR_VERSION, Graph, build_graph, parse_size
from bench.synthetic_index import JSON_CONTENT_TYPE, etag, graph_pages

# Bump when the way snapshots are written here changes (the cache key includes it).
BUILDER_VERSION = 2
BASE_URL = "http://127.0.0.1:8765/simple/"
TARGET = ("--python-version", "3.12", "--python-platform", "x86_64-manylinux_2_28")
# Libraries the resolve path must not import (DESIGN.md: resolve reads with stdlib sqlite3 and
# never opens a socket; each of these costs tens to hundreds of milliseconds).
FORBIDDEN = ("sqlalchemy", "aiohttp", "alembic", "rich")
STARTUP = "import sqlite3, packaging.version"
RESOLVE_IMPORTS = "import resolve.cli, resolve.pipeline"


# -- building snapshots -------------------------------------------------------------------


class _MemoryFiles:
    """The metadata reader a sync uses, answering PEP 658 requests from memory."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    async def fetch_metadata_file(self, url: str) -> bytes:
        name = url.rsplit("/", 1)[-1].removesuffix(".metadata")
        if not url.endswith(".metadata") or name not in self.files:
            raise OSError(f"{url}: only PEP 658 metadata is served")
        return self.files[name]

    async def wheel_metadata_by_range(
        self, dist: object, whole: object
    ) -> tuple[bytes, int] | None:
        return None

    async def fetch_file(self, dist: object, into: object) -> None:
        raise OSError("only PEP 658 metadata is served")


async def _write_snapshot(graph: Graph, url: str) -> dict[str, object]:
    """Everything ``mirror sync --closure --versions all`` would store, from memory."""
    from packaging.requirements import Requirement

    from db.engine import open_engine
    from db.indexes import add_index
    from db.records import FetchedPage
    from db.write.snapshot_writer import SnapshotWriter
    from mirror.index_api.project_page import parse_project_page
    from mirror.metadata.fetch import metadata_from_remote
    from mirror.sync.selection import VersionPolicy, choose_metadata_files
    from mirror.sync.syncer import SyncStats

    engine = open_engine(url)
    try:
        with engine.begin() as conn:
            index = add_index(conn, name="synthetic", url=BASE_URL, is_default=True)
        policy = VersionPolicy(None)
        plan = {
            "requirements": sorted(str(Requirement(r)) for r in graph.roots),
            "closure": True,
            "python_versions": ["3.12"],
            "python_platforms": ["x86_64-manylinux_2_28"],
            "versions": policy.describe(),
            "indexes": [index.name],
        }
        writer = SnapshotWriter.open(engine, name=graph.key, plan=plan)
        stats = SyncStats()
        for name, body, files in graph_pages(graph):
            final_url = f"{BASE_URL}{name}/"
            parsed = parse_project_page(body, JSON_CONTENT_TYPE, final_url, name)
            fetched = FetchedPage(
                status=200,
                content_type=JSON_CONTENT_TYPE,
                body=body,
                final_url=final_url,
                etag=etag(body),
                parsed=parsed,
            )
            writer.record_page(index.id, name, fetched)
            stats.pages_fetched += 1
            stats.bytes_fetched += len(body)
            reader = _MemoryFiles(files)
            # Every version as a pin: the sdists' own metadata too, which the closure's
            # further rounds fetch for the versions a resolution needs (SEMANTICS §5).
            pins = {f.version for f in parsed.files}
            for dist in choose_metadata_files(parsed.files, policy, pins):
                outcome = await metadata_from_remote(dist, reader)
                writer.record_metadata(
                    index.id,
                    dist.filename,
                    source=outcome.source,
                    raw=outcome.raw,
                    parsed=outcome.parsed,
                    error=outcome.error,
                )
                stats.bytes_fetched += outcome.bytes_fetched
                if outcome.source == "needs-build":
                    stats.needs_build += 1
                elif outcome.source == "invalid":
                    raise SystemExit(f"{dist.filename}: {outcome.error}")
                else:
                    stats.metadata_fetched += 1
        stats.projects = len(graph.projects)
        writer.complete(stats.as_json(), cumulative=False)
        return stats.as_json()
    finally:
        engine.dispose()


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def snapshot_for(label: str, seed: int, cache: Path) -> tuple[Graph, Path, Path]:
    """(graph, database, requirements file) for a ``--sizes`` entry (``700``,
    ``airflow-700``), building and caching the database if needed."""
    from db.paths import HEAD_REVISION

    shape, size = parse_size(label)
    graph = build_graph(size, seed=seed, shape=shape)
    stem = f"{graph.key}-b{BUILDER_VERSION}-schema{HEAD_REVISION}"
    db, reqs = cache / f"{stem}.db", cache / f"{stem}.in"
    if not db.exists():
        cache.mkdir(parents=True, exist_ok=True)
        building = cache / f"{stem}.building"
        _remove(building)
        started = time.monotonic()
        stats = asyncio.run(_write_snapshot(graph, f"sqlite:///{building}"))
        _remove(db)
        building.rename(db)
        metadata = stats["metadata"]
        print(
            f"built {db} in {time.monotonic() - started:.1f} s "
            f"({len(graph.projects)} projects, {metadata})",
            file=sys.stderr,
        )
    reqs.write_text(graph.requirements_in())
    return graph, db, reqs


# -- running ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    seconds: list[float]
    resolved: int
    identical: bool

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def resolve_command(resolve: Path, db: Path, reqs: Path, out: Path) -> list[str]:
    return [str(resolve), "--db", str(db), "-r", str(reqs), *TARGET, "-o", str(out)]


def bench_env() -> dict[str, str]:
    """This environment without pip's and uv's settings: no configuration file, no index
    URLs, no interpreter downloads, so every tool sees only the benchmark's inputs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    return {
        **env,
        "PIP_CONFIG_FILE": os.devnull,
        "UV_NO_CONFIG": "1",
        "UV_PYTHON_DOWNLOADS": "never",
    }


def use_bytecode_cache(cache: Path) -> None:
    """Let child processes write and reuse byte-code (kept under the cache, not in the source
    tree), as an installed console script does; otherwise every run would also time compiling."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str((cache / "pycache").resolve())


def time_resolve(resolve: Path, db: Path, reqs: Path, repeat: int) -> Timing:
    """``repeat`` whole-process runs after one untimed warm-up (byte-code and page cache),
    each writing a fresh lock (an existing one would become preferences and change what is
    measured)."""
    out = db.with_suffix(".lock.txt")
    seconds: list[float] = []
    locks: list[bytes] = []
    resolved = 0
    for _ in range(repeat + 1):
        out.unlink(missing_ok=True)
        started = time.perf_counter()
        run = subprocess.run(
            resolve_command(resolve, db, reqs, out), env=bench_env(), capture_output=True, text=True
        )
        seconds.append(time.perf_counter() - started)
        if run.returncode != 0:
            raise SystemExit(f"resolve failed ({run.returncode}) on {db}:\n{run.stderr}")
        locks.append(out.read_bytes())
        found = re.search(r"Resolved (\d+) package", run.stderr)
        resolved = int(found[1]) if found else 0
    return Timing(seconds[1:], resolved, all(lock == locks[0] for lock in locks))


def time_startup(code: str, repeat: int) -> list[float]:
    """Wall seconds of ``python -c code``, after one untimed warm-up."""
    seconds = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=bench_env(), check=True)
        seconds.append(time.perf_counter() - started)
    return seconds[1:]


def import_times(resolve: Path, db: Path, reqs: Path) -> list[tuple[int, int, str]]:
    """(cumulative µs, self µs, module) for every import of one ``resolve`` run."""
    out = db.with_suffix(".importtime.txt")
    out.unlink(missing_ok=True)
    command = [sys.executable, "-X", "importtime", *resolve_command(resolve, db, reqs, out)]
    run = subprocess.run(command, env=bench_env(), capture_output=True, text=True)
    out.unlink(missing_ok=True)
    rows = []
    for line in run.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if match:
            rows.append((int(match[2]), int(match[1]), match[4]))
    return rows


def profile(resolve: Path, db: Path, reqs: Path, lines: int = 45) -> str:
    out = db.with_suffix(".profile.txt")
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "cProfile", "-s", "cumtime"]
    run = subprocess.run(
        [*command, *resolve_command(resolve, db, reqs, out)],
        env=bench_env(),
        capture_output=True,
        text=True,
    )
    out.unlink(missing_ok=True)
    listing = run.stdout.splitlines()
    start = next((i for i, line in enumerate(listing) if "ncalls" in line), 0)
    return "\n".join(listing[start : start + lines])


# -- reporting ----------------------------------------------------------------------------


def _report_imports(rows: Sequence[tuple[int, int, str]]) -> None:
    print("\nslowest imports on the resolve path (-X importtime, cumulative):")
    for cumulative, own, module in sorted(rows, reverse=True)[:10]:
        print(f"  {cumulative / 1e6:7.3f} s  (self {own / 1e6:.3f} s)  {module}")
    total = sum(own for _, own, _ in rows)
    print(f"  {total / 1e6:7.3f} s  in {len(rows)} modules altogether (-X importtime inflates)")
    loaded = {module.split(".")[0] for _, _, module in rows}
    for name in FORBIDDEN:
        if name in loaded:
            print(f"WARNING: `{name}` is imported on the resolve path")


def main() -> None:
    parser = argparse.ArgumentParser(description="sneakernet resolve benchmark")
    parser.add_argument(
        "--sizes",
        default="100,700,3000",
        help="Comma-separated graph sizes: N, or airflow-N for the airflow[all] shape.",
    )
    parser.add_argument("--repeat", type=int, default=5, help="Runs per size (default 5).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path(".bench-cache"))
    parser.add_argument(
        "--resolve",
        type=Path,
        default=Path(sys.executable).parent / "resolve",
        help="The resolve console script (default: next to this Python).",
    )
    parser.add_argument("--profile", action="store_true", help="Print a cProfile per size.")
    args = parser.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    repeat = max(1, args.repeat)

    snapshots = [snapshot_for(size, args.seed, args.cache) for size in sizes]
    use_bytecode_cache(args.cache)
    print(f"generator v{GENERATOR_VERSION}, seed {args.seed}, {repeat} runs each, target {TARGET}")
    print(f"{'size':>6} {'projects':>9} {'resolved':>9} {'best s':>8} {'median s':>9}  lock")
    for size, (graph, db, reqs) in zip(sizes, snapshots, strict=True):
        timing = time_resolve(args.resolve, db, reqs, repeat)
        print(
            f"{size:>6} {len(graph.projects):>9} {timing.resolved:>9} {timing.best:>8.3f} "
            f"{timing.median:>9.3f}  {'OK' if timing.identical else 'DIFF'}",
            flush=True,
        )
    for label, code in (("python start-up", STARTUP), ("with resolve's imports", RESOLVE_IMPORTS)):
        startup = time_startup(code, repeat)
        print(
            f"{label:<22} best {min(startup):.3f} s, median {statistics.median(startup):.3f} s"
            f"  (python -c {code!r})"
        )
    _, db, reqs = snapshots[-1]
    _report_imports(import_times(args.resolve, db, reqs))
    if args.profile:
        for size, (_, db, reqs) in zip(sizes, snapshots, strict=True):
            print(f"\ncProfile, size {size} (sorted by cumulative time):")
            print(profile(args.resolve, db, reqs))


if __name__ == "__main__":
    main()
