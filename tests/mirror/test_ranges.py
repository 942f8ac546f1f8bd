"""Reading a wheel's METADATA by byte ranges: zip structures, and real HTTP servers."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import io
import itertools
import unittest.mock
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_aiohttp import AiohttpServer

from mirror.http.client import ClientConfig, FetchFailed, IndexClient
from mirror.http.ranges import ClientRangeFetcher
from mirror.metadata.sdist import MetadataError
from mirror.metadata.spool import Spool
from mirror.metadata.wheel_zip import (
    RangeNotSupported,
    metadata_from_wheel_file,
    metadata_from_wheel_range,
    parse_central_directory,
    select_metadata_member,
)
from tests.fixtures.dists import BuiltDist, build_wheel


@dataclass
class BytesFetcher:
    """An honest in-memory RangeFetcher that records the ranges asked for."""

    data: bytes
    calls: list[tuple[int, int]] = field(default_factory=list)

    async def size(self) -> int | None:
        return len(self.data)

    async def fetch(self, start: int, end: int) -> bytes:
        self.calls.append((start, end))
        return self.data[start : end + 1]

    @property
    def transferred(self) -> int:
        return sum(end - start + 1 for start, end in self.calls)


def zip64_wheel() -> BuiltDist:
    """A wheel written with zip64 records everywhere (lowered limits while zipfile writes)."""
    with (
        unittest.mock.patch.object(zipfile, "ZIP64_LIMIT", 16),
        unittest.mock.patch.object(zipfile, "ZIP_FILECOUNT_LIMIT", 2),
    ):
        return build_wheel("zip64-demo", "2.0", requires_dist=["attrs>=22"], padding=5000)


def many_members_wheel(count: int) -> bytes:
    """A wheel whose central directory is far larger than the 64 KiB tail."""
    wheel = build_wheel("bulky", "1.0", requires_dist=["six"])
    source = zipfile.ZipFile(io.BytesIO(wheel.data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for index in range(count):
            out.writestr(f"bulky/{'x' * 60}_{index:05d}.py", b"")
        for info in source.infolist():
            out.writestr(info, source.read(info))
    return buffer.getvalue()


# --- zip structures (in memory) --------------------------------------------------------------


async def test_reads_tail_then_member_only() -> None:
    wheel = build_wheel("demo", "1.0", requires_dist=["idna"], padding=300_000)
    fetcher = BytesFetcher(wheel.data)
    assert await metadata_from_wheel_range(fetcher, "demo") == wheel.metadata
    # .dist-info is written last, so the tail holds directory and member: one request.
    assert len(fetcher.calls) == 1
    assert fetcher.transferred <= 16 * 1024


async def test_member_outside_tail_costs_one_more_request() -> None:
    wheel = build_wheel("demo", "1.0", requires_dist=["idna"], padding=10_000)
    fetcher = BytesFetcher(wheel.data)
    assert await metadata_from_wheel_range(fetcher, tail_size=200) == wheel.metadata
    assert fetcher.transferred < len(wheel.data)


async def test_directory_larger_than_tail_fetches_missing_head() -> None:
    data = many_members_wheel(2000)
    fetcher = BytesFetcher(data)
    assert await metadata_from_wheel_range(fetcher, "bulky") == metadata_from_wheel_file(
        io.BytesIO(data)
    )
    # The missing head of the directory is fetched without re-reading the tail.
    starts = sorted(fetcher.calls)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(starts))


async def test_zip64_records() -> None:
    wheel = zip64_wheel()
    assert b"PK\x06\x06" in wheel.data and b"PK\x06\x07" in wheel.data
    fetcher = BytesFetcher(wheel.data)
    assert await metadata_from_wheel_range(fetcher, "zip64-demo") == wheel.metadata
    assert metadata_from_wheel_file(io.BytesIO(wheel.data)) == wheel.metadata


def test_central_directory_matches_zipfile() -> None:
    wheel = zip64_wheel()
    archive = zipfile.ZipFile(io.BytesIO(wheel.data))
    infos = archive.infolist()
    end = wheel.data.rindex(b"PK\x06\x06")
    entries = parse_central_directory(wheel.data[archive.start_dir : end])
    assert [(e.name, e.header_offset, e.size, e.compressed_size) for e in entries] == [
        (i.filename, i.header_offset, i.file_size, i.compress_size) for i in infos
    ]


async def test_long_archive_comment_widens_the_tail() -> None:
    wheel = build_wheel("demo", "1.0")
    buffer = io.BytesIO(wheel.data)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.comment = b"PK\x05\x06 not a record " + b"c" * 60_000
    fetcher = BytesFetcher(buffer.getvalue())
    assert await metadata_from_wheel_range(fetcher, tail_size=1024) == wheel.metadata


@pytest.mark.parametrize(
    ("names", "project", "expected"),
    [
        (["a/__init__.py", "a-1.dist-info/METADATA"], None, "a-1.dist-info/METADATA"),
        (["a-1.dist-info/METADATA", "b-2.dist-info/METADATA"], "B", "b-2.dist-info/METADATA"),
        (
            ["foo_bar-1.dist-info/METADATA", "x-1.dist-info/RECORD"],
            "Foo.Bar",
            "foo_bar-1.dist-info/METADATA",
        ),
    ],
)
def test_select_metadata_member(names: list[str], project: str | None, expected: str) -> None:
    assert select_metadata_member(names, project) == expected


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["a/__init__.py"], "no top-level .dist-info"),
        (["c-1.dist-info/METADATA", "b-1.dist-info/METADATA"], "several .dist-info"),
        (["a-1.dist-info/RECORD"], "no a-1.dist-info/METADATA"),
        (["a-1.dist-info/METADATA", "a-1.dist-info/METADATA"], "duplicate"),
        (["../a-1.dist-info/METADATA", "/b-1.dist-info/METADATA"], "no top-level"),
        (["x/a-1.dist-info/METADATA"], "no top-level"),
    ],
)
def test_select_metadata_member_rejects(names: list[str], message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        select_metadata_member(names, "a")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d[: len(d) // 2], "no end-of-central-directory record"),
        (lambda d: d[:-30], "no end-of-central-directory record"),
        (lambda d: b"not a zip at all" * 10, "no end-of-central-directory record"),
        (lambda d: b"x" * 5, "too short"),
        (lambda d: d.replace(b"PK\x01\x02", b"PK\x01\x03"), "no central directory entry"),
        (lambda d: d.replace(b"PK\x03\x04", b"PK\x03\x05"), "no local header"),
    ],
)
async def test_corrupt_wheel_is_a_clear_error(
    damage: Callable[[bytes], bytes], message: str
) -> None:
    data = damage(build_wheel("demo", "1.0", padding=1000).data)
    with pytest.raises(MetadataError, match=message):
        await metadata_from_wheel_range(BytesFetcher(data))
    with pytest.raises(MetadataError, match=r"not a valid wheel|no top-level"):
        metadata_from_wheel_file(io.BytesIO(data))


async def test_corrupt_member_data_fails_crc_or_inflate() -> None:
    wheel = build_wheel("demo", "1.0", requires_dist=["a", "b", "c"])
    at = wheel.data.index(b"demo-1.0.dist-info/METADATA") + len("demo-1.0.dist-info/METADATA") + 3
    data = wheel.data[:at] + bytes([wheel.data[at] ^ 0xFF]) + wheel.data[at + 1 :]
    with pytest.raises(MetadataError, match=r"corrupt zip: (CRC-32|cannot inflate|.*bytes)"):
        await metadata_from_wheel_range(BytesFetcher(data))


async def test_unknown_size_means_no_ranges() -> None:
    class Sizeless(BytesFetcher):
        async def size(self) -> int | None:
            return None

    with pytest.raises(RangeNotSupported):
        await metadata_from_wheel_range(Sizeless(b""))


async def test_short_range_reply_means_no_ranges() -> None:
    class Short(BytesFetcher):
        async def fetch(self, start: int, end: int) -> bytes:
            return (await super().fetch(start, end))[:-1]

    with pytest.raises(RangeNotSupported, match="got"):
        await metadata_from_wheel_range(Short(build_wheel("demo", "1.0").data))


_FUZZ = build_wheel("fuzz", "0.1", requires_dist=["a>=1", "b; extra == 'x'"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.none() | st.integers(min_value=0, max_value=len(_FUZZ.data)),
    flips=st.lists(st.tuples(st.integers(0, len(_FUZZ.data) - 1), st.integers(1, 255)), max_size=3),
)
def test_damaged_wheels_fail_only_with_metadata_error(
    cut: int | None, flips: list[tuple[int, int]]
) -> None:
    """Whatever the damage, the answer is the true METADATA or a MetadataError."""
    data = bytearray(_FUZZ.data)
    for at, mask in flips:
        data[at] ^= mask
    damaged = bytes(data[:cut])
    with contextlib.suppress(MetadataError):
        got = asyncio.run(metadata_from_wheel_range(BytesFetcher(damaged), "fuzz"))
        assert got == _FUZZ.metadata
    with contextlib.suppress(MetadataError):
        assert metadata_from_wheel_file(io.BytesIO(damaged), "fuzz") == _FUZZ.metadata


# --- real HTTP servers -----------------------------------------------------------------------


def wheel_app(data: bytes, mode: str, log: list[web.Request]) -> web.Application:
    """Serves ``data`` at /w.whl; ``mode`` picks how (mis)behaves with Range."""

    async def handler(request: web.Request) -> web.StreamResponse:
        log.append(request)
        wanted = request.http_range
        if mode == "ignore" or (wanted.start is None and wanted.stop is None):
            return web.Response(body=data, content_type="application/octet-stream")
        span = range(len(data))[wanted]
        start, stop = span.start, span.stop
        if mode == "wrong-range":
            start, stop = max(0, start - 10), stop - 10
        headers = {"Content-Range": f"bytes {start}-{stop - 1}/{len(data)}"}
        body = data[start:stop]
        if mode == "gzip":  # a content coding makes byte offsets meaningless
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        return web.Response(status=206, body=body, headers=headers)

    async def redirect(request: web.Request) -> web.StreamResponse:
        log.append(request)
        raise web.HTTPFound("/w.whl")

    app = web.Application()
    app.router.add_get("/r.whl", redirect)
    # add_get also answers HEAD; "no-head" servers answer HEAD with 405.
    if mode == "no-head":
        app.router.add_route("GET", "/w.whl", handler)
    else:
        app.router.add_get("/w.whl", handler)
    return app


@pytest.fixture
def big_wheel() -> BuiltDist:
    return build_wheel("heavy", "3.1", requires_dist=["numpy>=1.26"], padding=2_000_000)


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """No credentials from the developer's own netrc or environment."""
    return {"NETRC": str(tmp_path / "no-netrc")}


def index_client(env: dict[str, str]) -> IndexClient:
    """A real client, with retries that do not wait."""
    return IndexClient(
        ClientConfig(backoff_base=0.001, backoff_cap=0.001), environ=env, netrc_path=env["NETRC"]
    )


BASIC = "Basic " + base64.b64encode(b"user:t0k3n").decode("ascii")


@pytest.mark.parametrize("mode", ["honour", "no-head"])
async def test_range_read_over_http(
    aiohttp_server: AiohttpServer, big_wheel: BuiltDist, mode: str, isolated_env: dict[str, str]
) -> None:
    log: list[web.Request] = []
    server = await aiohttp_server(wheel_app(big_wheel.data, mode, log))
    url = str(server.make_url("/w.whl"))
    async with index_client(isolated_env) as client:
        # Credentials are the index's, registered by URL; they apply to the index's origin.
        index_url = str(server.make_url("/simple/").with_user("user").with_password("t0k3n"))
        assert client.add_index(index_url) == str(server.make_url("/simple/"))
        fetcher = ClientRangeFetcher(client, url, Spool())
        assert await metadata_from_wheel_range(fetcher, "heavy") == big_wheel.metadata
    assert 0 < fetcher.bytes_transferred <= 20_000 < len(big_wheel.data) // 20
    assert not fetcher.whole.complete and fetcher.whole.size == 0
    assert all(r.headers["Accept-Encoding"] == "identity" for r in log)
    assert all(r.headers["Authorization"] == BASIC for r in log)
    if mode == "honour":  # HEAD for the size, one ranged GET for the tail (METADATA included)
        assert [r.method for r in log] == ["HEAD", "GET"]
        assert (
            log[1].headers["Range"]
            == f"bytes={len(big_wheel.data) - 16384}-{len(big_wheel.data) - 1}"
        )
    else:  # HEAD refused (405); the suffix-range probe doubles as the tail read
        assert [(r.method, r.headers["Range"]) for r in log] == [("GET", "bytes=-16384")]
        assert client.stats.requests == 2


async def test_a_size_the_page_gave_needs_no_head(
    aiohttp_server: AiohttpServer, big_wheel: BuiltDist, isolated_env: dict[str, str]
) -> None:
    log: list[web.Request] = []
    server = await aiohttp_server(wheel_app(big_wheel.data, "honour", log))
    url = str(server.make_url("/w.whl"))
    size = len(big_wheel.data)
    async with index_client(isolated_env) as client:
        fetcher = ClientRangeFetcher(client, url, Spool(), size=size)
        assert await metadata_from_wheel_range(fetcher, "heavy") == big_wheel.metadata
        # The suffix read of the tail confirms the size and holds the METADATA member too.
        assert [(r.method, r.headers["Range"]) for r in log] == [("GET", "bytes=-16384")]
        lying = ClientRangeFetcher(client, url, Spool(), size=size + 1)
        with pytest.raises(FetchFailed, match=f"the server says {size} bytes, the page {size + 1}"):
            await metadata_from_wheel_range(lying, "heavy")


async def test_range_read_through_a_redirect(
    aiohttp_server: AiohttpServer, big_wheel: BuiltDist, isolated_env: dict[str, str]
) -> None:
    log: list[web.Request] = []
    server = await aiohttp_server(wheel_app(big_wheel.data, "honour", log))
    url = str(server.make_url("/r.whl"))
    async with index_client(isolated_env) as client:
        fetcher = ClientRangeFetcher(client, url, Spool())
        assert await fetcher.size() == len(big_wheel.data)  # the file's, not the redirect's
        assert await metadata_from_wheel_range(fetcher, "heavy") == big_wheel.metadata
    assert [(r.method, r.path) for r in log] == [
        ("HEAD", "/r.whl"),
        ("HEAD", "/w.whl"),
        ("GET", "/r.whl"),
        ("GET", "/w.whl"),
    ]
    assert log[-1].headers["Range"].startswith("bytes=")


async def test_range_read_redirected_to_another_origin_drops_authorization(
    aiohttp_server: AiohttpServer, big_wheel: BuiltDist, isolated_env: dict[str, str]
) -> None:
    """The index's credentials go to the index's origin only, never across a redirect."""
    files_log: list[web.Request] = []
    files = await aiohttp_server(wheel_app(big_wheel.data, "honour", files_log))
    index_log: list[web.Request] = []

    async def elsewhere(request: web.Request) -> web.StreamResponse:
        index_log.append(request)
        raise web.HTTPFound(str(files.make_url("/w.whl")))

    app = web.Application()
    app.router.add_get("/packages/h.whl", elsewhere)
    index = await aiohttp_server(app)
    assert (index.host, index.port) != (files.host, files.port)
    async with index_client(isolated_env) as client:
        client.add_index(str(index.make_url("/simple/").with_user("user").with_password("t0k3n")))
        fetcher = ClientRangeFetcher(client, str(index.make_url("/packages/h.whl")), Spool())
        assert await metadata_from_wheel_range(fetcher, "heavy") == big_wheel.metadata
    assert [r.method for r in index_log] == ["HEAD", "GET"]
    assert all(r.headers["Authorization"] == BASIC for r in index_log)
    assert [r.method for r in files_log] == ["HEAD", "GET"]
    assert all("Authorization" not in r.headers for r in files_log)


async def test_range_read_from_aiohttp_file_response(
    aiohttp_server: AiohttpServer,
    big_wheel: BuiltDist,
    tmp_path: Path,
    isolated_env: dict[str, str],
) -> None:
    """aiohttp's own static file handler: a real-world Range implementation."""
    path = tmp_path / big_wheel.filename
    path.write_bytes(big_wheel.data)
    app = web.Application()
    app.router.add_static("/files", tmp_path)
    server = await aiohttp_server(app)
    url = str(server.make_url(f"/files/{big_wheel.filename}"))
    async with index_client(isolated_env) as client:
        fetcher = ClientRangeFetcher(client, url, Spool())
        assert await metadata_from_wheel_range(fetcher) == big_wheel.metadata
    assert fetcher.bytes_transferred < 100_000


async def test_server_ignoring_range_then_fallback(
    aiohttp_server: AiohttpServer, big_wheel: BuiltDist, isolated_env: dict[str, str]
) -> None:
    log: list[web.Request] = []
    server = await aiohttp_server(wheel_app(big_wheel.data, "ignore", log))
    url = str(server.make_url("/w.whl"))
    async with index_client(isolated_env) as client:
        fetcher = ClientRangeFetcher(client, url, Spool())
        with pytest.raises(RangeNotSupported, match="ignored Range"):
            await metadata_from_wheel_range(fetcher, "heavy")
        # The 200 answer to the ranged GET is the whole file, written into the spool as it
        # arrives and kept so that the fallback need not download it a second time.
        assert [r.method for r in log] == ["HEAD", "GET"]
        assert "Range" in log[1].headers
        whole = fetcher.whole
        assert whole.complete and whole.size == len(big_wheel.data)
        assert fetcher.bytes_transferred == len(big_wheel.data)
        assert whole.rewound().read() == big_wheel.data
        assert metadata_from_wheel_file(whole.rewound(), "heavy") == big_wheel.metadata


@pytest.mark.parametrize(("mode", "message"), [("wrong-range", "Content-Range"), ("gzip", "gzip")])
async def test_misbehaving_range_server(
    aiohttp_server: AiohttpServer,
    big_wheel: BuiltDist,
    mode: str,
    message: str,
    isolated_env: dict[str, str],
) -> None:
    server = await aiohttp_server(wheel_app(big_wheel.data, mode, []))
    url = str(server.make_url("/w.whl"))
    async with index_client(isolated_env) as client:
        with pytest.raises(RangeNotSupported, match=message):
            await metadata_from_wheel_range(ClientRangeFetcher(client, url, Spool()))


async def test_http_error_is_not_range_not_supported(
    aiohttp_server: AiohttpServer, isolated_env: dict[str, str]
) -> None:
    server = await aiohttp_server(web.Application())
    url = str(server.make_url("/missing.whl"))
    async with index_client(isolated_env) as client:
        with pytest.raises(FetchFailed) as caught:
            await metadata_from_wheel_range(ClientRangeFetcher(client, url, Spool()))
    assert not isinstance(caught.value, RangeNotSupported)
    assert caught.value.status == 404
