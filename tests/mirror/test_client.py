"""The sync's HTTP client against real fixture index servers on 127.0.0.1 (MIRROR.md, HTTP)."""

from __future__ import annotations

import asyncio
import email.utils
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mirror.http.auth import find_credentials, split_credentials
from mirror.http.client import (
    ACCEPT,
    ClientConfig,
    FetchEvent,
    FetchFailed,
    IndexClient,
    retry_after_seconds,
)
from mirror.metadata.spool import Spool
from tests.fixtures.index_server import (
    FixtureIndex,
    RunningIndex,
    make_project,
    serve_index,
)

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


class Sleeps:
    """The injected backoff sleep: records the delays, never waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """No credentials from the developer's own netrc or environment."""
    return {"NETRC": str(tmp_path / "no-netrc")}


@pytest.fixture
def index() -> FixtureIndex:
    index = FixtureIndex()
    make_project(index, "foo", ["1.0", "2.0"], deps={"2.0": ["bar>=1"]})
    return index


@pytest.fixture
async def server(index: FixtureIndex) -> AsyncIterator[RunningIndex]:
    async with serve_index(index) as running:
        yield running


def client(
    sleeps: Sleeps, env: dict[str, str], *, events: list[FetchEvent] | None = None, **config: object
) -> IndexClient:
    return IndexClient(
        ClientConfig(**config),  # type: ignore[arg-type]
        sleep=sleeps,
        rand=lambda: 0.5,
        environ=env,
        progress=None if events is None else events.append,
    )


# --- content negotiation and conditional requests --------------------------------------------


async def test_json_reply(
    server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    async with client(sleeps, isolated_env) as http:
        page = await http.fetch_page(server.project_url("foo"))
    assert (page.status, page.ok, page.content_type) == (200, True, JSON_TYPE)
    assert page.final_url == server.project_url("foo")
    assert [f["filename"] for f in json.loads(page.body)["files"]] == [
        "foo-1.0-py3-none-any.whl",
        "foo-2.0-py3-none-any.whl",
    ]
    assert page.etag is not None and page.error is None
    assert server.recorder.requests[0].headers["accept"] == ACCEPT


async def test_html_reply(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    index.project("foo").format = "html"
    async with client(sleeps, isolated_env) as http:
        page = await http.fetch_page(server.project_url("foo"))
    assert (page.status, page.content_type) == (200, "text/html")
    assert b'<meta name="pypi:repository-version" content="1.4">' in page.body


async def test_406_retries_once_asking_for_html(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    index.project("foo").format = "no-json"
    async with client(sleeps, isolated_env) as http:
        page = await http.fetch_page(server.project_url("foo"))
    assert (page.status, page.content_type) == (200, "application/vnd.pypi.simple.v1+html")
    first, second = server.recorder.requests
    assert first.status == 406 and "json" in first.headers["accept"]
    assert second.status == 200 and "json" not in second.headers["accept"]
    assert sleeps.delays == []  # a 406 is an answer, not a failure to back off from


async def test_login_page_is_returned_with_its_real_content_type(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    index.project("foo").format = "login"
    async with client(sleeps, isolated_env) as http:
        page = await http.fetch_page(server.project_url("foo"))
    # The parser must refuse it (MIRROR.md): the client's job is to say what it really got.
    assert (page.status, page.content_type) == (200, "text/html")
    assert b'type="password"' in page.body


async def test_304_with_etag_and_new_etag_for_same_body(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    async with client(sleeps, isolated_env) as http:
        first = await http.fetch_page(server.project_url("foo"))
        again = await http.fetch_page(server.project_url("foo"), etag=first.etag)
        index.project("foo").etag_salt = "rotated"
        changed = await http.fetch_page(server.project_url("foo"), etag=first.etag)
    assert (again.status, again.not_modified, again.body) == (304, True, b"")
    assert again.etag == first.etag
    assert server.recorder.requests[1].headers["if-none-match"] == first.etag
    assert (changed.status, changed.not_modified) == (200, False)
    assert changed.body == first.body and changed.etag != first.etag
    assert http.stats.not_modified == 1


async def test_304_with_if_modified_since(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    index.project("foo").etag = False
    index.project("foo").last_modified = "Mon, 01 Jan 2024 00:00:00 GMT"
    async with client(sleeps, isolated_env) as http:
        first = await http.fetch_page(server.project_url("foo"))
        again = await http.fetch_page(server.project_url("foo"), last_modified=first.last_modified)
    assert first.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert again.not_modified and again.last_modified == first.last_modified


async def test_gzip_page_is_decoded(
    server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    async with client(sleeps, isolated_env) as http:
        page = await http.fetch_page(server.project_url("foo"))
    (request,) = server.recorder.requests
    assert request.response_headers["content-encoding"] == "gzip"
    assert json.loads(page.body)["name"] == "foo"


async def test_non_normalised_name_follows_the_301(
    server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    async with client(sleeps, isolated_env) as http:
        page = await http.fetch_page(server.base_url + "FOO")
    assert (page.status, page.final_url) == (200, server.project_url("foo"))
    assert [r.status for r in server.recorder.requests] == [301, 200]


# --- statuses are data, retries --------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 401, 403, 410])
async def test_client_errors_are_data(
    status: int,
    index: FixtureIndex,
    server: RunningIndex,
    sleeps: Sleeps,
    isolated_env: dict[str, str],
) -> None:
    index.project("foo").status = status
    async with client(sleeps, isolated_env) as http:
        page = await http.fetch_page(server.project_url("foo"))
    assert (page.status, page.ok, page.error, page.attempts) == (status, False, None, 1)
    assert server.recorder.count() == 1 and sleeps.delays == []


async def test_missing_project_is_404_data(
    server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    async with client(sleeps, isolated_env) as http:
        page = await http.fetch_page(server.project_url("nope"))
    assert page.status == 404


async def test_429_honours_retry_after_seconds(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    project = index.project("foo")
    project.fail_next, project.fail_status, project.retry_after = 1, 429, "7"
    async with client(sleeps, isolated_env) as http:
        page = await http.fetch_page(server.project_url("foo"))
    assert (page.status, page.attempts) == (200, 2)
    assert sleeps.delays == [7.0]
    assert http.stats.retries == 1


async def test_retry_after_http_date_is_capped(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    project = index.project("foo")
    project.fail_next, project.fail_status = 1, 503
    project.retry_after = email.utils.formatdate(time.time() + 3600, usegmt=True)
    async with client(sleeps, isolated_env, retry_after_cap=3.0) as http:
        page = await http.fetch_page(server.project_url("foo"))
    assert page.status == 200
    assert sleeps.delays == [3.0]


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Thu, 01 Jan 2026 00:01:40 GMT", now=1767225600.0) == 100.0
    assert retry_after_seconds("Thu, 01 Jan 2026 00:00:00 GMT", now=1767225600.0 + 50) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


async def test_503_then_success_backs_off_with_jitter(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    index.project("foo").fail_next = 2
    events: list[FetchEvent] = []
    async with client(sleeps, isolated_env, events=events, backoff_base=0.5) as http:
        page = await http.fetch_page(server.project_url("foo"))
    assert (page.status, page.attempts, page.error) == (200, 3, None)
    # full jitter with rand() = 0.5: half of base·2^(n-1)
    assert sleeps.delays == [0.25, 0.5]
    assert [e.kind for e in events] == ["response", "retry", "response", "retry", "response"]


async def test_backoff_is_capped(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    index.project("foo").status = 502
    async with client(
        sleeps, isolated_env, max_attempts=6, backoff_base=1.0, backoff_cap=2.0
    ) as http:
        await http.fetch_page(server.project_url("foo"))
    assert sleeps.delays == [0.5, 1.0, 1.0, 1.0, 1.0]


async def test_503_forever_is_a_failed_page_after_max_attempts(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    index.project("foo").status = 503
    async with client(sleeps, isolated_env, max_attempts=3) as http:
        page = await http.fetch_page(server.project_url("foo"))
    assert (page.status, page.ok, page.attempts) == (503, False, 3)
    assert page.error is not None and "503" in page.error
    assert server.recorder.count("/simple/foo/") == 3 and len(sleeps.delays) == 2
    assert http.stats.failures == 1


async def test_connection_reset_mid_body_then_success(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    index.project("foo").cut_next = 1
    async with client(sleeps, isolated_env) as http:
        page = await http.fetch_page(server.project_url("foo"))
    assert page.status == 200 and json.loads(page.body)["name"] == "foo"
    assert server.recorder.count("/simple/foo/") == 2 and len(sleeps.delays) == 1


async def test_connection_reset_forever_raises_fetch_failed_naming_the_url(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    index.project("foo").cut_next = 100
    async with client(sleeps, isolated_env, max_attempts=2) as http:
        with pytest.raises(FetchFailed) as caught:
            await http.fetch_page(server.project_url("foo"))
    assert caught.value.url == server.project_url("foo")
    assert server.project_url("foo") in str(caught.value)
    assert caught.value.status is None and caught.value.attempts == 2


async def test_connection_refused_raises_fetch_failed(
    sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    with socket.socket() as sock:  # a port nobody listens on once this closes
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/simple/foo/"
    async with client(sleeps, isolated_env, max_attempts=3) as http:
        with pytest.raises(FetchFailed, match=f"^{url}: .*after 3 attempt"):
            await http.fetch_page(url)
    assert len(sleeps.delays) == 2


async def test_redirect_loop_fails(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    index.project("foo").redirect_to = "/simple/foo/"
    async with client(sleeps, isolated_env, max_redirects=3) as http:
        with pytest.raises(FetchFailed, match="more than 3 redirects"):
            await http.fetch_page(server.project_url("foo"))
    assert server.recorder.count() == 4


# --- limits and identity ---------------------------------------------------------------------


@pytest.mark.parametrize(("cap", "pages"), [(3, 9), (8, 20)])
async def test_concurrency_cap_per_host(
    cap: int, pages: int, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    index = FixtureIndex(hold_until_in_flight=cap)  # requests wait until `cap` run at once
    for n in range(pages):
        make_project(index, f"p{n}")
    http = (  # 8 is the default
        client(sleeps, isolated_env)
        if cap == 8
        else client(sleeps, isolated_env, concurrency_per_host=cap)
    )
    async with serve_index(index) as running, http:
        results = await asyncio.gather(
            *(http.fetch_page(running.project_url(f"p{n}")) for n in range(pages))
        )
    assert all(r.status == 200 for r in results)
    assert index.recorder.max_in_flight("/simple/") == cap


async def test_user_agent_names_sneakernet(
    server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    async with client(sleeps, isolated_env) as http:
        await http.fetch_page(server.project_url("foo"))
        await http.fetch_bytes(server.file_url("foo-1.0-py3-none-any.whl"))
    for request in server.recorder.requests:
        product, _, comment = request.user_agent.partition(" ")
        assert product.startswith("sneakernet/")
        assert comment.startswith("(+aiohttp/") and "; python/" in comment


# --- auth ------------------------------------------------------------------------------------


def _with_userinfo(url: str, userinfo: str) -> str:
    return url.replace("http://", f"http://{userinfo}@", 1)


async def test_basic_auth_from_url(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    index.auth = ("alice", "s3cr:et")
    secret_url = _with_userinfo(server.project_url("foo"), "alice:s3cr%3Aet")
    async with client(sleeps, isolated_env) as anonymous:
        denied = await anonymous.fetch_page(server.project_url("foo"))
    async with client(sleeps, isolated_env) as http:
        page = await http.fetch_page(secret_url)
        wheel = await http.fetch_bytes(server.file_url("foo-1.0-py3-none-any.whl"))
    assert denied.status == 401
    assert page.status == 200 and wheel == index.project("foo").files[0].data
    assert "s3cr" not in page.url + page.final_url and "alice" not in page.final_url


async def test_basic_auth_from_netrc(
    tmp_path: Path, index: FixtureIndex, server: RunningIndex, sleeps: Sleeps
) -> None:
    index.auth = ("bob", "from-netrc")
    netrc_file = tmp_path / "netrc"
    netrc_file.write_text("machine 127.0.0.1\n  login bob\n  password from-netrc\n")
    async with client(sleeps, {"NETRC": str(netrc_file)}) as http:
        base = http.add_index(server.base_url, name="private")
        page = await http.fetch_page(base + "foo/")
    assert base == server.base_url and page.status == 200


async def test_basic_auth_from_environment(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    index.auth = ("carol", "from-env")
    env = {
        **isolated_env,
        "SNEAKERNET_INDEX_CORP_PYPI_USERNAME": "carol",
        "SNEAKERNET_INDEX_CORP_PYPI_PASSWORD": "from-env",
    }
    async with client(sleeps, env) as http:
        base = http.add_index(server.base_url, name="corp.pypi")
        page = await http.fetch_page(base + "foo/")
    assert page.status == 200
    assert all(r.has_authorization for r in server.recorder.requests)


def test_credentials_lookup_order(tmp_path: Path) -> None:
    netrc_file = tmp_path / "netrc"
    netrc_file.write_text("machine idx.test login n password from-netrc\n")
    env = {
        "NETRC": str(netrc_file),
        "SNEAKERNET_INDEX_MAIN_USERNAME": "e",
        "SNEAKERNET_INDEX_MAIN_PASSWORD": "from-env",
    }
    url_creds = find_credentials(
        "https://u:from-url@idx.test/simple/", index_name="main", environ=env
    )
    assert url_creds[0] == "https://idx.test/simple/"
    assert url_creds[1] is not None and url_creds[1].password == "from-url"
    netrc_creds = find_credentials("https://idx.test/simple/", index_name="main", environ=env)
    assert netrc_creds[1] is not None and netrc_creds[1].source == "netrc"
    env_creds = find_credentials("https://other.test/simple/", index_name="main", environ=env)
    assert env_creds[1] is not None and env_creds[1].source == "env"
    assert "from-env" not in repr(env_creds[1])
    clean, creds = split_credentials("https://u:p%40ss@idx.test:8443/s/")
    assert clean == "https://idx.test:8443/s/"
    assert creds is not None and (creds.username, creds.password) == ("u", "p@ss")


async def test_cross_host_redirect_drops_authorization(
    sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    private, other = FixtureIndex(auth=("alice", "pw")), FixtureIndex()
    make_project(other, "foo")
    async with serve_index(other) as elsewhere, serve_index(private) as running:
        make_project(private, "foo", redirect_to=elsewhere.project_url("foo"))
        make_project(private, "moved", redirect_to="/mirror/simple/moved/")
        async with client(sleeps, isolated_env) as http:
            base = http.add_index(_with_userinfo(running.base_url, "alice:pw"))
            page = await http.fetch_page(base + "foo/")
            same_host = await http.fetch_page(base + "moved/")
    assert page.status == 200 and page.final_url == elsewhere.project_url("foo")
    assert [r.has_authorization for r in private.recorder.requests] == [True, True, True]
    assert [r.has_authorization for r in other.recorder.requests] == [False]
    # A same-origin redirect keeps it, and relative links resolve against the final URL.
    assert same_host.final_url == running.url("/mirror/simple/moved/")
    assert b"../../../files/moved-1.0-py3-none-any.whl" in same_host.body


async def test_aiohttp_redirects_also_drop_authorization_across_hosts(
    sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    """For modules that use ``client.session`` directly with aiohttp's own redirects."""
    private, other = FixtureIndex(auth=("alice", "pw")), FixtureIndex()
    make_project(other, "foo")
    async with serve_index(other) as elsewhere, serve_index(private) as running:
        make_project(private, "foo", redirect_to=elsewhere.project_url("foo"))
        async with client(sleeps, isolated_env) as http:
            base = http.add_index(_with_userinfo(running.base_url, "alice:pw"))
            headers = http.headers_for(base + "foo/")
            async with http.session.get(base + "foo/", headers=headers) as response:
                assert response.status == 200
    assert "Authorization" in headers and headers["Accept-Encoding"] == "identity"
    assert private.recorder.requests[0].has_authorization
    assert not other.recorder.requests[0].has_authorization


def test_headers_for_only_authorises_registered_origins(isolated_env: dict[str, str]) -> None:
    http = IndexClient(environ=isolated_env)
    http.add_index("https://u:p@idx.test/simple/")
    assert "Authorization" in http.headers_for("https://idx.test/packages/a.whl")
    assert "Authorization" not in http.headers_for("https://cdn.test/packages/a.whl")
    assert "Authorization" not in http.headers_for("http://idx.test/packages/a.whl")


# --- files and ranges ------------------------------------------------------------------------


async def test_fetch_bytes_uses_identity_and_checks_size(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    wheel = index.project("foo").files[0]
    async with client(sleeps, isolated_env) as http:
        data = await http.fetch_bytes(
            server.file_url(wheel.filename), expected_size=len(wheel.data)
        )
        meta = await http.fetch_bytes(server.file_url(wheel.filename) + ".metadata")
        with pytest.raises(FetchFailed, match="the index says 1"):
            await http.fetch_bytes(server.file_url(wheel.filename), expected_size=1)
        with pytest.raises(FetchFailed) as missing:
            await http.fetch_bytes(server.file_url("nope.whl"))
    assert data == wheel.data and meta == wheel.dist.metadata
    assert missing.value.status == 404
    assert server.recorder.requests[0].headers["accept-encoding"] == "identity"


async def test_fetch_bytes_detects_truncated_body(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    wheel = index.project("foo").files[0]
    wheel.cut_next = 1
    async with client(sleeps, isolated_env, max_attempts=2) as http:
        assert await http.fetch_bytes(server.file_url(wheel.filename)) == wheel.data
        wheel.cut_next = 2
        with pytest.raises(FetchFailed, match=r"Content-Length|content length|payload"):
            await http.fetch_bytes(server.file_url(wheel.filename))


async def test_fetch_bytes_into_a_sink(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    """A whole file goes into the sink as it arrives, hashed on the way, sized as published."""
    wheel = index.project("foo").files[0]
    url = server.file_url(wheel.filename)
    async with client(sleeps, isolated_env, max_attempts=2) as http:
        with Spool({"sha256": wheel.dist.sha256}) as whole:
            wheel.cut_next = 1  # the first attempt is cut short: the retry starts the sink over
            assert await http.fetch_bytes(url, expected_size=len(wheel.data), sink=whole) == b""
            assert whole.rewound().read() == wheel.data
            assert whole.hashers["sha256"].hexdigest() == wheel.dist.sha256
        size = len(wheel.data)
        with Spool() as whole, pytest.raises(FetchFailed, match=f"got {size} bytes, the index"):
            await http.fetch_bytes(url, expected_size=size + 1, sink=whole)


async def test_head_and_ranges(
    index: FixtureIndex, server: RunningIndex, sleeps: Sleeps, isolated_env: dict[str, str]
) -> None:
    wheel = index.project("foo").files[0]
    url, size = server.file_url(wheel.filename), len(wheel.data)
    async with client(sleeps, isolated_env) as http:
        head = await http.head(url)
        middle = await http.request_range(url, 10, 19)
        with Spool() as whole:
            tail = await http.request_tail(url, 16, sink=whole)
            assert whole.size == 0  # a 206 is the range, not a whole file
            index.range_mode = "ignore"
            ignored = await http.request_tail(url, 16, sink=whole)
            # Range ignored: the whole file went into the sink, not into memory.
            assert whole.rewound().read() == wheel.data
        index.range_mode = "wrong"
        wrong = await http.request_tail(url, 16, sink=Spool())
    assert (head.status, head.content_length, head.accepts_ranges, head.body) == (
        200,
        size,
        True,
        b"",
    )
    assert (middle.status, middle.content_range, middle.body) == (
        206,
        (10, 19, size),
        wheel.data[10:20],
    )
    assert (tail.content_range, tail.body) == ((size - 16, size - 1, size), wheel.data[-16:])
    assert (ignored.status, ignored.content_range, ignored.body) == (200, None, b"")
    assert wrong.status == 206 and wrong.content_range == (0, 15, size)
    assert [r.range for r in server.recorder.requests] == [
        None,
        "bytes=10-19",
        "bytes=-16",
        "bytes=-16",
        "bytes=-16",
    ]
