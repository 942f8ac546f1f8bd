"""A synthetic PEP 691 index served on loopback, for benchmarks and the demo.

Pages and PEP 658 ``.metadata`` files are generated deterministically from a seed and served
from memory with ETags (so a re-sync is all 304s; ``--no-etags``: 200s with the same bodies,
as most mirrors and CDNs answer); the root lists the projects (PEP 691), as
``mirror index add`` checks. Distribution files themselves are not
served: a benchmark that needs them would measure the disk, not the sync.

Two generators: :func:`build_index` (uniform projects, for the sync benchmark) and
:func:`graph_index`, which renders a :mod:`bench.synthetic_graph` model (PyPI-shaped
releases, files and dependency graphs, for resolver benchmarks) into the same pages.

    python -m bench.synthetic_index --projects 2000 --versions 20 --port 8765
    python -m bench.synthetic_index --graph 700 --port 8765
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bench.synthetic_graph import Graph, Project, Release, build_graph

__all__ = [
    "JSON_CONTENT_TYPE",
    "SyntheticIndex",
    "build_index",
    "core_metadata",
    "etag",
    "graph_index",
    "graph_pages",
    "make_app",
    "render_project",
]

JSON_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class SyntheticIndex:
    pages: dict[str, bytes]  # project → PEP 691 body
    metadata: dict[str, bytes]  # filename → METADATA bytes

    @property
    def projects(self) -> list[str]:
        return sorted(self.pages)


def _name(i: int) -> str:
    return f"pkg-{i:05d}"


def build_index(projects: int, versions: int, *, seed: int = 0, deps: int = 3) -> SyntheticIndex:
    rng = random.Random(seed)
    pages: dict[str, bytes] = {}
    metadata: dict[str, bytes] = {}
    for i in range(projects):
        name = _name(i)
        files: list[dict[str, Any]] = []
        for v in range(versions):
            version = f"{1 + v // 10}.{v % 10}.0"
            filename = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
            requires = sorted(
                {f"{_name(rng.randrange(projects))}>={1 + rng.randrange(2)}.0" for _ in range(deps)}
                - {f"{name}>=1.0", f"{name}>=2.0"}
            )
            meta = (
                "\n".join(
                    ["Metadata-Version: 2.3", f"Name: {name}", f"Version: {version}"]
                    + ["Requires-Python: >=3.8"]
                    + [f"Requires-Dist: {r}" for r in requires]
                ).encode()
                + b"\n"
            )
            metadata[filename] = meta
            digest = hashlib.sha256(filename.encode() + b"wheel").hexdigest()
            files.append(
                {
                    "filename": filename,
                    "url": f"/files/{filename}",
                    "hashes": {"sha256": digest},
                    "requires-python": ">=3.8",
                    "size": 10_000 + rng.randrange(50_000),
                    "upload-time": f"2024-{1 + v % 12:02d}-{1 + v % 28:02d}T12:00:00.000000Z",
                    "core-metadata": {"sha256": hashlib.sha256(meta).hexdigest()},
                    "yanked": False,
                }
            )
        page = {
            "meta": {"api-version": "1.1", "_last-serial": 1000 + i},
            "name": name,
            "versions": [f["filename"].split("-")[1] for f in files],
            "files": files,
        }
        pages[name] = json.dumps(page, sort_keys=True).encode()
    return SyntheticIndex(pages, metadata)


def core_metadata(project: Project, release: Release, *, sdist: bool) -> bytes:
    """A wheel's METADATA, or an sdist's PKG-INFO (PEP 643: static unless it says dynamic)."""
    lines = [
        f"Metadata-Version: {'2.4' if sdist else '2.1'}",
        f"Name: {project.name}",
        f"Version: {release.version}",
        f"Summary: {project.name}, a synthetic project",
    ]
    if sdist and release.sdist_dynamic:
        lines.append("Dynamic: Requires-Dist")
    if release.requires_python:
        lines.append(f"Requires-Python: {release.requires_python}")
    lines += [f"Provides-Extra: {extra}" for extra in release.provides_extra]
    lines += [f"Requires-Dist: {requirement}" for requirement in release.requires_dist]
    return ("\n".join(lines) + "\n").encode()


def render_project(
    project: Project, serial: int, files_url: str = "/files/"
) -> tuple[bytes, dict[str, bytes]]:
    """A graph project's PEP 691 page and its files' PEP 658 metadata (filename → bytes)."""
    metadata: dict[str, bytes] = {}
    files = []
    for release in project.releases:
        wheel_meta = core_metadata(project, release, sdist=False)
        sdist_meta = core_metadata(project, release, sdist=True)
        for dist in release.files:
            meta = sdist_meta if not dist.tags else wheel_meta
            metadata[dist.filename] = meta
            yanked: str | bool = False if release.yanked is None else release.yanked or True
            files.append(
                {
                    "filename": dist.filename,
                    "url": files_url + dist.filename,
                    "hashes": {"sha256": dist.sha256},
                    "requires-python": release.requires_python,
                    "size": dist.size,
                    "upload-time": release.upload_time,
                    "core-metadata": {"sha256": hashlib.sha256(meta).hexdigest()},
                    "yanked": yanked,
                }
            )
    page = {
        "meta": {"api-version": "1.1", "_last-serial": serial},
        "name": project.name,
        "versions": [release.version for release in project.releases],
        "files": files,
    }
    return json.dumps(page, sort_keys=True).encode(), metadata


def graph_pages(graph: Graph) -> Iterator[tuple[str, bytes, dict[str, bytes]]]:
    """(canonical name, page, PEP 658 files) for each project of ``graph``, in name order."""
    for serial, project in enumerate(graph.projects, start=1000):
        page, metadata = render_project(project, serial)
        yield project.canonical, page, metadata


def graph_index(size: int, *, seed: int = 0) -> SyntheticIndex:
    """All the pages of ``build_graph(size, seed=seed)``, in memory, for serving."""
    pages: dict[str, bytes] = {}
    metadata: dict[str, bytes] = {}
    for name, page, files in graph_pages(build_graph(size, seed=seed)):
        pages[name] = page
        metadata.update(files)
    return SyntheticIndex(pages, metadata)


def etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def make_app(index: SyntheticIndex, *, etags_sent: bool = True) -> web.Application:
    etags = {name: etag(body) for name, body in index.pages.items()}
    listing = {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in index.projects]}
    root_body = json.dumps(listing).encode()

    async def root(request: web.Request) -> web.Response:
        return web.Response(body=root_body, content_type=JSON_CONTENT_TYPE)

    async def project(request: web.Request) -> web.Response:
        name = request.match_info["project"]
        body = index.pages.get(name)
        if body is None:
            return web.Response(status=404, text="not found")
        if not etags_sent:
            return web.Response(body=body, content_type=JSON_CONTENT_TYPE)
        etag = etags[name]
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type=JSON_CONTENT_TYPE, headers={"ETag": etag})

    async def metadata(request: web.Request) -> web.Response:
        body = index.metadata.get(request.match_info["filename"])
        if body is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=body, content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/simple/", root)
    app.router.add_get("/simple/{project}/", project)
    app.router.add_get("/files/{filename}.metadata", metadata)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--graph", type=int, metavar="SIZE", help="Serve a PyPI-shaped dependency graph instead."
    )
    parser.add_argument("--no-etags", action="store_true", help="Send pages without an ETag.")
    args = parser.parse_args()
    if args.graph:
        index = graph_index(args.graph, seed=args.seed)
    else:
        index = build_index(args.projects, args.versions, seed=args.seed)
    app = make_app(index, etags_sent=not args.no_etags)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
