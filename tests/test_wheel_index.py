"""The sync-against-uv benchmark's index: real, padded wheels, no PEP 658, and a true log."""

from __future__ import annotations

import json
import urllib.request
import zipfile
from io import BytesIO

from bench.synthetic_graph import build_graph
from bench.uv_bench import installable
from bench.wheel_index import serving, wheel_index

_JSON = "application/vnd.pypi.simple.v1+json"
_CAP = 64 * 1024


def _get(url: str, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback only
        return response.status, response.read()


def test_pages_offer_sizes_and_hashes_but_no_metadata_files_and_the_log_counts_bytes() -> None:
    graph = build_graph(8)
    index = wheel_index(graph, versions=2, max_bytes=_CAP)
    wheels = [f for p in index.projects.values() for f in p.files if f.filename.endswith(".whl")]
    big = [f for f in wheels if installable(f.filename.removesuffix(".whl").split("-", 2)[2])]
    assert max(len(f.data) for f in big) > _CAP  # padded up to the cap: range reads matter
    assert all(len(f.data) < _CAP for f in wheels if f not in big)
    with zipfile.ZipFile(BytesIO(big[0].data)) as archive:  # a real wheel with its METADATA
        assert any(n.endswith(".dist-info/METADATA") for n in archive.namelist())

    name = next(iter(index.projects))
    with serving(index, latency_ms=0) as (url, log):
        status, body = _get(f"{url}{name}/", Accept=_JSON)
        page = json.loads(body)
        assert status == 200 and page["files"]
        for entry in page["files"]:
            assert entry["size"] > 0 and len(entry["hashes"]["sha256"]) == 64
            assert "core-metadata" not in entry and "dist-info-metadata" not in entry
        wheel_url = url.removesuffix("simple/") + "files/" + big[0].filename
        status, tail = _get(wheel_url, Range="bytes=-100")
        assert status == 206 and tail == big[0].data[-100:]
        request = urllib.request.Request(wheel_url, method="HEAD")
        urllib.request.urlopen(request, timeout=10).close()
        traffic = log.take()
    assert (traffic.get, traffic.ranged, traffic.head) == (1, 1, 1)
    assert traffic.bytes_sent == len(body) + 100
    assert log.take().requests == 0
