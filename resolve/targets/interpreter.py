"""``--python PATH``: the target environment of an installed interpreter, as it reports it.

As ``uv pip compile --python`` does, the interpreter is run once (``PATH -c SCRIPT``) and tells
its PEP 508 marker values and what its wheel tags depend on (platform, glibc or musl, macOS
version, ABI flags); the tags are then built here with ``packaging.tags`` (PEP 425), the set
``packaging.tags.sys_tags()`` gives inside it, in the order ``--python-platform`` uses. The
child runs the standard library only (it has no ``packaging``), within a timeout and a
bound on what it prints: the path is the user's, and what answers need not be a Python.

Its platform is named in a ``--python-platform`` spelling (``x86_64-manylinux_2_36``,
``aarch64-apple-darwin`` …), so that the lock's ``target:`` reads back for ``mirror download``
and means the same as the flags would.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from db.errors import SneakernetError
from resolve.targets.environment import (
    TargetEnvironment,
    TargetPlatform,
    UnknownPlatform,
    parse_platform,
    parse_python_version,
)

__all__ = ["Interpreter", "InterpreterError", "interpreter_target", "probe"]

#: Seconds the interpreter has to answer (a cold start on a slow disk takes a few).
TIMEOUT = 20.0
#: Bytes of its output read at most: the report is well under 2 KiB.
OUTPUT_LIMIT = 64 * 1024
MINIMUM = (3, 8)

# Written for any Python (no f-strings), so that an old one still reports its version and is
# refused by it rather than by a syntax error. '' (the working directory) leaves sys.path
# first, so that a `platform.py` lying there is not what answers.
_SCRIPT = """\
import sys
sys.path = [p for p in sys.path if p]
import json, os, platform, sysconfig
impl = getattr(sys, "implementation", None)
iv = impl.version if impl is not None else sys.version_info
iver = "%d.%d.%d" % tuple(iv[:3])
if iv[3] != "final":
    iver += iv[3][0] + str(iv[4])
try:
    glibc = os.confstr("CS_GNU_LIBC_VERSION")
except (AttributeError, ValueError, OSError):
    glibc = None
var = sysconfig.get_config_var
debug = var("Py_DEBUG")
if debug is None:
    import importlib.machinery
    debug = hasattr(sys, "gettotalrefcount") or "_d.pyd" in importlib.machinery.EXTENSION_SUFFIXES
sys.stdout.write(json.dumps({
    "sneakernet-probe": 1,
    "version": list(sys.version_info[:3]),
    "markers": {
        "implementation_name": impl.name if impl is not None else "cpython",
        "implementation_version": iver,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    },
    "sysconfig_platform": sysconfig.get_platform(),
    "is_64bit": sys.maxsize > 2 ** 32,
    "glibc": glibc,
    "mac_version": platform.mac_ver()[0],
    "debug": bool(debug),
    "gil_disabled": bool(var("Py_GIL_DISABLED")),
}))
"""

# sysconfig.get_platform()'s machine part (after the 32-bit correction packaging makes in
# `_linux_platforms`) → the architecture of a `--python-platform` spelling.
_ARCHES = {"amd64": "x86_64", "win32": "i686", "arm64": "aarch64", "x86": "i686"}


class InterpreterError(SneakernetError):
    """``--python`` names no usable interpreter (exit 2, a usage error)."""


@dataclass(frozen=True, slots=True)
class Interpreter:
    """What one interpreter reported: its version, ABI flags (PEP 3149: ``t`` free-threaded,
    ``d`` debug) and platform, markers included."""

    version: tuple[int, int, int]
    full_version: str
    abi_flags: str
    platform: TargetPlatform


def interpreter_target(
    spec: str, python_version: str | None = None, python_platform: str | None = None
) -> TargetEnvironment:
    """``--python SPEC``; ``--python-version`` / ``--python-platform`` given with it replace
    the interpreter's version or platform (markers and tags alike)."""
    interpreter = probe(spec)
    version = interpreter.version
    full: str | None = interpreter.full_version
    if python_version is not None:
        version, full = parse_python_version(python_version), None
    platform = interpreter.platform
    if python_platform is not None:
        platform = parse_platform(python_platform)
    return TargetEnvironment(version, platform, full_version=full, abi_flags=interpreter.abi_flags)


def probe(spec: str, *, timeout: float = TIMEOUT) -> Interpreter:
    """Run the interpreter ``spec`` names (a path, or a name on PATH like ``python3.12``)
    and read its report; every failure is an :class:`InterpreterError` naming ``spec``."""
    executable = _find(spec)
    code, out, err, timed_out = _run([executable, "-E", "-s", "-S", "-c", _SCRIPT], timeout)
    if timed_out:
        raise InterpreterError(
            f"--python {spec}: no answer within {timeout:g} s",
            hint="give the path of a Python interpreter that starts on this machine",
        )
    if len(out) > OUTPUT_LIMIT:
        raise InterpreterError(
            f"--python {spec}: printed more than {OUTPUT_LIMIT // 1024} KiB; it is not a Python "
            "interpreter",
            hint=_NOT_A_PYTHON,
        )
    if code != 0:
        lines = [line.strip() for line in err.decode("utf-8", "replace").splitlines()]
        lines = [line for line in lines if line] or ["no message"]
        # A traceback says what went wrong last; anything else (a shell, a shim) first.
        said = lines[-1] if lines[0].startswith("Traceback") else lines[0]
        raise InterpreterError(
            f"--python {spec}: exited with status {code} ({said[:200]})",
            hint=_NOT_A_PYTHON,
        )
    report = _report(out)
    if report is None:
        raise InterpreterError(f"--python {spec}: is not a Python interpreter", hint=_NOT_A_PYTHON)
    try:
        return _interpreter(spec, report)
    except (KeyError, TypeError, ValueError) as exc:
        raise InterpreterError(
            f"--python {spec}: its report is not understood ({exc})", hint=_NOT_A_PYTHON
        ) from exc


_NOT_A_PYTHON = (
    "give the path of a CPython 3.8+ interpreter (or a name on PATH, like python3.12), "
    "or describe the target with --python-version and --python-platform"
)


def _find(spec: str) -> str:
    """A path is taken as it is; a bare name is looked up on PATH, as a shell would."""
    if os.sep in spec or (os.altsep and os.altsep in spec):
        path = Path(spec)
        if not path.exists():
            raise InterpreterError(f"--python {spec}: no such file", hint=_NOT_A_PYTHON)
        if not path.is_file() or not os.access(path, os.X_OK):
            raise InterpreterError(f"--python {spec}: not an executable file", hint=_NOT_A_PYTHON)
        return str(path)
    found = shutil.which(spec)
    if found is None:
        raise InterpreterError(f"--python {spec}: no such command on PATH", hint=_NOT_A_PYTHON)
    return found


def _run(argv: list[str], timeout: float) -> tuple[int, bytes, bytes, bool]:
    """``argv``'s exit status, stdout and stderr (each cut one byte past :data:`OUTPUT_LIMIT`),
    and whether it was killed for its time. It runs in a process group of its own, so that
    what it started dies with it and cannot hold the pipes open."""
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=os.name == "posix",
        )
    except OSError as exc:
        raise InterpreterError(
            f"--python {argv[0]}: cannot run it ({exc.strerror or exc})", hint=_NOT_A_PYTHON
        ) from exc
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _kill(process)

    def drain(fd: int) -> bytes:
        data = _bounded(fd)
        if len(data) > OUTPUT_LIMIT:
            _kill(process)  # it says more than any report: stop it rather than wait
        return data

    timer = threading.Timer(timeout, expire)
    errors: list[bytes] = []
    assert process.stdout is not None and process.stderr is not None
    stdout, stderr = process.stdout.fileno(), process.stderr.fileno()
    reader = threading.Thread(target=lambda: errors.append(drain(stderr)))
    with process:
        timer.start()
        reader.start()
        try:
            out = drain(stdout)
            # The pipes close when every process holding them has ended (or been killed):
            # only then is the interpreter reaped.
            reader.join()
            code = process.wait()
        except BaseException:
            _kill(process)
            raise
        finally:
            timer.cancel()
    return code, out, b"".join(errors), expired.is_set()


def _bounded(fd: int) -> bytes:
    """What the pipe ``fd`` gives until it closes, up to one byte past the limit (the rest is
    left unread)."""
    chunks: list[bytes] = []
    size = 0
    while size <= OUTPUT_LIMIT and (chunk := os.read(fd, OUTPUT_LIMIT + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """The interpreter and (POSIX) its process group. Only while it is not yet reaped: until
    then its id, which is the group's, cannot name another process."""
    if process.returncode is not None:
        return
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass  # already gone (and its group with it)


def _report(out: bytes) -> dict[str, object] | None:
    try:
        report = json.loads(out.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(report, dict) or report.get("sneakernet-probe") != 1:
        return None
    return report


def _interpreter(spec: str, report: dict[str, object]) -> Interpreter:
    markers, version = report["markers"], report["version"]
    if not isinstance(markers, dict) or not isinstance(version, list):
        raise TypeError("markers or version missing")
    values = {str(key): str(value) for key, value in markers.items()}
    major, minor, micro = (int(part) for part in version)
    running = f"{values['platform_python_implementation']} {values['python_full_version']}"
    if (major, minor) < MINIMUM:
        raise InterpreterError(
            f"--python {spec}: is {running}; the resolver targets Python 3.8 or later",
            hint=_NOT_A_PYTHON,
        )
    if values["implementation_name"] != "cpython":
        # The tags of other implementations (pp310-pypy310_pp73 …) are not modelled: a lock
        # for them would pick wheels they cannot install.
        raise InterpreterError(
            f"--python {spec}: is {running}; only CPython targets are supported",
            hint=_NOT_A_PYTHON,
        )
    gil_disabled = bool(report["gil_disabled"]) and (major, minor) >= (3, 13)
    flags = ("t" if gil_disabled else "") + ("d" if report["debug"] else "")
    try:
        platform = _platform(report, values)
    except UnknownPlatform as exc:
        raise InterpreterError(
            f"--python {spec}: its platform is not supported: {exc}",
            hint="describe the target with --python-platform instead",
        ) from exc
    return Interpreter(
        version=(major, minor, micro),
        full_version=values["python_full_version"],
        abi_flags=flags,
        platform=platform,
    )


def _platform(report: dict[str, object], markers: dict[str, str]) -> TargetPlatform:
    """The interpreter's platform: tags as ``packaging.tags.platform_tags()`` would give them
    there, named in a ``--python-platform`` spelling, with the markers it reported."""
    system = str(report["sysconfig_platform"]).replace("-", "_").replace(".", "_").lower()
    machine = system.rsplit("_", 1)[-1] if "_" in system else system
    arch = _ARCHES.get(machine, machine)
    if system.startswith("linux_"):
        arch = system.removeprefix("linux_")
        if not report["is_64bit"]:  # a 32-bit interpreter on a 64-bit kernel
            arch = {"x86_64": "i686", "aarch64": "armv8l"}.get(arch, arch)
        glibc = str(report["glibc"] or "")
        if glibc.startswith("glibc "):
            minor = glibc.removeprefix("glibc ").split(".")[1]
            spelling = f"{arch}-manylinux_2_{int(minor)}"
        else:  # PEP 656: no glibc on Linux is musl; musllinux_1_2 is every current musl
            spelling = f"{arch}-unknown-linux-musl"
        platform = parse_platform(spelling)
    elif system.startswith("macosx_"):
        major, minor, *_ = (str(report["mac_version"]) + ".0").split(".")
        arch = {"arm64": "aarch64"}.get(markers["platform_machine"], "x86_64")
        platform = parse_platform(f"{arch}-apple-darwin", macos_version=(int(major), int(minor)))
    elif system.startswith("win"):
        platform = parse_platform(f"{arch}-pc-windows-msvc")
    else:
        raise UnknownPlatform(system)
    return dataclasses.replace(
        platform,
        sys_platform=markers["sys_platform"],
        platform_system=markers["platform_system"],
        platform_machine=markers["platform_machine"],
        os_name=markers["os_name"],
        platform_release=markers["platform_release"],
        platform_version=markers["platform_version"],
    )
