"""An sdist's core metadata built by its PEP 517 backend, in an isolated environment.

MIRROR.md, "Core metadata": when an sdist's metadata is dynamic, the connected side asks the
backend — ``prepare_metadata_for_build_wheel``, else ``build_wheel`` and the wheel's METADATA
(PEP 517). The hooks are called through the ``build`` library (``ProjectBuilder``, over
``pyproject-hooks``) in a fresh venv (``build.env.DefaultIsolatedEnv``, created by the
standard library's ``venv`` without pip, so creating it needs no network). The build
requirements, already resolved and fetched into a wheelhouse by the caller, are installed into
it by ``uv pip install --offline --no-index`` with exactly those pins: the build itself never
reaches an index. A backend with ``backend-path`` and no requirements installs nothing at all.

Every subprocess (the installer and each hook) runs under one deadline for the whole build, in
its own process group (killed whole on timeout), and keeps only the tail of its output for the
report. Blocking: the sync calls :func:`build_metadata` in a worker thread.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from mirror.metadata.sdist import MetadataError, metadata_from_wheel_file

__all__ = [
    "DEFAULT_TIMEOUT",
    "BuildFailed",
    "BuildSettings",
    "BuildSystem",
    "build_metadata",
    "build_system",
]

#: The backend PEP 517 says to assume for a source tree without ``[build-system]``.
_LEGACY_BACKEND = "setuptools.build_meta:__legacy__"
_OUTPUT_TAIL = 4096
"""Bytes of a failed subprocess's output kept for the report (the end says what failed)."""


DEFAULT_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class BuildSettings:
    timeout: float = DEFAULT_TIMEOUT
    """Seconds for one file's whole build: installing its requirements and every hook."""
    metadata_bytes: int = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BuildSystem:
    """What a source tree's ``[build-system]`` asks for (PEP 517/518 defaults applied)."""

    backend: str
    requires: tuple[str, ...]


class BuildFailed(Exception):
    """A build that did not give metadata: the reason, with the end of its output."""


def build_system(source: Path) -> BuildSystem:
    """The build system ``source``'s pyproject.toml declares, as ``build`` reads it."""
    # Imported here for start-up time: `build` loads only when a sync has something to build.
    from build import BuildException, ProjectBuilder

    try:
        builder = ProjectBuilder(source)
        table = tomllib.loads((source / "pyproject.toml").read_text("utf-8"))
    except FileNotFoundError:  # no pyproject.toml: PEP 517's legacy setuptools backend
        table = {}
    except (BuildException, OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BuildFailed(f"unreadable build system: {exc}") from None
    system = table.get("build-system", {})
    return BuildSystem(
        backend=str(system.get("build-backend") or _LEGACY_BACKEND),
        requires=tuple(sorted(builder.build_system_requires)),
    )


def build_metadata(
    source: Path,
    project: str,
    pins: Sequence[str],
    wheelhouse: Path | None,
    settings: BuildSettings,
) -> bytes:
    """The METADATA bytes ``source``'s backend builds, with ``pins`` (``name==version``,
    their files in ``wheelhouse``) installed first; BuildFailed when it cannot."""
    # Imported here for start-up time, as in build_system.
    from build import BuildBackendException, BuildException, ProjectBuilder
    from build.env import DefaultIsolatedEnv
    from pyproject_hooks import BuildBackendWarning

    # pyproject-hooks re-emits every warning a hook raised as a BuildBackendWarning in this
    # process: a sync building hundreds of sdists would print their backends' deprecation
    # notices. A failed build reports its output's tail instead.
    warnings.filterwarnings("ignore", category=BuildBackendWarning)

    deadline = time.monotonic() + settings.timeout
    run = _Runner(deadline, settings.timeout)
    out = source.parent / "_metadata_out"
    try:
        with DefaultIsolatedEnv(installer="uv") as env:
            if pins:
                assert wheelhouse is not None
                run(_install_command(env.python_executable, pins, wheelhouse), None, None)
            builder = ProjectBuilder.from_isolated_env(env, source, runner=run)
            prepared = builder.prepare("wheel", out)
            if prepared is not None:
                return _read_capped(Path(prepared) / "METADATA", settings.metadata_bytes)
            wheel = builder.build("wheel", out)
            with open(wheel, "rb") as file:
                return metadata_from_wheel_file(file, project)
    except BuildBackendException as exc:
        cause = exc.exception
        raise BuildFailed(str(cause) if isinstance(cause, BuildFailed) else str(exc)) from None
    except (BuildException, MetadataError, OSError, RuntimeError) as exc:
        # RuntimeError: build's environment found no uv to install with.
        raise BuildFailed(str(exc)) from None


def _install_command(python: str, pins: Sequence[str], wheelhouse: Path) -> list[str]:
    """Exactly ``pins`` (the resolution already chose every one), from ``wheelhouse`` only:
    ``--offline`` and ``--no-index`` keep uv off the network, ``--no-config`` off a user's
    index settings."""
    uv = _uv()
    return [uv, "pip", "install", "--offline", "--no-index", "--no-config", "--no-deps",
            "--find-links", str(wheelhouse), "--python", python, *pins]  # fmt: skip


def _uv() -> str:
    try:
        import uv  # the uv package on PyPI ships its binary; imported only to find it

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which(os.environ.get("UV") or "uv")
        if found is None:
            raise BuildFailed("no uv to install build requirements with (pip install uv)") from None
        return found


def _read_capped(path: Path, cap: int) -> bytes:
    with path.open("rb") as file:
        data = file.read(cap + 1)
    if len(data) > cap:
        raise BuildFailed(f"the backend's METADATA is larger than {cap} bytes (metadata-bytes)")
    return data


# The build subprocesses alive now, so an interrupted sync can end them: the threads that wait
# on them are not cancellable, and the interpreter waits for those threads before it exits.
_running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.Lock()


def stop_running_builds() -> None:
    """Kill every build subprocess still running (the sync was interrupted)."""
    with _running_lock:
        for process in _running:
            _kill_group(process)


class _Runner:
    """pyproject-hooks' subprocess runner: the command in its own session under the build's
    deadline, stdin closed, stdout and stderr drained into a bounded tail."""

    def __init__(self, deadline: float, timeout: float) -> None:
        self.deadline = deadline
        self.timeout = timeout

    def __call__(
        self,
        cmd: Sequence[str],
        cwd: str | None = None,
        extra_environ: Mapping[str, str] | None = None,
    ) -> None:
        # A backend that reaches for an index anyway fails fast instead of hanging offline.
        env = {**os.environ, "PIP_NO_INDEX": "1", "UV_OFFLINE": "1", **(extra_environ or {})}
        process = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert process.stdout is not None
        tail = bytearray()
        reader = threading.Thread(target=_drain, args=(process.stdout, tail), daemon=True)
        reader.start()
        with _running_lock:
            _running.add(process)
        try:
            code = process.wait(timeout=max(0.0, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.wait()
            raise BuildFailed(f"timed out after {self.timeout:g}s") from None
        finally:
            with _running_lock:
                _running.discard(process)
            reader.join()
        if code != 0:
            # The last line says what failed (a traceback's exception, a tool's error line).
            lines = bytes(tail).decode("utf-8", "replace").strip().splitlines()
            raise BuildFailed(f"{_what(cmd)} exited with {code}: {lines[-1] if lines else ''}")


def _what(cmd: Sequence[str]) -> str:
    """The hook pyproject-hooks runs (``python _in_process.py HOOK DIR``), or the program."""
    if len(cmd) > 2 and Path(cmd[1]).name.startswith("_in_process"):
        return f"the backend's {cmd[2]}"
    return Path(cmd[0]).name


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """The process and the backend's own children (its session's group; POSIX)."""
    if hasattr(os, "killpg"):
        os.killpg(process.pid, signal.SIGKILL)
    else:
        process.kill()


def _drain(stream: IO[bytes], tail: bytearray) -> None:
    with stream:
        while chunk := stream.read(65536):
            tail += chunk
            del tail[:-_OUTPUT_TAIL]
