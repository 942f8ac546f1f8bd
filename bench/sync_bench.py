"""Sync benchmark: full sync, no-change re-sync, and database size, against a synthetic index
served by another process on loopback.

    python -m bench.sync_bench [--projects 2000] [--versions 20] [--concurrency 16] [--no-etags]

Prints one line per measure. Targets (2-core machine): full sync ≥ 300 project pages/s,
no-change re-sync of 2,000 projects < 10 s, database ≤ 40% of the raw bytes fetched.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.resolve_bench import bench_env, use_bytecode_cache
from bench.synthetic_index import build_index


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()  # loopback only
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"synthetic index did not start at {url}")


def _mirror(db: Path, *args: str) -> dict[str, object]:
    cmd = [sys.executable, "-m", "mirror", "--db", str(db), *args]
    out = subprocess.run(cmd, env=bench_env(), capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({out.returncode}):\n{out.stderr}")
    return json.loads(out.stdout) if out.stdout.strip().startswith("{") else {}


def _timed(db: Path, args: list[str]) -> tuple[dict[str, object], float, float]:
    """The command's JSON, its wall time, and the CPU time (user + system) it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = _mirror(db, *args)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result, wall, cpu


def _round(base: str, projects: list[str], concurrency: int, tmp: Path) -> _Round:
    """One full sync into a fresh database, then a no-change re-sync; the database compacted."""
    db = tmp / "bench.db"
    for stale in tmp.glob("bench.db*"):
        stale.unlink()
    reqs = tmp / "requirements.in"
    reqs.write_text("\n".join(projects) + "\n")
    _mirror(db, "index", "add", "synthetic", base, "--default")
    sync_args = ["sync", "-r", str(reqs), "--json", "--quiet", "--concurrency", str(concurrency)]
    full, full_s, full_cpu = _timed(db, sync_args)
    again, again_s, _ = _timed(db, sync_args)
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sqlite3; c=sqlite3.connect({str(db)!r}); "
            "c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); c.execute('VACUUM')",
        ],
        check=True,
    )
    return _Round(full, full_s, full_cpu, again, again_s, db)


@dataclass(frozen=True)
class _Round:
    full: dict[str, object]
    full_s: float
    full_cpu: float
    again: dict[str, object]
    again_s: float
    db: Path


def main() -> None:
    parser = argparse.ArgumentParser(description="sneakernet sync benchmark")
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="report the best and the median")
    parser.add_argument("--keep", type=Path, help="copy the synced database here, for inspection")
    parser.add_argument("--cache", type=Path, default=Path(".bench-cache"))
    parser.add_argument(
        "--no-etags", action="store_true", help="the index sends no ETag: re-sync bodies compared"
    )
    args = parser.parse_args()

    use_bytecode_cache(args.cache)
    index = build_index(args.projects, args.versions)
    raw_pages = sum(len(b) for b in index.pages.values())
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.synthetic_index",
            "--projects",
            str(args.projects),
            "--versions",
            str(args.versions),
            "--port",
            str(port),
            *(["--no-etags"] if args.no_etags else []),
        ],
    )
    rounds: list[_Round] = []
    try:
        base = f"http://127.0.0.1:{port}/simple/"
        _wait_for(base + index.projects[0] + "/")
        with tempfile.TemporaryDirectory() as tmp:
            # Untimed: writes the byte-code every timed process then reuses.
            _round(base, index.projects[:1], args.concurrency, Path(tmp))
            for _ in range(args.rounds):
                rounds.append(_round(base, index.projects, args.concurrency, Path(tmp)))
            last = rounds[-1]
            db_bytes = last.db.stat().st_size
            if args.keep:
                shutil.copyfile(last.db, args.keep)
    finally:
        server.terminate()
        server.wait()

    full = rounds[-1].full
    pages = full["pages"]
    meta = full["metadata"]
    assert isinstance(pages, dict) and isinstance(meta, dict)
    fetched_bytes = int(full["bytes_fetched"])  # type: ignore[call-overload]
    full_times = sorted(r.full_s for r in rounds)
    again_times = sorted(r.again_s for r in rounds)
    best, median = full_times[0], statistics.median(full_times)
    print(f"projects                 {args.projects} × {args.versions} versions")
    print(f"rounds                   {args.rounds} (best / median, whole process)")
    print(f"full sync                {best:.2f} / {median:.2f} s")
    print(
        f"  project pages/s        {pages['fetched'] / best:.0f} / {pages['fetched'] / median:.0f}"
    )
    print(
        f"  metadata files/s       {meta['fetched'] / best:.0f} / {meta['fetched'] / median:.0f}"
        f"  ({meta['fetched']} files)"
    )
    cpu = sorted(r.full_cpu for r in rounds)
    # Close to the wall time: the client, not the index, limits the sync.
    print(f"  sync process CPU       {cpu[0]:.2f} / {statistics.median(cpu):.2f} s")
    print(
        f"no-change re-sync        {again_times[0]:.2f} / {statistics.median(again_times):.2f} s"
        f"  ({rounds[-1].again['pages']})"
    )
    print(f"raw bytes fetched        {fetched_bytes}  (pages {raw_pages})")
    print(f"database bytes           {db_bytes}  ({db_bytes / args.projects:.0f} per project)")
    print(f"database / raw fetched   {db_bytes / fetched_bytes:.1%}")


if __name__ == "__main__":
    main()
