"""What `mirror serve` says: the snapshot merged by the rules, and its Simple API pages.

:class:`SnapshotView` lists each project as ``resolve`` sees it (the stored rules applied by
:func:`resolve.candidates.project.build_candidates`), or says why it cannot. :func:`negotiate` picks
the representation an ``Accept`` header asks for (PEP 691); the ``render_*`` functions write the PEP
503 HTML or PEP 691 JSON form of the root list and of a project page, with PEP 592 yanks, PEP
658/714 core metadata, PEP 700 ``size`` / ``upload-time`` / ``versions`` (API version 1.1) and PEP
629's version tag. No HTTP here.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from db.canonical import canonical_name
from db.errors import SneakernetError
from db.read.snapshot_reader import FileRecord, SnapshotReader
from mirror.index_api.filenames import ParsedFilename, check_filename
from mirror.index_api.project_page import ACCEPT
from resolve.candidates.project import Problem, Target, build_candidates
from resolve.pipeline import stored_rules
from resolve.rules.model import RuleError, RuleSet
from resolve.targets.environment import InvalidPythonVersion, TargetEnvironment, UnknownPlatform

__all__ = [
    "API_VERSION",
    "FILES_PATH",
    "HTML_TYPES",
    "JSON_TYPE",
    "ServedFile",
    "ServedProject",
    "SnapshotView",
    "Unavailable",
    "file_url",
    "negotiate",
    "open_view",
    "render_project",
    "render_root",
]

# The representations we serve, most preferred first: exactly the ones our own client asks
# for (mirror.index_api.project_page.ACCEPT), so the two sides cannot drift apart.
_OFFERED: tuple[str, ...] = tuple(part.partition(";")[0].strip() for part in ACCEPT.split(","))
JSON_TYPE = _OFFERED[0]
HTML_TYPES: tuple[str, ...] = _OFFERED[1:]
# PEP 691: ``latest`` is a request-side alias of the newest version of each format.
_ALIASES = {
    "application/vnd.pypi.simple.latest+json": JSON_TYPE,
    "application/vnd.pypi.simple.latest+html": HTML_TYPES[0],
}
# PEP 700 (1.1) adds size, upload-time and versions; PEP 714 renamed the metadata key.
API_VERSION = "1.1"
# Where file links point: this server, whatever the origin index was.
FILES_PATH = "/files/"
_CACHED_PROJECTS = 512


def file_url(filename: str) -> str:
    """The link to a file: root-relative, so it works under any host name and port."""
    return FILES_PATH + quote(filename, safe="")


@dataclass(frozen=True, slots=True)
class ServedFile:
    """A file as listed: the snapshot's record and the sha256 of the core metadata file
    served next to it (PEP 658), or None when none is served."""

    record: FileRecord
    metadata_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class ServedProject:
    name: str
    versions: tuple[str, ...]
    files: tuple[ServedFile, ...]


def _accept_ranges(header: str) -> list[tuple[str, float]]:
    ranges: list[tuple[str, float]] = []
    for part in header.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0  # an unreadable weight accepts nothing (RFC 9110 §12.4.2)
        ranges.append((_ALIASES.get(media.lower(), media.lower()), q))
    return ranges


def negotiate(accept: str | None) -> str | None:
    """The content type to answer ``accept`` with, or None for 406 Not Acceptable.

    PEP 691: no ``Accept`` means the legacy ``text/html``. Each offered type takes the weight
    of the most specific range that matches it (RFC 9110 §12.5.1). Among equal weights a type
    the client named beats one reached by a wildcard; then JSON wins when named, HTML when only
    a wildcard matched (``*/*`` from curl or a browser gets the page a browser can show).
    """
    if accept is None or not accept.strip():
        return HTML_TYPES[-1]
    ranges = _accept_ranges(accept)
    best: tuple[float, int, int, str] | None = None
    for position, offered in enumerate(_OFFERED):
        kind = offered.partition("/")[0]
        found: tuple[int, float] | None = None  # (specificity, q)
        for media, q in ranges:
            specificity = {offered: 2, f"{kind}/*": 1, "*/*": 0}.get(media)
            if specificity is not None and (found is None or specificity > found[0]):
                found = (specificity, q)
        if found is None or found[1] <= 0:
            continue
        named = int(found[0] == 2)
        order = -position if named else position
        key = (found[1], named, order, offered)
        if best is None or key[:3] > best[:3]:
            best = key
    return None if best is None else best[3]


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=1, ensure_ascii=False) + "\n").encode()


def render_root(names: Sequence[str], content_type: str) -> bytes:
    """The PEP 503/691 list of every project, linking ``NAME/`` relative to ``/simple/``."""
    if content_type == JSON_TYPE:
        meta = {"api-version": API_VERSION}
        return _json({"meta": meta, "projects": [{"name": n} for n in names]})
    links = [f'    <a href="{quote(n)}/">{html.escape(n)}</a><br />' for n in names]
    return _html("Simple index", links)


def _html(title: str, body: list[str]) -> bytes:
    escaped = html.escape(title)
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "  <head>",
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">',
        f"    <title>{escaped}</title>",
        "  </head>",
        "  <body>",
        f"    <h1>{escaped}</h1>",
        *body,
        "  </body>",
        "</html>",
    ]
    return ("\n".join(lines) + "\n").encode()


def render_project(project: ServedProject, content_type: str) -> bytes:
    """A project page in ``content_type`` (one of the offered types)."""
    if content_type == JSON_TYPE:
        return _json(
            {
                "meta": {"api-version": API_VERSION},
                "name": project.name,
                "files": [_json_file(f) for f in project.files],
                "versions": list(project.versions),
            }
        )
    links = [
        f"    <a{_html_attributes(f)}>{html.escape(f.record.filename)}</a><br />"
        for f in project.files
    ]
    return _html(f"Links for {project.name}", links)


def _yanked(record: FileRecord) -> bool | str:
    """PEP 592 (JSON): a reason string, ``true`` without one, ``false`` when not yanked."""
    if not record.yanked:
        return False
    return record.yanked_reason or True


def _json_file(served: ServedFile) -> dict[str, object]:
    record = served.record
    item: dict[str, object] = {
        "filename": record.filename,
        "url": file_url(record.filename),
        "hashes": dict(record.hashes),
        "requires-python": record.requires_python,
        "yanked": _yanked(record),
    }
    # PEP 700: size and upload-time as the origin index gave them; an index that gave none
    # (an HTML page) leaves them unknown, which is better than made up.
    if record.size is not None:
        item["size"] = record.size
    if record.upload_time is not None:
        item["upload-time"] = record.upload_time
    if served.metadata_sha256 is not None:
        digest = {"sha256": served.metadata_sha256}
        # PEP 714: the new key, and the old one that pip releases before 23.x still read.
        item["core-metadata"] = digest
        item["dist-info-metadata"] = digest
    return item


def _attribute(name: str, value: str) -> str:
    return f' {name}="{html.escape(value, quote=True)}"'


def _html_attributes(served: ServedFile) -> str:
    record = served.record
    href = file_url(record.filename)
    hashes = dict(record.hashes)
    # PEP 503: one hash in the URL fragment; sha256 when the index gave it.
    algorithm = "sha256" if "sha256" in hashes else next(iter(sorted(hashes)), None)
    if algorithm is not None:
        href += f"#{algorithm}={hashes[algorithm]}"
    text = _attribute("href", href)
    if record.requires_python:
        text += _attribute("data-requires-python", record.requires_python)
    if record.yanked:
        text += _attribute("data-yanked", record.yanked_reason or "")
    if served.metadata_sha256 is not None:
        value = f"sha256={served.metadata_sha256}"
        text += _attribute("data-core-metadata", value)
        text += _attribute("data-dist-info-metadata", value)  # PEP 714's legacy name
    if record.upload_time is not None:
        # Not in PEP 503, but read by some clients (and by `mirror sync`), so a mirror of this
        # server keeps upload-time cutoffs working over HTML too.
        text += _attribute("data-upload-time", record.upload_time)
    return text


# --- the merged view ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Why a project has no page here, in words for the 404 body."""

    message: str


@dataclass(frozen=True, slots=True)
class _Listing:
    project: ServedProject
    origin: Mapping[str, int]  # file name -> id of the index that supplies it


def _problem_text(name: str, snapshot: str, problem: Problem) -> str:
    sync = f"run `mirror sync {name}`"
    if problem.kind == "not-in-snapshot":
        return f"{name} is not in snapshot {snapshot}; {sync} to add it"
    if problem.kind == "not-synced":
        return f"index {problem.index} was not asked about {name} in snapshot {snapshot}; {sync}"
    if problem.kind == "failed":
        return f"index {problem.index} failed for {name} at sync time ({problem.detail}); {sync}"
    return (
        f"index {problem.index} refused {name} at sync time ({problem.detail}); "
        f"configure credentials for it, then {sync}"
    )


def _metadata_sha256(record: FileRecord) -> str | None:
    """The hash of the core metadata file to serve next to ``record``, if any.

    PEP 658 promises the file's own METADATA: a wheel's (from its ``.metadata`` file or read
    from the wheel), or what the origin index itself offered; never an sdist's PKG-INFO read
    by us, which a build may contradict.
    """
    meta = record.metadata
    if meta is None or not meta.available:
        return None
    if not record.is_wheel and meta.source != "pep658":
        return None
    return meta.sha256


class SnapshotView:
    """The snapshot as this server's clients see it: projects merged by ``rules`` for
    ``target`` (whose markers decide marker-conditional pins), cached, as snapshots never
    change."""

    def __init__(self, reader: SnapshotReader, rules: RuleSet, target: Target) -> None:
        self.reader = reader
        self.rules = rules
        self.target = target
        self._markers = target.environment.markers
        self._index_ids = {i.name: i.id for i in reader.indexes()}
        self._cache: dict[str, _Listing | Unavailable] = {}

    @property
    def snapshot_name(self) -> str:
        return self.reader.snapshot.name

    def close(self) -> None:
        self.reader.close()

    def project_names(self) -> list[str]:
        return self.reader.project_names()

    def project(self, name: str) -> ServedProject | Unavailable:
        found = self._listing(canonical_name(name))
        return found if isinstance(found, Unavailable) else found.project

    def metadata(self, name: str, filename: str) -> bytes | None:
        """The core metadata file served for ``filename`` of project ``name``, if listed."""
        found = self._listing(canonical_name(name))
        if isinstance(found, Unavailable):
            return None
        served = next((f for f in found.project.files if f.record.filename == filename), None)
        if served is None or served.metadata_sha256 is None:
            return None
        return self.reader.metadata_bytes(found.origin[filename], filename)

    def _listing(self, name: str) -> _Listing | Unavailable:
        cached = self._cache.get(name)
        if cached is None:
            cached = self._build(name)
            if len(self._cache) >= _CACHED_PROJECTS:
                del self._cache[next(iter(self._cache))]
            self._cache[name] = cached
        return cached

    def _build(self, name: str) -> _Listing | Unavailable:
        record = self.reader.project(name)
        candidates = build_candidates(record, self.rules, self.target, self._markers)
        if candidates.problems:
            return Unavailable(_problem_text(name, self.snapshot_name, candidates.problems[0]))
        if not candidates.supplying:
            answers = "; ".join(f"{i}: HTTP {s}" for i, s in sorted(candidates.not_here.items()))
            detail = f" ({answers})" if answers else ""
            return Unavailable(
                f"no index has {name} in snapshot {self.snapshot_name}{detail}; "
                f"check the spelling, or see `resolve --explain {name}`"
            )
        files: list[ServedFile] = []
        origin: dict[str, int] = {}
        for candidate in candidates.versions.values():
            index_id = self._index_ids[candidate.index.name]
            for record_file in candidate.files:
                if not _servable(record_file.filename, name):
                    continue
                files.append(ServedFile(record_file, _metadata_sha256(record_file)))
                origin[record_file.filename] = index_id
        versions = tuple(str(v) for v in candidates.versions)
        return _Listing(ServedProject(name, versions, tuple(files)), origin)


def _servable(filename: str, project: str) -> bool:
    """Only a plain file name of this project is ever published: a snapshot from elsewhere may
    hold a name that leaves the directory pip and uv save it in (``..\\x.whl``)."""
    parsed = check_filename(filename, project)
    return isinstance(parsed, ParsedFilename) and parsed.project == canonical_name(project)


def open_view(
    db: str | None,
    snapshot: str = "latest",
    python_version: str | None = None,
    python_platform: str | None = None,
) -> SnapshotView:
    """Snapshot ``snapshot`` of the database ``db`` (as ``--db``) under its stored rules, for
    the target ``--python-version`` / ``--python-platform`` (default: this machine)."""
    try:
        target = Target(TargetEnvironment.create(python_version, python_platform))
    except (UnknownPlatform, InvalidPythonVersion) as exc:
        raise SneakernetError(
            str(exc), hint="use the --python-version/--python-platform given to `resolve`"
        ) from exc
    reader = SnapshotReader.open(db, snapshot, long_lived=True)
    try:
        rules = stored_rules(reader, None)
    except RuleError as exc:
        reader.close()
        raise SneakernetError(exc.message, hint=exc.hint) from exc
    except BaseException:
        reader.close()
        raise
    return SnapshotView(reader, rules, target)
