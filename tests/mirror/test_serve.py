"""`mirror serve` in-process: pages, negotiation, the merged view, metadata and files.

One snapshot (tests/scenarios/serve/two_indexes.toml: `extra` first, `main` the default, no
pins, first-index) is synced from loopback fixture indexes once per module; every test serves
it with aiohttp's test client.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import socket
import sqlite3
import tomllib
import zipfile
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from mirror.index_api.project_page import ACCEPT, parse_project_page
from mirror.serve.app import build_app, open_view
from mirror.serve.pages import HTML_TYPES, JSON_TYPE, negotiate
from tests.conftest import Mirror, clean_environment
from tests.fixtures.dists import build_wheel
from tests.scenarios.harness import Scenario, prepare

SCENARIO = Path(__file__).parents[1] / "scenarios" / "serve" / "two_indexes.toml"
TARGET = ("3.12", "x86_64-manylinux_2_28")
V1_HTML, LEGACY_HTML = HTML_TYPES

Client = TestClient[web.Request, web.Application]


def _alpha(version: str = "1.0") -> bytes:
    return build_wheel("alpha", version, requires_dist=["beta>=1"]).data


@pytest.fixture(scope="module")
def snapshot_mirror(tmp_path_factory: pytest.TempPathFactory) -> Mirror:
    tmp = tmp_path_factory.mktemp("serve")
    mirror = Mirror(tmp / "mirror.db", dict(clean_environment(tmp)))
    prepare(Scenario(SCENARIO, tomllib.loads(SCENARIO.read_text())), mirror)
    return mirror


@pytest.fixture
def wheelhouse(tmp_path: Path) -> Path:
    """A wheelhouse with alpha 1.0, next to a file outside it that must never be served."""
    house = tmp_path / "wheelhouse"
    house.mkdir()
    (house / "alpha-1.0-py3-none-any.whl").write_bytes(_alpha())
    (tmp_path / "secret-1.0-py3-none-any.whl").write_bytes(b"outside the wheelhouse")
    (house / "link-1.0-py3-none-any.whl").symlink_to(tmp_path / "secret-1.0-py3-none-any.whl")
    (house / "sub-1.0.tar.gz").mkdir()
    return house


async def _client(
    aiohttp_client: AiohttpClient, mirror: Mirror, files: Path | None = None
) -> Client:
    view = open_view(str(mirror.db), "latest", *TARGET)
    client: Client = await aiohttp_client(build_app(view, files))
    return client


@pytest.fixture
async def client(
    aiohttp_client: AiohttpClient, snapshot_mirror: Mirror, wheelhouse: Path
) -> Client:
    return await _client(aiohttp_client, snapshot_mirror, wheelhouse)


async def _json(client: Client, path: str) -> dict[str, object]:
    response = await client.get(path, headers={"Accept": JSON_TYPE})
    assert response.status == 200, await response.text()
    assert response.content_type == JSON_TYPE
    document: dict[str, object] = await response.json(content_type=None)
    return document


def _files(document: dict[str, object]) -> dict[str, dict[str, object]]:
    files = document["files"]
    assert isinstance(files, list)
    return {f["filename"]: f for f in files}


# --- negotiation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, LEGACY_HTML),  # PEP 691: no Accept means text/html
        ("", LEGACY_HTML),
        (ACCEPT, JSON_TYPE),  # what pip, uv and `mirror sync` send
        (JSON_TYPE, JSON_TYPE),
        (V1_HTML, V1_HTML),
        ("text/html", LEGACY_HTML),
        ("application/vnd.pypi.simple.latest+json", JSON_TYPE),
        ("application/vnd.pypi.simple.latest+html", V1_HTML),
        (f"{JSON_TYPE};q=0.1, text/html", LEGACY_HTML),
        (f"{JSON_TYPE};q=0.5, {V1_HTML};q=0.9", V1_HTML),
        ("*/*", LEGACY_HTML),
        ("text/*", LEGACY_HTML),
        (f"*/*;q=0.1, {JSON_TYPE}", JSON_TYPE),
        (f"application/*, {JSON_TYPE};q=0", V1_HTML),
        ("application/json", None),
        (f"{JSON_TYPE};q=0", None),
        ("image/png, text/plain", None),
        (f"*/*;q=0, {JSON_TYPE};q=oops", None),
    ],
)
def test_negotiate(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


async def test_pages_are_negotiated_and_vary_on_accept(client: Client) -> None:
    for accept, expected in [(None, LEGACY_HTML), (ACCEPT, JSON_TYPE), (V1_HTML, V1_HTML)]:
        headers = {} if accept is None else {"Accept": accept}
        for path in ("/simple/", "/simple/alpha/"):
            response = await client.get(path, headers=headers)
            assert response.status == 200
            assert response.content_type == expected
            assert response.headers["Vary"] == "Accept"
    response = await client.get("/simple/alpha/", headers={"Accept": "application/json"})
    assert response.status == 406
    assert JSON_TYPE in await response.text()
    response = await client.get("/simple/", headers={"Accept": f"{JSON_TYPE};q=0"})
    assert response.status == 406


# --- pages -----------------------------------------------------------------------------------


async def test_root_lists_every_project_of_the_snapshot(client: Client) -> None:
    names = ["alpha", "beta", "broken", "gamma-pkg", "ghost", "secret", "shared"]
    document = await _json(client, "/simple/")
    assert document["meta"] == {"api-version": "1.1"}
    assert document["projects"] == [{"name": n} for n in names]
    response = await client.get("/simple/")
    page = await response.text()
    assert [line.split('"')[1] for line in page.splitlines() if "<a " in line] == [
        f"{n}/" for n in names
    ]


async def test_first_index_shows_only_the_first_index_files(client: Client) -> None:
    document = await _json(client, "/simple/shared/")
    assert document["versions"] == ["2.0"]  # main's 1.0 and 3.0 are not visible
    (entry,) = _files(document).values()
    assert entry["filename"] == "shared-2.0-py3-none-any.whl"
    assert entry["url"] == "/files/shared-2.0-py3-none-any.whl"
    extra, main = build_wheel("shared", "2.0"), build_wheel("shared", "2.0", padding=64)
    assert entry["hashes"] == {"sha256": extra.sha256} != {"sha256": main.sha256}
    assert entry["size"] == len(extra.data)


async def test_json_file_fields(client: Client) -> None:
    files = _files(await _json(client, "/simple/alpha/"))
    assert [files[n]["yanked"] for n in sorted(files)] == [False, "broken build", True]
    entry = files["alpha-1.0-py3-none-any.whl"]
    assert entry["hashes"] == {"sha256": hashlib.sha256(_alpha()).hexdigest()}
    assert entry["upload-time"] == "2024-01-01T00:00:00.000000Z"
    assert entry["requires-python"] is None
    metadata = build_wheel("alpha", "1.0", requires_dist=["beta>=1"]).metadata_sha256
    assert entry["core-metadata"] == entry["dist-info-metadata"] == {"sha256": metadata}
    beta = _files(await _json(client, "/simple/beta/"))["beta-1.0-py3-none-any.whl"]
    assert beta["requires-python"] == ">=3.8,<4"


async def test_html_says_what_json_says(client: Client) -> None:
    for project in ("alpha", "beta", "gamma-pkg", "shared"):
        pages = {}
        for kind in (JSON_TYPE, LEGACY_HTML):
            response = await client.get(f"/simple/{project}/", headers={"Accept": kind})
            base = str(response.url)
            pages[kind] = parse_project_page(await response.read(), kind, base, project)
        from_json, from_html = pages[JSON_TYPE], pages[LEGACY_HTML]
        assert not from_json.warnings and not from_html.warnings
        assert from_html.api_version == from_json.api_version == "1.1"
        # Everything but size, which PEP 503 HTML cannot carry.
        assert list(from_html.files) == [dataclasses.replace(f, size=None) for f in from_json.files]


async def test_html_escapes_and_fragments(client: Client) -> None:
    page = await (await client.get("/simple/beta/")).text()
    assert 'data-requires-python="&gt;=3.8,&lt;4"' in page
    wheel = build_wheel("beta", "1.0", requires_python=">=3.8,<4")
    assert f'href="/files/beta-1.0-py3-none-any.whl#sha256={wheel.sha256}"' in page
    assert f'data-core-metadata="sha256={wheel.metadata_sha256}"' in page
    assert f'data-dist-info-metadata="sha256={wheel.metadata_sha256}"' in page
    page = await (await client.get("/simple/alpha/")).text()
    assert 'data-yanked="broken build"' in page
    assert 'data-yanked=""' in page  # 1.2: yanked without a reason (PEP 592)


async def test_non_normalized_names_redirect(client: Client) -> None:
    for path, target in [
        ("/simple/Gamma.Pkg/", "/simple/gamma-pkg/"),
        ("/simple/GAMMA_pkg", "/simple/gamma-pkg/"),
        ("/simple/gamma-pkg", "/simple/gamma-pkg/"),
        ("/simple", "/simple/"),
        ("/simple/Alpha/alpha-1.0-py3-none-any.whl.metadata", None),
    ]:
        response = await client.get(path, allow_redirects=False)
        assert response.status == 301, path
        location = response.headers["Location"]
        assert location == (target or "/simple/alpha/alpha-1.0-py3-none-any.whl.metadata")
    response = await client.get("/simple/Gamma.Pkg/", headers={"Accept": JSON_TYPE})
    assert response.status == 200
    assert (await response.json(content_type=None))["name"] == "gamma-pkg"


@pytest.mark.parametrize(
    ("project", "expected"),
    [
        ("broken", ["index extra failed for broken at sync time", "`mirror sync broken`"]),
        ("secret", ["index extra refused secret at sync time (HTTP 401)", "credentials"]),
        ("ghost", ["no index has ghost", "extra: HTTP 404", "main: HTTP 404"]),
        ("nowhere", ["nowhere is not in snapshot", "`mirror sync nowhere`"]),
    ],
)
async def test_problem_projects_answer_404_saying_why(
    client: Client, project: str, expected: list[str]
) -> None:
    response = await client.get(f"/simple/{project}/", headers={"Accept": ACCEPT})
    assert response.status == 404
    assert response.content_type == "text/plain"
    body = await response.text()
    for text in expected:
        assert text in body


# --- core metadata ---------------------------------------------------------------------------


async def test_metadata_is_the_wheel_metadata_with_the_advertised_hash(client: Client) -> None:
    name = "alpha-1.0-py3-none-any.whl"
    with zipfile.ZipFile(io.BytesIO(_alpha())) as wheel:
        expected = wheel.read("alpha-1.0.dist-info/METADATA")
    advertised = _files(await _json(client, "/simple/alpha/"))[name]["core-metadata"]
    for path in (f"/files/{name}.metadata", f"/simple/alpha/{name}.metadata"):
        response = await client.get(path)
        assert response.status == 200
        body = await response.read()
        assert body == expected
        assert advertised == {"sha256": hashlib.sha256(body).hexdigest()}


async def test_metadata_only_for_files_the_view_lists(client: Client) -> None:
    # shared 1.0 is on `main`, which first-index does not consult for shared.
    for path in (
        "/files/shared-1.0-py3-none-any.whl.metadata",
        "/simple/shared/shared-1.0-py3-none-any.whl.metadata",
        "/files/nothing-1.0-py3-none-any.whl.metadata",
        "/files/not-a-dist.txt.metadata",
    ):
        response = await client.get(path)
        assert response.status == 404, path
        assert response.content_type == "text/plain"
    response = await client.get("/simple/alpha/alpha-1.0-py3-none-any.whl")
    assert response.status == 404
    assert "/files/" in await response.text()


# --- files -----------------------------------------------------------------------------------


async def test_files_come_from_the_wheelhouse(client: Client) -> None:
    data = _alpha()
    response = await client.get("/files/alpha-1.0-py3-none-any.whl")
    assert response.status == 200
    assert response.content_type == "application/octet-stream"
    assert response.headers["Content-Length"] == str(len(data))
    assert "Content-Encoding" not in response.headers
    assert await response.read() == data
    response = await client.head("/files/alpha-1.0-py3-none-any.whl")
    assert response.status == 200
    assert response.headers["Content-Length"] == str(len(data))
    assert await response.read() == b""
    response = await client.get("/files/alpha-1.0-py3-none-any.whl", headers={"Range": "bytes=-22"})
    assert response.status == 206
    assert (
        response.headers["Content-Range"] == f"bytes {len(data) - 22}-{len(data) - 1}/{len(data)}"
    )
    assert await response.read() == data[-22:]
    response = await client.get(
        "/files/alpha-1.0-py3-none-any.whl", headers={"Range": f"bytes={len(data)}-"}
    )
    assert response.status == 416


async def test_absent_files_say_how_to_fill_the_wheelhouse(
    client: Client, aiohttp_client: AiohttpClient, snapshot_mirror: Mirror
) -> None:
    response = await client.get("/files/shared-2.0-py3-none-any.whl")
    assert response.status == 404
    assert "not in the wheelhouse" in (body := await response.text())
    assert "mirror download LOCK -d DIR" in body
    bare = await _client(aiohttp_client, snapshot_mirror, files=None)
    response = await bare.get("/files/alpha-1.0-py3-none-any.whl")
    assert response.status == 404
    assert "no --files DIR" in (body := await response.text())
    assert "mirror download LOCK -d DIR" in body


@pytest.mark.parametrize(
    "path",
    [
        "/files/..%2Fsecret-1.0-py3-none-any.whl",
        "/files/%2E%2E%2Fsecret-1.0-py3-none-any.whl",
        "/files/..%5Csecret-1.0-py3-none-any.whl",
        "/files/%2Fetc%2Fpasswd",
        "/files/..",
        "/files/.alpha-1.0-py3-none-any.whl",
        "/files/link-1.0-py3-none-any.whl",  # a symlink out of the wheelhouse
        "/files/sub-1.0.tar.gz",  # a directory
        "/files/../secret-1.0-py3-none-any.whl",
        "/files/wheelhouse/../secret-1.0-py3-none-any.whl",
    ],
)
async def test_nothing_outside_the_wheelhouse_is_served(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status == 404
    body = await response.read()
    assert b"outside the wheelhouse" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize(
    "path", ["/simple/", "/simple/alpha/", "/files/alpha-1.0-py3-none-any.whl", "/elsewhere"]
)
async def test_read_only(client: Client, method: str, path: str) -> None:
    response = await client.request(method, path, data=b"x")
    assert response.status == 405
    assert response.headers["Allow"] == "GET, HEAD"
    assert "read-only" in await response.text()


async def test_unknown_paths_are_404(client: Client) -> None:
    response = await client.get("/elsewhere")
    assert response.status == 404
    assert "/simple/" in await response.text()


# --- the command -----------------------------------------------------------------------------


def test_help_has_an_example(snapshot_mirror: Mirror) -> None:
    result = snapshot_mirror.run("serve", "--help")
    assert "Example:" in result.stdout
    assert "mirror serve --files wheelhouse" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["--python-platform", "vax-vms"], 2, "error: unknown Python platform 'vax-vms'"),
        (["--snapshot", "no-such"], 2, "error: no snapshot named 'no-such'"),
        (["--files", "no/such/dir"], 2, "no/such/dir"),
    ],
)
def test_command_errors(snapshot_mirror: Mirror, args: list[str], code: int, expected: str) -> None:
    result = snapshot_mirror.run("serve", "--port", "0", *args, code=code)
    assert expected in result.stderr
    assert "hint:" in result.stderr


def test_a_taken_port_is_an_error(snapshot_mirror: Mirror) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = snapshot_mirror.run("serve", "--port", str(port), code=3)
    assert f"error: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "hint:" in result.stderr


async def test_never_publishes_a_name_that_is_not_a_plain_file_of_the_project(
    aiohttp_client: AiohttpClient, snapshot_mirror: Mirror, tmp_path: Path
) -> None:
    """The sync refuses such names; a database from elsewhere may still hold them."""
    db = tmp_path / "edited.db"
    source, copy = sqlite3.connect(snapshot_mirror.db), sqlite3.connect(db)
    source.backup(copy)  # the WAL too, which a file copy would miss
    source.close()
    copy.close()
    edited = Mirror(db, snapshot_mirror.env)
    before = _files(await _json(await _client(aiohttp_client, edited), "/simple/alpha/"))
    first, *_ = sorted(before)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE file SET filename = ? WHERE filename = ?",
            ("..\\..\\alpha-1.0-py3-none-any.whl", first),
        )
    conn.close()
    after = _files(await _json(await _client(aiohttp_client, edited), "/simple/alpha/"))
    assert sorted(after) == sorted(before)[1:]
