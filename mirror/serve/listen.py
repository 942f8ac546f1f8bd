"""Where `mirror serve` listens: one socket, answered by this process or by N workers.

With `--workers N` the parent binds the socket once (so `--port 0` gives one port, printed
once), then forks the workers; each opens its own read-only view of the snapshot (a database
connection never crosses a fork) and accepts on the shared socket, the kernel spreading
connections between them. The parent only supervises: a worker that dies is replaced, and
SIGINT or SIGTERM stops them all before the parent exits. The snapshot is fixed by name before
the first fork, so a sync completing meanwhile never gives two workers two snapshots.

POSIX only (fork, sigwaitinfo); one worker runs in-process as before, everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from db.errors import SneakernetError
from mirror import event_loop
from mirror.serve.protocol import ServeRunner

__all__ = ["ServeError", "WorkerPool", "bind", "serve_forever"]

_STOP = (signal.SIGINT, signal.SIGTERM)
_WATCHED = {*_STOP, signal.SIGCHLD}
#: A worker that exits with an error sooner than this after its start failed to start (its
#: snapshot or port is gone): restarting it would only spin. One killed by a signal (the OOM
#: killer, an operator) is replaced whenever it dies.
_STARTUP = 2.0
#: Seconds a worker gets to finish its requests after SIGTERM before it is killed.
_GRACE = 10.0


class ServeError(SneakernetError):
    """The server cannot start (the address is taken, the host unknown, a worker fails)."""

    exit_code = 3


def bind(host: str, port: int) -> socket.socket:
    """The listening socket every worker shares (``port`` 0: a free one)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, _, _, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(1024)
        except BaseException:
            sock.close()
            raise
    except OSError as exc:
        raise ServeError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="choose another --port (0 picks a free one), or stop what uses it",
        ) from exc
    sock.setblocking(False)
    return sock


async def serve_forever(app: web.Application, sock: socket.socket) -> None:
    """Answer on ``sock`` with ``app`` until SIGINT or SIGTERM."""
    runner = ServeRunner(app)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in _STOP:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def _worker(sock: socket.socket, make_app: Callable[[], web.Application]) -> int:
    """A forked worker's whole life; its exit status."""
    for signum in _WATCHED:
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    try:
        event_loop.run(serve_forever(make_app(), sock))
    except SneakernetError as exc:
        hint = f"\n\nhint: {exc.hint}" if exc.hint else ""
        print(f"error: worker {os.getpid()}: {exc.message}{hint}", file=sys.stderr)
        return exc.exit_code
    return 0


@dataclass
class WorkerPool:
    """The parent's side: which worker runs as which pid, started when."""

    sock: socket.socket
    make_app: Callable[[], web.Application]
    size: int
    started: dict[int, float] = field(default_factory=dict)

    def _spawn(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker: never return into the parent's stack
            code = 1
            try:
                code = _worker(self.sock, self.make_app)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.started[pid] = time.monotonic()

    def _reap(self) -> list[tuple[int, int]]:
        """Workers that ended since the last look: (pid, exit status)."""
        ended = []
        while self.started:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in self.started:
                ended.append((pid, os.waitstatus_to_exitcode(status)))
        return ended

    def run(self) -> None:
        """Start the workers and supervise them until SIGINT or SIGTERM. Raises ServeError
        when a worker fails as it starts (its own error is already on stderr)."""
        signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
        try:
            for _ in range(self.size):
                self._spawn()
            while True:
                signo = signal.sigwaitinfo(_WATCHED).si_signo
                if signo != signal.SIGCHLD:
                    self._stop()
                    return
                for pid, code in self._reap():
                    lived = time.monotonic() - self.started.pop(pid)
                    if lived < _STARTUP and code > 0:
                        self._stop()
                        raise ServeError(
                            f"worker {pid} ended as it started (exit {code})",
                            hint="see its error above; `--workers 1` serves in this process",
                        )
                    warning = f"warning: worker {pid} ended ({code}); starting another"
                    print(warning, file=sys.stderr)
                    self._spawn()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _WATCHED)

    def _stop(self) -> None:
        """SIGTERM every worker; one still running after ``_GRACE`` seconds (a request that
        never ends) is killed, so stopping never waits without a bound."""
        self._signal(signal.SIGTERM)
        deadline = time.monotonic() + _GRACE
        while self.started and time.monotonic() < deadline:
            for pid, _code in self._reap():
                self.started.pop(pid, None)
            time.sleep(0.05)
        self._signal(signal.SIGKILL)
        for pid in list(self.started):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.started.clear()

    def _signal(self, signum: int) -> None:
        for pid in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
