"""Helpers shared by the database tests and the `mirror` CLI tests.

- Databases and snapshots built directly with :class:`db.write.snapshot_writer.SnapshotWriter`, no
  HTTP: :func:`new_engine`, :func:`wheel`, :func:`sdist`, :func:`write_snapshot`.
- The ``mirror`` command run in-process, isolated from the machine's pip configuration and
  ``$MIRROR_DB``: :func:`run_mirror`; the error convention (DESIGN.md) checked by
  :func:`assert_error`; the stored data compared before and after by :func:`db_dump` and
  :func:`file_state`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import Engine

from db.canonical import canonical_name
from db.engine import open_engine
from db.indexes import add_index
from db.records import CoreMetadata, DistFile, FetchedPage, ProjectPage
from db.write.snapshot_writer import SnapshotWriter

__all__ = [
    "MIRROR_ENV",
    "assert_error",
    "db_dump",
    "file_state",
    "new_engine",
    "run_mirror",
    "sdist",
    "wheel",
    "write_snapshot",
]

# The machine's pip configuration and database choice never leak into a test.
MIRROR_ENV: dict[str, str | None] = {
    "PIP_CONFIG_FILE": os.devnull,
    "PIP_INDEX_URL": None,
    "PIP_EXTRA_INDEX_URL": None,
    "PIP_FIND_LINKS": None,
    "PIP_NO_INDEX": None,
    "MIRROR_DB": None,
    "NETRC": os.devnull,  # no credentials from the developer's ~/.netrc
    # Unset: the tests check that an unexpected error never reaches the user as a traceback.
    "SNEAKERNET_DEBUG": None,
}


def run_mirror(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    """``mirror ARGS…`` in-process; unexpected exceptions propagate to the test."""
    from mirror.cli.main import main

    # Every pip setting and index credential of the machine is unset, not just the usual ones.
    leaky = {name: None for name in os.environ if name.startswith(("PIP_", "SNEAKERNET_INDEX_"))}
    runner = CliRunner()
    return runner.invoke(
        main, list(args), env={**leaky, **MIRROR_ENV, **(env or {})}, catch_exceptions=False
    )


def assert_error(result: Result, code: int, *needles: str) -> str:
    """The DESIGN.md error shape: exactly one ``error:`` line (maybe followed by detail lines),
    a blank line, then ``hint:``; the given exit code; no traceback; nothing on stdout.
    Returns the error block (error line and details) for further checks."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    starts = [n for n, line in enumerate(lines) if line.startswith("error:")]
    assert len(starts) == 1, result.stderr
    rest = lines[starts[0] :]
    assert "" in rest, result.stderr
    blank = rest.index("")
    assert len(rest) > blank + 1 and rest[blank + 1].startswith("hint: "), result.stderr
    assert "unexpected" not in rest[0] and "this is a bug" not in result.stderr, result.stderr
    block = "\n".join(rest[:blank])
    for needle in needles:
        assert needle in block, (needle, block)
    return block


def db_dump(path: Path) -> list[str]:
    """The database's whole content as SQL (WAL included), to prove a command changed nothing."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def file_state(path: Path) -> tuple[bytes, int, list[str]]:
    """A file's bytes and mtime, and the names in its directory (no sidecar files appeared)."""
    return path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))


def new_engine(path: Path) -> Engine:
    return open_engine(f"sqlite:///{path}")


def wheel(
    project: str,
    version: str,
    *,
    tag: str = "py3-none-any",
    yanked: bool = False,
    base: str = "http://127.0.0.1:1/files/",
) -> DistFile:
    filename = f"{canonical_name(project).replace('-', '_')}-{version}-{tag}.whl"
    return _dist(filename, project, version, tags=tag, yanked=yanked, base=base)


def sdist(
    project: str, version: str, *, yanked: bool = False, base: str = "http://127.0.0.1:1/files/"
) -> DistFile:
    filename = f"{canonical_name(project).replace('-', '_')}-{version}.tar.gz"
    return _dist(filename, project, version, tags="", yanked=yanked, base=base)


def _dist(
    filename: str, project: str, version: str, *, tags: str, yanked: bool, base: str
) -> DistFile:
    digest = (canonical_name(filename) * 8).encode().hex()[:64]
    return DistFile(
        filename=filename,
        url=base + filename,
        project=canonical_name(project),
        version=version,
        version_valid=True,
        is_wheel=bool(tags),
        tags=tags,
        hashes=(("sha256", digest),),
        yanked=yanked,
        yanked_reason="broken" if yanked else None,
        upload_time="2024-01-01T00:00:00Z",
        size=1000,
        core_metadata=None,
    )


def fetched_page(project: str, files: Sequence[DistFile]) -> FetchedPage:
    """A 200 JSON page listing ``files``; its body is derived from them, so different content
    gives a different page (pages are content-addressed by their body)."""
    body = json.dumps(
        {
            "meta": {"api-version": "1.1"},
            "name": project,
            "files": [
                {"filename": f.filename, "url": f.url, "hashes": dict(f.hashes), "yanked": f.yanked}
                for f in files
            ],
        },
        sort_keys=True,
    ).encode()
    parsed = ProjectPage(name=project, api_version="1.1", files=tuple(files))
    return FetchedPage(
        status=200,
        content_type="application/vnd.pypi.simple.v1+json",
        body=body,
        final_url=f"http://127.0.0.1:1/simple/{project}/",
        parsed=parsed,
    )


PageSpec = Sequence[DistFile] | FetchedPage


def write_snapshot(
    engine: Engine,
    name: str,
    pages: Mapping[tuple[str, str], PageSpec],
    *,
    metadata: Iterable[tuple[str, str, bytes]] = (),
    complete: bool = True,
) -> str | None:
    """A snapshot of ``pages``: (index name, project) → files listed (or a FetchedPage as is),
    and ``metadata``: (index name, filename, METADATA bytes). Indexes are created on first use
    (URL ``http://127.0.0.1:1/<name>/``). Returns the content digest (None when left
    building)."""
    ids = _index_ids(engine, {index for index, _ in pages} | {m[0] for m in metadata})
    writer = SnapshotWriter.open(engine, name=name, plan={"test": name})
    for (index_name, project), spec in pages.items():
        page = spec if isinstance(spec, FetchedPage) else fetched_page(project, spec)
        writer.record_page(ids[index_name], project, page)
    for index_name, filename, raw in metadata:
        version = filename.split("-")[1]
        parsed = CoreMetadata(name=filename.split("-")[0], version=version, metadata_version="2.1")
        writer.record_metadata(ids[index_name], filename, source="pep658", raw=raw, parsed=parsed)
    if not complete:
        writer.flush()  # the writer buffers records; a building snapshot shows what was flushed
        return None
    return writer.complete({"test": True}, cumulative=False).digest


def _index_ids(engine: Engine, names: Iterable[str]) -> dict[str, int]:
    from db.indexes import list_indexes

    with engine.begin() as conn:
        known = {i.name: i.id for i in list_indexes(conn)}
        for name in sorted(set(names) - known.keys()):
            known[name] = add_index(conn, name=name, url=f"http://127.0.0.1:1/{name}/").id
    return known
