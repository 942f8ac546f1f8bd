"""A real `mirror serve` answers a 100 KB request target with 414 and a 100 KB header field (or
too many fields) with 431, logs one access line for each and no traceback, and goes on
serving. Both of aiohttp's HTTP parsers are tried: the compiled one and the pure-Python one
(``AIOHTTP_NO_EXTENSIONS``), which report an overflow differently."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from tests.conftest import Mirror
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.resolve.endtoend import start_serve, sync_snapshot

TIMEOUT = 60
BIG = 100_000


@dataclass
class Served:
    process: subprocess.Popen[str]
    host: str
    port: int

    def ask(self, request: bytes) -> tuple[int, bytes]:
        """Send REQUEST on a new connection; the status and body of the answer."""
        with socket.create_connection((self.host, self.port), timeout=TIMEOUT) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), body


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Mirror:
    index = FixtureIndex()
    make_project(index, "a", ["1.0"])
    return sync_snapshot(tmp_path_factory.mktemp("serve"), {"pypi": index})[0]


@pytest.fixture(params=["compiled", "pure-python"])
def served(request: pytest.FixtureRequest, snapshot: Mirror) -> Iterator[Served]:
    extra = {"AIOHTTP_NO_EXTENSIONS": "1"} if request.param == "pure-python" else {}
    process, base = start_serve(snapshot, str(snapshot.db), **extra)
    try:
        url = urlsplit(base)
        assert url.hostname is not None and url.port is not None
        yield Served(process, url.hostname, url.port)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=TIMEOUT)
        finally:
            process.kill()


def _request(target: bytes = b"/simple/", headers: bytes = b"") -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + headers + b"Connection: close\r\n\r\n"


def test_oversized_requests_get_414_and_431_and_one_log_line(served: Served) -> None:
    refused = {
        "target": (_request(b"/simple/" + b"a" * BIG), 414),
        "absolute target": (_request(b"http://x/simple/" + b"a" * BIG), 414),
        "header value": (_request(headers=b"X-Big: " + b"a" * BIG + b"\r\n"), 431),
        "header URL value": (_request(headers=b"Referer: http://" + b"a" * BIG + b"\r\n"), 431),
        "header name": (_request(headers=b"X-" + b"a" * BIG + b": y\r\n"), 431),
        "many headers": (_request(headers=b"".join(b"X-%d: y\r\n" % n for n in range(1000))), 431),
        "malformed header": (_request(headers=b"Not a header\r\n"), 400),
    }
    for name, (request, status) in refused.items():
        assert served.ask(request)[0] == status, name
    assert served.ask(_request())[0] == 200  # still serving

    served.process.send_signal(signal.SIGINT)
    _, stderr = served.process.communicate(timeout=TIMEOUT)
    assert served.process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "Error handling request" not in stderr
    access = [line for line in stderr.splitlines() if line.startswith("127.0.0.1 ")]
    assert [line.split('" ', 1)[1].split()[0] for line in access] == [
        *(str(status) for _, status in refused.values()),
        "200",
    ]
    others = [line for line in stderr.splitlines() if not line.startswith("127.0.0.1 ")]
    assert all(line.startswith("warning: ") for line in others), others
