"""`mirror serve`: a read-only Simple Repository API over one snapshot, for pip and uv.

Each project page shows exactly what ``resolve`` would see: the project's pages merged by the
stored precedence rules (:func:`resolve.candidates.project.build_candidates`), so a stock client
that installs a lock from this server gets the files the lock was resolved from. Links point at
``/files/NAME`` on this server, answered from a wheelhouse directory (``--files``, as filled by
``mirror download``); core metadata files (PEP 658) come from the snapshot itself.

The snapshot is read through :class:`db.read.snapshot_reader.SnapshotReader` (stdlib sqlite3,
read-only).
Reads are small and synchronous, so they run on the event loop's thread, which also owns the
sqlite connection.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from aiohttp import web

from db.canonical import canonical_name
from db.errors import SneakernetError
from mirror.download.plan import check_target_name
from mirror.index_api.filenames import ParsedFilename, check_filename
from mirror.serve.pages import (
    FILES_PATH,
    HTML_TYPES,
    JSON_TYPE,
    SnapshotView,
    Unavailable,
    negotiate,
    open_view,
    render_project,
    render_root,
)

__all__ = ["SnapshotView", "build_app", "open_view"]

_CHUNK = 1024 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_WHEELHOUSE_HINT = "run `mirror download LOCK -d DIR` and serve DIR with `mirror serve --files DIR`"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _text(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=message.rstrip("\n") + "\n", headers=headers)


def _document(body: bytes, content_type: str) -> web.Response:
    charset = "; charset=utf-8" if content_type in HTML_TYPES else ""
    headers = {"Content-Type": content_type + charset, "Vary": "Accept"}
    return web.Response(body=body, headers=headers)


def _not_acceptable() -> web.Response:
    offered = ", ".join([JSON_TYPE, *HTML_TYPES])
    return _text(406, f"none of the representations served here is acceptable: {offered}")


@web.middleware
async def _read_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in ("GET", "HEAD"):
        message = f"{request.method} not allowed: this server is read-only (GET and HEAD only)"
        return _text(405, message, {"Allow": "GET, HEAD"})
    try:
        return await handler(request)
    except SneakernetError as exc:
        hint = f"\nhint: {exc.hint}" if exc.hint else ""
        return _text(500, f"error: {exc.message}{hint}")


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """RFC 9110 §14: one ``bytes=`` range as (start, end exclusive); None to send it all.
    Raises HTTPRequestRangeNotSatisfiable for a range past the end."""
    match = _RANGE.fullmatch(header.strip()) if header else None
    if match is None or match.groups() == ("", ""):
        return None  # absent, or a form we do not serve: the whole file (allowed by §14.2)
    first, last = match.groups()
    unsatisfiable = web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    if not first:  # a suffix: the last N bytes
        if not int(last) or not size:
            raise unsatisfiable
        return max(0, size - int(last)), size
    start = int(first)
    if last and int(last) < start:
        return None  # not a valid range: ignored (RFC 9110 §14.1.1)
    if start >= size:
        raise unsatisfiable
    return start, min(int(last) + 1, size) if last else size


def _open_regular(path: Path) -> BinaryIO | None:
    try:
        handle = path.open("rb")
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()
        return None
    return handle


class _Handlers:
    def __init__(self, view: SnapshotView, files: Path | None) -> None:
        self.view = view
        self.files = files.resolve() if files is not None else None

    async def to_root(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently("/simple/")

    async def root(self, request: web.Request) -> web.StreamResponse:
        kind = negotiate(request.headers.get("Accept"))
        if kind is None:
            return _not_acceptable()
        return _document(render_root(self.view.project_names(), kind), kind)

    async def project(self, request: web.Request) -> web.StreamResponse:
        raw = request.match_info["project"]
        name = canonical_name(raw)
        if raw != name or not request.path.endswith("/"):
            raise web.HTTPMovedPermanently(f"/simple/{quote(name, safe='')}/")  # PEP 503
        kind = negotiate(request.headers.get("Accept"))
        if kind is None:
            return _not_acceptable()
        found = self.view.project(name)
        if isinstance(found, Unavailable):
            return _text(404, found.message)
        return _document(render_project(found, kind), kind)

    async def project_file(self, request: web.Request) -> web.StreamResponse:
        raw, filename = request.match_info["project"], request.match_info["filename"]
        name = canonical_name(raw)
        if not filename.endswith(".metadata"):
            return _text(404, f"{filename}: files are served under {FILES_PATH}, not here")
        if raw != name:
            raise web.HTTPMovedPermanently(f"/simple/{quote(name, safe='')}/{quote(filename)}")
        return self._metadata(name, filename.removesuffix(".metadata"))

    async def file(self, request: web.Request) -> web.StreamResponse:
        filename = request.match_info["filename"]
        if filename.endswith(".metadata"):
            dist = filename.removesuffix(".metadata")
            parsed = check_filename(dist)
            if not isinstance(parsed, ParsedFilename):
                return _text(404, f"{dist}: not a distribution file name ({parsed.reason})")
            return self._metadata(parsed.project, dist)
        refused = check_target_name(filename)
        if refused is not None:
            return _text(404, f"{filename!r} is not served: {refused}")
        if self.files is None:
            where = "this server has none (no --files DIR)"
            return _text(404, f"{filename} is not in the wheelhouse: {where}; {_WHEELHOUSE_HINT}")
        path = (self.files / filename).resolve()
        handle = _open_regular(path) if path.parent == self.files else None
        if handle is None:
            where = f"not in the wheelhouse {self.files}"
            return _text(404, f"{filename} is {where}; {_WHEELHOUSE_HINT}")
        with handle:
            return await _send(request, handle)

    def _metadata(self, project: str, filename: str) -> web.StreamResponse:
        data = self.view.metadata(project, filename)
        if data is None:
            return _text(
                404,
                f"no core metadata for {filename} in snapshot {self.view.snapshot_name} "
                f"(the file is not listed for {project}, or its metadata was not synced)",
            )
        return web.Response(body=data, content_type="application/octet-stream")

    async def unknown(self, request: web.Request) -> web.StreamResponse:
        served = f"this server answers /simple/ and {FILES_PATH}"
        return _text(404, f"nothing at {request.path}: {served}")


async def _send(request: web.Request, handle: BinaryIO) -> web.StreamResponse:
    size = os.fstat(handle.fileno()).st_size
    wanted = _byte_range(request.headers.get("Range"), size)
    start, end = wanted or (0, size)
    headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    response = web.StreamResponse(status=200 if wanted is None else 206, headers=headers)
    response.content_length = end - start
    await response.prepare(request)
    if request.method == "GET":
        loop = asyncio.get_running_loop()
        handle.seek(start)
        remaining = end - start
        while remaining > 0:
            chunk = await loop.run_in_executor(None, handle.read, min(_CHUNK, remaining))
            if not chunk:
                break  # the file shrank under us; the client sees a short body and retries
            await response.write(chunk)
            remaining -= len(chunk)
    await response.write_eof()
    return response


def build_app(view: SnapshotView, files: Path | None = None) -> web.Application:
    """The application serving ``view`` (and ``files``, a wheelhouse); closes the view's
    reader on cleanup."""
    handlers = _Handlers(view, files)
    app = web.Application(middlewares=[_read_only])
    app.router.add_get("/simple", handlers.to_root)
    app.router.add_get("/simple/", handlers.root)
    app.router.add_get("/simple/{project}", handlers.project)
    app.router.add_get("/simple/{project}/", handlers.project)
    app.router.add_get("/simple/{project}/{filename}", handlers.project_file)
    app.router.add_get(FILES_PATH + "{filename}", handlers.file)
    app.router.add_get("/{tail:.*}", handlers.unknown)

    async def close(_app: web.Application) -> None:
        view.close()

    app.on_cleanup.append(close)
    return app
