"""``resolve`` against ``uv pip compile --offline``: whole-process times on the same snapshot.

    python -m bench.uv_bench [--sizes 100,700,airflow-700,3000] [--rounds 5] [--universal]

For each size (``N`` for a PyPI-shaped graph, ``airflow-N`` for the ``apache-airflow[all]``
shape of :mod:`bench.synthetic_airflow`), the snapshot and requirements file of
:mod:`bench.resolve_bench` (built and cached there if absent) are served on 127.0.0.1 by
``mirror serve --port 0``; one online ``uv pip compile`` against that server fills a fresh uv
cache, and its pins are compared with ``resolve``'s. Then the two commands run in alternation,
``--rounds`` times each, both for the same target (CPython 3.12 on x86_64 manylinux_2_28), uv
with ``--offline`` so that it reads only its cache, as ``resolve`` reads only the snapshot.
Printed per size: both tools' best and median wall seconds, the ratio resolve/uv of the bests
and the median of the per-round ratios (each round runs both back to back, so a slow spell of
the machine hits both), and each tool's spread ((slowest - fastest) / median) as a measure of
the noise.

Distribution files. A snapshot keeps core metadata (PEP 658) for one file per version, the way
``mirror sync`` stores it, and ``resolve`` applies it to every file of that version; uv wants
the metadata of the very file it would install, so for the rest it downloads the file, and for
an sdist-only release it reads the sdist's PKG-INFO (PEP 643). ``--only-binary :all:`` would
not make the two problems equal: some projects of the synthetic graph publish nothing but
sdists with static metadata, so without sdists there is no solution. Instead the script writes
a wheelhouse for ``mirror serve --files``: every wheel the target can install and every sdist
whose metadata is static, each holding the same core metadata as the snapshot. The files are
tiny and their bytes do not match the snapshot's synthetic sha256 (a hash of the file name),
which uv does not check when it compiles without ``--generate-hashes``. The wheelhouse is
cached next to the snapshot; for 3,000 packages it holds some 250,000 files.

Sdists that need a build. An sdist whose PEP 643 metadata says Requires-Dist is dynamic is
neither written nor listed: the served copy of the snapshot has no file row for it, and both
tools read that copy. ``resolve`` would exclude such a file anyway (the snapshot records it as
needing a build); uv, reaching a version that has only such an sdist, downloads it to build
its metadata, which no offline comparison can do (the download of a file the wheelhouse lacks
answers 404 and stops uv). Without the rows both tools choose from the same files: a version
with no other file is gone for both, a version with a wheel keeps it. ``--no-build-package``
would not be the same problem: it is per project, and many projects publish static sdists
for some releases and dynamic ones for others, so it would take usable sdists from uv. To
show the rows were nothing ``resolve`` could use, it also runs once on the unpruned snapshot
and its pins there are compared with its pins on the served copy.

``--universal`` compares ``resolve --universal --python-version 3.12`` with ``uv pip compile
--universal --python-version 3.12`` (both lock every environment of Python 3.12 and later),
and their pins as sets of ``name==version`` (one project may be pinned at several versions,
each with its marker; the markers' spellings differ between the tools, so they are not
compared). A universal resolution may read the metadata of any wheel, not only those a Linux
3.12 can install: the wheelhouse then holds every wheel of every release (and the same sdists),
built in a directory of its own next to the Linux one.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bench.resolve_bench import (
    TARGET,
    bench_env,
    resolve_command,
    snapshot_for,
    use_bytecode_cache,
)
from bench.synthetic_graph import GENERATOR_VERSION, Graph
from db.canonical import canonical_name
from db.version_listing import listing_json, listing_of, listings_by_page

# Bump when the files written into a wheelhouse, or the rows of its served copy of the
# snapshot, change (part of both names).
WHEELHOUSE_VERSION = 2
_SERVING = re.compile(r"serving snapshot .* on (http://127\.0\.0\.1:\d+/simple/)")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)
_ZIP_TIME = (2020, 2, 2, 0, 0, 0)


# -- the wheelhouse -----------------------------------------------------------------------


def installable(tags: str) -> bool:
    """Whether CPython 3.12 on x86_64 manylinux_2_28 can install a wheel with these tags."""
    if tags.endswith("-none-any"):
        return True
    python, abi, platform = tags.split("-")
    linux = platform.startswith("manylinux") and platform.endswith("x86_64")
    return linux and (abi == "cp312" or (abi == "abi3" and int(python[3:]) <= 12))


def _wheel(stem: str, tags: str, metadata: bytes) -> bytes:
    info = f"{stem}.dist-info"
    wheel = f"Wheel-Version: 1.0\nGenerator: sneakernet-bench\nRoot-Is-Purelib: true\nTag: {tags}\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in ((f"{info}/METADATA", metadata), (f"{info}/WHEEL", wheel.encode())):
            archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), data)
        record = f"{info}/METADATA,,\n{info}/WHEEL,,\n{info}/RECORD,,\n"
        archive.writestr(zipfile.ZipInfo(f"{info}/RECORD", _ZIP_TIME), record)
    return buffer.getvalue()


def _sdist(stem: str, pkg_info: bytes) -> bytes:
    project = (
        b'[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, data in (("PKG-INFO", pkg_info), ("pyproject.toml", project)):
            entry = tarfile.TarInfo(f"{stem}/{name}")
            entry.size, entry.mtime, entry.mode = len(data), 1_580_601_600, 0o644
            archive.addfile(entry, io.BytesIO(data))
    return buffer.getvalue()


def _write_files(graph: Graph, home: Path, universal: bool) -> list[tuple[str, str, int]]:
    """Writes what uv may need for ``graph`` (see the module docstring) into ``home``: every
    wheel when ``universal``; returns (sha256, filename, size) of each file."""
    from bench.synthetic_index import core_metadata

    written = []
    for project in graph.projects:
        for release in project.releases:
            wheel_meta = core_metadata(project, release, sdist=False)
            for dist in release.files:
                if dist.tags and (universal or installable(dist.tags)):
                    stem = "-".join(dist.filename.split("-")[:2])
                    data = _wheel(stem, dist.tags, wheel_meta)
                elif not dist.tags and not release.sdist_dynamic:
                    stem = dist.filename.removesuffix(".tar.gz")
                    data = _sdist(stem, core_metadata(project, release, sdist=True))
                else:
                    continue
                (home / dist.filename).write_bytes(data)
                written.append((hashlib.sha256(data).hexdigest(), dist.filename, len(data)))
    return written


def served_snapshot(graph: Graph, db: Path, universal: bool = False) -> tuple[Path, Path]:
    """(database, wheelhouse) to serve: a copy of ``db`` whose file rows carry the sha256 and
    size of the files written for them, without the sdists that need a build (see the module
    docstring), and the directory holding those files (every wheel when ``universal``). Both
    are built once, next to ``db``."""
    stem = f"{db.stem}-uv{WHEELHOUSE_VERSION}" + ("-universal" if universal else "")
    copy, home = db.with_name(f"{stem}.db"), db.with_name(f"{stem}-files")
    if copy.exists() and home.is_dir():
        return copy, home
    started = time.monotonic()
    building = db.with_name(f"{stem}.building")
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    written = _write_files(graph, home, universal)
    building.unlink(missing_ok=True)
    source, target = sqlite3.connect(db), sqlite3.connect(building)
    with contextlib.closing(source), contextlib.closing(target):
        source.backup(target)
        target.execute("CREATE TEMP TABLE served (sha256, filename PRIMARY KEY, size)")
        target.executemany("INSERT INTO served VALUES (?, ?, ?)", written)
        target.execute(
            "UPDATE file SET sha256 = served.sha256, size = served.size"
            " FROM served WHERE served.filename = file.filename"
        )
        # Only sdists are ever left unwritten for being dynamic; a wheel left unwritten is one
        # the target cannot install, which uv never downloads, so it stays listed.
        target.execute(
            "DELETE FROM file WHERE is_wheel = 0"
            " AND filename NOT IN (SELECT filename FROM temp.served)"
        )
        _renumber(target)
        target.commit()
    building.rename(copy)
    print(
        f"wrote {len(written)} files to {home} and their hashes to {copy} "
        f"in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
    )
    return copy, home


def _renumber(conn: sqlite3.Connection) -> None:
    """Number each page's remaining files 0, 1, … again and store the listings they make, as
    a sync that saw only them would have (the reader finds a file by its position)."""
    rows = conn.execute("SELECT page_id, position FROM file ORDER BY page_id, position").fetchall()
    conn.execute("UPDATE file SET position = -1 - position")  # out of the way, still unique
    moved, page, new = [], None, 0
    for page_id, position in rows:
        new = new + 1 if page_id == page else 0
        page = page_id
        moved.append((new, page_id, -1 - position))
    conn.executemany("UPDATE file SET position = ? WHERE page_id = ? AND position = ?", moved)
    files = conn.execute(
        "SELECT page_id, position, version, version_valid FROM file ORDER BY page_id, position"
    )
    listings = {page_id: listing for page_id, _, listing in listings_by_page(files)}
    empty = listing_of(())
    pages = [row[0] for row in conn.execute("SELECT id FROM page")]
    conn.executemany(
        "UPDATE page SET listing = ? WHERE id = ?",
        [(listing_json(listings.get(p, empty)), p) for p in pages],
    )


# -- the server and the two commands ------------------------------------------------------


@contextlib.contextmanager
def serving(mirror: Path, db: Path | str, files: Path, *options: str) -> Iterator[str]:
    """``mirror serve`` (with ``options``) on a free loopback port for the duration; yields its
    /simple/ URL. ``db`` is a path or a database URL."""
    command = [str(mirror), "--db", str(db), "serve", "--files", str(files), "--port", "0"]
    command += options
    server = subprocess.Popen(
        command, env=bench_env(), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    try:
        assert server.stderr is not None
        url = None
        for line in server.stderr:
            found = _SERVING.search(line)
            if found:
                url = found[1]
                break
        if url is None:
            raise SystemExit(f"mirror serve exited ({server.wait()}) without serving {db}")
        # Drain the access log so the server never blocks on a full pipe.
        drain = threading.Thread(target=server.stderr.read, daemon=True)
        drain.start()
        try:
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)
            drain.join(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def uv_command(
    uv: Path, reqs: Path, url: str, cache: Path, out: Path, *, offline: bool, universal: bool
) -> list[str]:
    python_version, platform = TARGET[1], TARGET[3]
    command = [str(uv), "pip", "compile", str(reqs), "--index-url", url]
    command += ["--python-version", python_version]
    command += ["--universal"] if universal else ["--python-platform", platform]
    command += ["--python", sys.executable, "--cache-dir", str(cache), "--no-header", "--quiet"]
    return [*command, *(["--offline"] if offline else []), "-o", str(out)]


def timed(command: list[str], out: Path) -> tuple[float, str]:
    """Wall seconds of one whole process writing a fresh ``out`` (an existing output file
    would become preferences for both tools), and what it wrote."""
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    run = subprocess.run(command, env=bench_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"{Path(command[0]).name} failed ({run.returncode}):\n{run.stderr}")
    return seconds, out.read_text()


def pins(lock: str) -> dict[str, str]:
    """Each project's pinned versions (a universal lock may pin one at several)."""
    found: dict[str, set[str]] = {}
    for name, version in _PIN.findall(lock):
        found.setdefault(canonical_name(name), set()).add(version)
    return {name: ",".join(sorted(versions)) for name, versions in found.items()}


def compare(ours: dict[str, str], theirs: dict[str, str]) -> str:
    """OK, or DIFF with counts and the first few differences."""
    if ours == theirs:
        return f"OK ({len(ours)} pins)"
    names = sorted(set(ours) | set(theirs))
    differ = [n for n in names if ours.get(n) != theirs.get(n)]
    only = (sum(n not in theirs for n in names), sum(n not in ours for n in names))
    shown = ", ".join(f"{n} {ours.get(n, '-')}/{theirs.get(n, '-')}" for n in differ[:5])
    return (
        f"DIFF: {len(differ)} of {len(names)} differ (resolve only {only[0]}, uv only "
        f"{only[1]}); resolve/uv: {shown}"
    )


# -- measuring ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    size: str
    pins: int
    resolve: list[float]
    uv: list[float]

    @property
    def ratios(self) -> list[float]:
        return [ours / theirs for ours, theirs in zip(self.resolve, self.uv, strict=True)]


def _spread(seconds: list[float]) -> float:
    return (max(seconds) - min(seconds)) / statistics.median(seconds)


def _resolve_command(args: argparse.Namespace, db: Path, reqs: Path, out: Path) -> list[str]:
    command = resolve_command(args.resolve, db, reqs, out)
    if args.universal:
        at = command.index(TARGET[2])  # --python-platform: a universal lock has none
        command[at : at + 2] = ["--universal"]
    return command


def compare_size(size: str, args: argparse.Namespace) -> Comparison:
    graph, original, reqs = snapshot_for(size, args.seed, args.cache)
    db, files = served_snapshot(graph, original, args.universal)
    cache = args.cache / "uv-cache" / (graph.key + ("-universal" if args.universal else ""))
    shutil.rmtree(cache, ignore_errors=True)
    ours_out, theirs_out = db.with_suffix(".resolve.txt"), db.with_suffix(".uv.txt")
    ours_cmd = _resolve_command(args, db, reqs, ours_out)
    uv = partial(uv_command, args.uv, reqs, cache=cache, out=theirs_out, universal=args.universal)
    with serving(args.mirror, db, files) as url:
        warm, theirs = timed(uv(url=url, offline=False), theirs_out)
    print(f"size {size}: uv warmed its cache from {url} in {warm:.1f} s", file=sys.stderr)
    theirs_cmd = uv(url=url, offline=True)
    _, unpruned = timed(_resolve_command(args, original, reqs, ours_out), ours_out)
    _, ours = timed(ours_cmd, ours_out)  # untimed warm-up: byte-code and page cache
    _, theirs = timed(theirs_cmd, theirs_out)
    agreement = compare(pins(ours), pins(theirs))
    print(f"size {size}: pins {agreement}", flush=True)
    same = "the same" if pins(unpruned) == pins(ours) else "DIFFERENT"
    print(f"size {size}: resolve's pins with the sdists that need a build listed: {same}")
    resolve_times: list[float] = []
    uv_times: list[float] = []
    for _ in range(args.rounds):
        resolve_times.append(timed(ours_cmd, ours_out)[0])
        uv_times.append(timed(theirs_cmd, theirs_out)[0])
    return Comparison(size, len(pins(ours)), resolve_times, uv_times)


def report(rows: list[Comparison]) -> None:
    print(
        f"{'size':>6} {'pins':>5} | {'resolve best':>12} {'median':>7} {'spread':>6} | "
        f"{'uv best':>7} {'median':>7} {'spread':>6} | {'ratio best':>10} {'median':>7}"
    )
    for row in rows:
        print(
            f"{row.size:>6} {row.pins:>5} | {min(row.resolve):>12.3f} "
            f"{statistics.median(row.resolve):>7.3f} {_spread(row.resolve):>6.0%} | "
            f"{min(row.uv):>7.3f} {statistics.median(row.uv):>7.3f} {_spread(row.uv):>6.0%} | "
            f"{min(row.resolve) / min(row.uv):>10.2f} {statistics.median(row.ratios):>7.2f}"
        )


def find_uv(given: Path) -> tuple[Path, str]:
    """The uv to compare with (``given``, else the one on PATH) and its ``--version`` line."""
    if not given.exists():
        found = shutil.which("uv")
        if found is None:
            raise SystemExit("uv not found: install it into the environment or pass --uv PATH")
        given = Path(found)
    version = subprocess.run([str(given), "--version"], capture_output=True, text=True).stdout
    return given, version


def main() -> None:
    bin_dir = Path(sys.executable).parent
    parser = argparse.ArgumentParser(description="resolve against uv pip compile --offline")
    parser.add_argument(
        "--sizes",
        default="100,700,airflow-700",
        help="Comma-separated graph sizes: N, or airflow-N for the airflow[all] shape.",
    )
    parser.add_argument("--rounds", type=int, default=5, help="Timed runs of each (default 5).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path(".bench-cache"))
    parser.add_argument("--resolve", type=Path, default=bin_dir / "resolve")
    parser.add_argument("--mirror", type=Path, default=bin_dir / "mirror")
    parser.add_argument("--uv", type=Path, default=bin_dir / "uv", help="Default: next to python.")
    parser.add_argument(
        "--universal", action="store_true", help="Universal locks (Python 3.12 and later)."
    )
    args = parser.parse_args()
    args.rounds = max(1, args.rounds)
    args.uv, version = find_uv(args.uv)
    use_bytecode_cache(args.cache)
    print(
        f"generator v{GENERATOR_VERSION}, seed {args.seed}, {args.rounds} rounds, "
        f"target {'--universal --python-version 3.12' if args.universal else ' '.join(TARGET)}, "
        f"{version.strip()}",
        flush=True,
    )
    rows = [compare_size(size.strip(), args) for size in args.sizes.split(",") if size.strip()]
    report(rows)


if __name__ == "__main__":
    main()
