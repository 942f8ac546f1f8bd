"""A PyPI-shaped index of real distribution files on loopback, for whole-sync comparisons.

:func:`wheel_index` renders a :mod:`bench.synthetic_graph` graph into a
:class:`tests.fixtures.index_model.FixtureIndex`: each project keeps its newest ``versions``
releases plus the release every dependent admits (so a solution exists), minus releases the
target (CPython 3.12, x86_64 manylinux) cannot install. Every file is a real archive
(:mod:`tests.fixtures.dists`): wheels the target installs carry incompressible padding as
large as the graph says (capped at ``max_bytes``), so reading their METADATA means ranged
reads of the central directory at the end of the zip (or downloading the whole wheel); the
other wheels are small, since no client for this target reads them. Pages are PEP 691 JSON
with sizes and sha256 and *no* PEP 658 metadata files.

:func:`serving` runs the fixture server (tests/fixtures/index_server.py) in a thread with its
own event loop, adding an optional delay to every request, the caching headers of a large
public index (files immutable, pages fresh for ten minutes: a warm uv cache asks for nothing
again), and a log of what was sent: method, whether it was a ranged GET, and body bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from aiohttp import web

from bench.synthetic_graph import Graph, Project, Release
from bench.uv_bench import installable
from tests.fixtures.dists import BuiltDist, build_sdist, build_wheel
from tests.fixtures.index_model import FixtureIndex
from tests.fixtures.index_server import build_app

__all__ = ["RequestLog", "Traffic", "serving", "wheel_index"]

_FILE_CACHE = "max-age=365000000, immutable, public"
_PAGE_CACHE = "max-age=600, public"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _usable(release: Release) -> bool:
    return any(installable(d.tags) if d.tags else not release.sdist_dynamic for d in release.files)


def _kept(project: Project, versions: int) -> list[Release]:
    keep = set(project.releases[-versions:]) | {project.releases[project.compatible]}
    return [r for r in project.releases if r in keep and _usable(r)]


def _build(project: Project, release: Release, tags: str, size: int, cap: int) -> BuiltDist:
    common = {
        "requires_dist": release.requires_dist,
        "requires_python": release.requires_python,
        "provides_extra": release.provides_extra,
    }
    if not tags:
        dynamic = ("Requires-Dist",) if release.sdist_dynamic else ()
        return build_sdist(project.name, release.version, dynamic=dynamic, **common)  # type: ignore[arg-type]
    padding = min(size, cap) if installable(tags) else 0
    return build_wheel(project.name, release.version, tag=tags, padding=padding, **common)  # type: ignore[arg-type]


def wheel_index(graph: Graph, *, versions: int, max_bytes: int) -> FixtureIndex:
    index = FixtureIndex()
    for project in graph.projects:
        page = index.add_project(project.name, format="json")
        for release in _kept(project, versions):
            yanked: bool | str = False if release.yanked is None else release.yanked or True
            for dist in release.files:
                page.add(
                    _build(project, release, dist.tags, dist.size, max_bytes),
                    version=release.version,
                    yanked=yanked,
                    requires_python=release.requires_python,
                    upload_time=release.upload_time,
                    core_metadata=False,  # no PEP 658: clients read the files themselves
                )
    return index


@dataclass(frozen=True, slots=True)
class Traffic:
    """Requests answered and body bytes sent, by kind."""

    head: int = 0
    get: int = 0  # whole bodies (pages, whole files)
    ranged: int = 0  # GETs with a Range header
    bytes_sent: int = 0

    @property
    def requests(self) -> int:
        return self.head + self.get + self.ranged


@dataclass
class RequestLog:
    """What the server sent, appended from its thread; read between two commands."""

    entries: list[tuple[str, bool, int]] = field(default_factory=list)  # method, ranged, bytes
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> Traffic:
        """The traffic since the last call, and forget it."""
        with self.lock:
            entries, self.entries = self.entries, []
        heads = sum(method == "HEAD" for method, _, _ in entries)
        ranged = sum(method != "HEAD" and is_ranged for method, is_ranged, _ in entries)
        sent = sum(size for _, _, size in entries)
        return Traffic(heads, len(entries) - heads - ranged, ranged, sent)


def _observer(log: RequestLog, latency: float) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        if latency:
            await asyncio.sleep(latency)  # a round trip to a distant index, on every request
        response = await handler(request)
        if response.status in (200, 206, 304):
            # A large index's caching headers: files never change, pages for ten minutes.
            immutable = request.path.startswith("/files/")
            response.headers["Cache-Control"] = _FILE_CACHE if immutable else _PAGE_CACHE
        body = getattr(response, "body", None)
        size = len(body) if isinstance(body, bytes) and request.method != "HEAD" else 0
        with log.lock:
            log.entries.append((request.method, "Range" in request.headers, size))
        return response

    return observe


@contextlib.contextmanager
def serving(index: FixtureIndex, latency_ms: float) -> Iterator[tuple[str, RequestLog]]:
    """Serve ``index`` on 127.0.0.1 from a thread with its own loop; yields (the /simple/
    URL, the log of what it sent)."""
    log = RequestLog()
    app = build_app(index)
    app.middlewares.insert(0, _observer(log, latency_ms / 1000))
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/simple/", log
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.run_until_complete(runner.cleanup())
        loop.close()
