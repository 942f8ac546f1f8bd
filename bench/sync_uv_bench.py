"""``mirror sync --closure`` against ``uv pip compile``, both reading a PyPI-shaped index.

    python -m bench.sync_uv_bench [--projects 40,150] [--rounds 3] [--latency-ms 0]
    python -m bench.sync_uv_bench --projects 700 --max-wheel-kb 64   # an airflow[all]-sized set
    python -m bench.sync_uv_bench --latency-ms 30 --concurrency 8,16,32   # tune the default

Both tools must learn the same dependency graph from the same index, with no PEP 658 files:
for each graph size, :mod:`bench.wheel_index` serves the projects of
:func:`bench.synthetic_graph.build_graph` (a few versions each) as PEP 691 pages and real
wheels, some of them megabytes, from a thread of this process on 127.0.0.1, so each tool
reads each wheel's METADATA by ranged reads or by downloading it. Every request can be
delayed by ``--latency-ms`` to stand for a distant index. ``--concurrency`` gives the sync's
``--concurrency`` (several values: each round runs the sync once per value, in turn, against
the same uv run), so the default can be set from measurement.

Each round, for the graph's root requirements and the target CPython 3.12 on
x86_64 manylinux_2_28, in alternation:

(a) ``mirror --db FRESH.db sync -r SET.in --closure …`` into a new database (the
    ``index add`` before it is not timed); (b) ``uv pip compile SET.in`` with an empty cache
    directory. (uv's ``--no-cache`` would use a temporary cache and delete it; an empty cache
    is the same cold start and leaves something to weigh and to reuse.)

Measured per command: whole-process wall seconds, peak resident memory, the requests the
server answered (HEAD, whole GETs, ranged GETs) and the body bytes it sent; then what each
keeps: the database (with its WAL) against uv's cache directory. Then the no-change runs:
the same sync again on the same database, and uv's compile again with the now warm cache.
Printed: each round, then per size the best and median of each measure and the ratios
mirror/uv. The pins are checked once per size: ``resolve`` on the synced database against
uv's output ("pins OK"/"pins DIFF").

Nothing leaves loopback: pip's and uv's settings are ignored, their index variables point at
the fixture, and proxies are unset.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.resolve_bench import TARGET, bench_env, use_bytecode_cache
from bench.synthetic_graph import build_graph
from bench.uv_bench import compare, find_uv, pins
from bench.wheel_index import RequestLog, Traffic, serving, wheel_index

_PROXIES = ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy")
#: GNU time, for a command's own peak memory (0 is printed where it is not installed).
_TIME = shutil.which("time", path="/usr/bin:/bin")


def loopback_env(url: str, cache: Path | None = None) -> dict[str, str]:
    """:func:`bench_env` with every index variable at the fixture and no proxy."""
    env = {k: v for k, v in bench_env().items() if k.lower() not in _PROXIES}
    env.update(
        PIP_INDEX_URL=url,
        UV_INDEX_URL=url,
        UV_DEFAULT_INDEX=url,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    if cache is not None:
        env["UV_CACHE_DIR"] = str(cache)
    return env


def run(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds of one whole process, and its stdout; stops the bench if it fails."""
    seconds, out, _ = run_measured(command, env)
    return seconds, out


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, str, int]:
    """:func:`run`, and the process's peak resident set in bytes, as GNU time reports it:
    the command runs under ``/usr/bin/time``, a small process, because a child forked from
    this one (which holds the whole index in memory) starts with this one's resident set
    and the kernel counts it in the child's maximum."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "rss"
        timed = [_TIME, "-f", "%M", "-o", str(report), *command] if _TIME else command
        started = time.perf_counter()
        done = subprocess.run(timed, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        text = report.read_text().split() if report.exists() else []
    if done.returncode != 0:
        name = " ".join(command[:4])
        raise SystemExit(f"{name} … failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return seconds, done.stdout, int(text[-1]) * 1024 if text else 0  # %M is in kilobytes


def disk_bytes(path: Path) -> int:
    """Bytes of a file with its SQLite companions (-wal, -shm), or of a directory's files."""
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    else:
        files = [p for p in path.parent.glob(path.name + "*") if p.is_file()]
    return sum(p.stat().st_size for p in files)


@dataclass(frozen=True, slots=True)
class Cold:
    """One tool's run from nothing: time, traffic, and what it keeps on disk."""

    seconds: float
    traffic: Traffic
    kept: int
    peak_rss: int


@dataclass(frozen=True, slots=True)
class Round:
    mirror: Cold
    uv: Cold
    mirror_fetched: int  # the sync's own count (its --json summary)
    resync: float  # the same sync again, same database
    resync_traffic: Traffic
    uv_warm: float  # the same compile again, warm cache
    uv_warm_traffic: Traffic
    uv_pins: str


@dataclass(frozen=True, slots=True)
class Tools:
    python: str
    uv: str
    reqs: Path
    work: Path
    concurrency: int | None = None  # the sync's own default when None

    def mirror(self, db: Path, *args: str) -> list[str]:
        return [self.python, "-m", "mirror", "--db", str(db), *args]

    def sync(self, db: Path) -> list[str]:
        tuned = [] if self.concurrency is None else ["--concurrency", str(self.concurrency)]
        return self.mirror(db, "sync", "-r", str(self.reqs), "--closure", *TARGET, "--json", *tuned)

    def compile(self, url: str) -> list[str]:
        command = [self.uv, "pip", "compile", str(self.reqs), "--index-url", url, *TARGET]
        return [*command, "--python", self.python, "--no-header", "-o", os.devnull]

    def resolve(self, db: Path) -> list[str]:
        return [self.python, "-m", "resolve", "--db", str(db), "-r", str(self.reqs), *TARGET]


def one_round(tools: Tools, url: str, log: RequestLog, number: int) -> Round:
    db, cache = tools.work / f"round{number}.db", tools.work / f"uv-cache-{number}"
    run(tools.mirror(db, "index", "add", "pypi", url, "--default"), loopback_env(url))
    log.take()
    seconds, out, rss = run_measured(tools.sync(db), loopback_env(url))
    mirror = Cold(seconds, log.take(), disk_bytes(db), rss)
    fetched = int(json.loads(out)["bytes_fetched"])
    cache.mkdir()
    seconds, uv_out, rss = run_measured(tools.compile(url), loopback_env(url, cache))
    uv = Cold(seconds, log.take(), disk_bytes(cache), rss)
    resync, _ = run(tools.sync(db), loopback_env(url))
    resync_traffic = log.take()
    uv_warm, _ = run(tools.compile(url), loopback_env(url, cache))
    return Round(mirror, uv, fetched, resync, resync_traffic, uv_warm, log.take(), uv_out)


def _mb(n: float) -> str:
    return f"{n / 1e6:.2f} MB"


def _traffic(t: Traffic) -> str:
    return f"{t.requests} req (HEAD {t.head}, GET {t.get}, range {t.ranged}), {_mb(t.bytes_sent)}"


def print_round(number: int, r: Round) -> None:
    print(
        f"  round {number}: mirror {r.mirror.seconds:.2f} s, {_traffic(r.mirror.traffic)} "
        f"(sync counted {_mb(r.mirror_fetched)}), db {_mb(r.mirror.kept)}, "
        f"peak RSS {_mb(r.mirror.peak_rss)}\n"
        f"           uv     {r.uv.seconds:.2f} s, {_traffic(r.uv.traffic)}, "
        f"cache {_mb(r.uv.kept)}, peak RSS {_mb(r.uv.peak_rss)}\n"
        f"           no change: re-sync {r.resync:.2f} s, {_traffic(r.resync_traffic)}; "
        f"uv warm {r.uv_warm:.2f} s, {_traffic(r.uv_warm_traffic)}",
        flush=True,
    )


def _row(label: str, ours: list[float], theirs: list[float], fmt: str) -> str:
    ratios = [a / b if b else float("inf") for a, b in zip(ours, theirs, strict=True)]
    cells = [format(x, fmt) for x in (min(ours), statistics.median(ours))]
    cells += [format(x, fmt) for x in (min(theirs), statistics.median(theirs))]
    ratio = min(ours) / min(theirs) if min(theirs) else float("inf")
    return (
        f"  {label:<22} {cells[0]:>10} {cells[1]:>10} | {cells[2]:>10} {cells[3]:>10} | "
        f"{ratio:>7.2f} {statistics.median(ratios):>7.2f}"
    )


def summary(rounds: list[Round]) -> None:
    def both(get: Callable[[Cold], float]) -> tuple[list[float], list[float]]:
        return [get(r.mirror) for r in rounds], [get(r.uv) for r in rounds]

    print(
        f"  {'(best / median)':<22} {'mirror':>10} {'':>10} | {'uv':>10} {'':>10} | "
        f"{'mirror/uv':>7} {'median':>7}"
    )
    print(_row("wall s", *both(lambda c: c.seconds), ".2f"))
    print(_row("requests", *both(lambda c: c.traffic.requests), ".0f"))
    print(_row("  HEAD", *both(lambda c: c.traffic.head), ".0f"))
    print(_row("  GET (whole)", *both(lambda c: c.traffic.get), ".0f"))
    print(_row("  GET (range)", *both(lambda c: c.traffic.ranged), ".0f"))
    print(_row("MB sent", *both(lambda c: c.traffic.bytes_sent / 1e6), ".2f"))
    print(_row("MB kept (db / cache)", *both(lambda c: c.kept / 1e6), ".2f"))
    print(_row("MB peak RSS", *both(lambda c: c.peak_rss / 1e6), ".1f"))
    again = ([r.resync for r in rounds], [r.uv_warm for r in rounds])
    print(_row("no-change s (warm uv)", *again, ".2f"), flush=True)


def compare_size(size: int, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    graph = build_graph(size, seed=args.seed)
    index = wheel_index(graph, versions=args.versions, max_bytes=args.max_wheel_kb * 1024)
    files = [f for project in index.projects.values() for f in project.files]
    print(
        f"size {size}: {len(index.projects)} projects, "
        f"{sum(len(p.versions()) for p in index.projects.values())} versions, {len(files)} files "
        f"({_mb(sum(len(f.data) for f in files))}), built in "
        f"{time.perf_counter() - started:.1f} s; roots {' '.join(graph.roots)}",
        flush=True,
    )
    with (
        tempfile.TemporaryDirectory(prefix="sync-uv-") as tmp,
        serving(index, args.latency_ms) as (url, log),
    ):
        work = Path(tmp)
        reqs = work / "SET.in"
        reqs.write_text(graph.requirements_in())
        settings = [None] if not args.concurrency else [int(c) for c in args.concurrency.split(",")]
        rounds: dict[int | None, list[Round]] = {c: [] for c in settings}
        for number in range(1, args.rounds + 1):
            for c in settings:  # alternated, so a slow spell of the machine hits each alike
                tools = Tools(sys.executable, str(args.uv), reqs, work / f"c{c}", c)
                tools.work.mkdir(exist_ok=True)
                rounds[c].append(one_round(tools, url, log, number))
                print(f"  --concurrency {c or 'default'}:")
                print_round(number, rounds[c][-1])
        for c in settings:
            tools = Tools(sys.executable, str(args.uv), reqs, work / f"c{c}", c)
            _, ours = run(tools.resolve(tools.work / f"round{args.rounds}.db"), loopback_env(url))
            agreement = compare(pins(ours), pins(rounds[c][-1].uv_pins))
            print(f"size {size}, --concurrency {c or 'default'}: pins {agreement}")
            summary(rounds[c])


def main() -> None:
    parser = argparse.ArgumentParser(description="mirror sync --closure against uv pip compile")
    parser.add_argument("--projects", default="40,150", help="Comma-separated graph sizes.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="Delay on every request.")
    parser.add_argument("--versions", type=int, default=4, help="Newest releases kept per project.")
    parser.add_argument("--max-wheel-kb", type=int, default=3072, help="Cap on a wheel's padding.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--concurrency", default="", help="The sync's --concurrency (N,M,…).")
    parser.add_argument("--cache", type=Path, default=Path(".bench-cache"))
    parser.add_argument("--uv", type=Path, default=Path(sys.executable).parent / "uv")
    args = parser.parse_args()
    args.rounds = max(1, args.rounds)
    args.uv, version = find_uv(args.uv)
    use_bytecode_cache(args.cache)
    print(
        f"{args.rounds} rounds, latency {args.latency_ms:g} ms, target {' '.join(TARGET)}, "
        f"{version.strip()}",
        flush=True,
    )
    for size in args.projects.split(","):
        if size.strip():
            compare_size(int(size), args)


if __name__ == "__main__":
    main()
