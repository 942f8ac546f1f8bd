"""`mirror download` of a universal lock (``resolve --universal``): of its pins, only those
whose marker holds where the files are wanted, and of their files only those installed there.

With targets given (``--python-version`` / ``--python-platform``), each target takes the pins
whose marker holds for it, evaluated as the resolver evaluates a marker for one target
(``packaging``'s evaluation over :attr:`TargetEnvironment.markers`), and of those the files it
installs (:func:`mirror.download.target_files.target_files`).

With none, the files are for every environment the lock declares (its ``universal:`` target,
:func:`resolve.universal.environment.declared_environment`), as CPython, the only
implementation a target names: a pin is kept where its marker meets those environments; a
wheel where its tags (:func:`resolve.universal.wheel_markers.wheel_marker`: operating system
and Python, every architecture) install on some environment of the pin's; the sdist where
some environment of the pin's has no such wheel (a Python newer than the wheels, a platform
none is built for); and every file when none of them is installed anywhere, as for one target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from packaging.markers import Marker

from mirror.download.plan import DownloadItem
from mirror.download.target_files import target_files, wheel_tags
from resolve.lock.reader import LockFile
from resolve.targets.environment import TargetEnvironment
from resolve.universal.environment import KNOWN_PLATFORMS
from resolve.universal.marker_algebra import FALSE, Expr
from resolve.universal.marker_parse import parse_text
from resolve.universal.wheel_markers import wheel_marker

__all__ = ["environment_files", "universal_target_files"]

_CPYTHON = parse_text(
    "implementation_name == 'cpython' and platform_python_implementation == 'CPython'"
)


def _pin_markers(lock: LockFile) -> dict[str, str | None]:
    """``name==version`` → its marker (a universal lock pins each version once)."""
    return {str(pin): pin.marker for pin in lock.pins}


def universal_target_files(
    items: Sequence[DownloadItem], lock: LockFile, targets: Sequence[TargetEnvironment]
) -> list[DownloadItem]:
    """The files any of ``targets`` installs, of the pins whose marker holds for it."""
    markers = _pin_markers(lock)
    wanted: set[str] = set()
    for target in targets:
        environment = target.markers
        held = [i for i in items if _holds(markers.get(i.pin), environment)]
        wanted.update(i.filename for i in target_files(held, [target]))
    return [i for i in items if i.filename in wanted]


def _holds(marker: str | None, environment: Mapping[str, str]) -> bool:
    return marker is None or Marker(marker).evaluate(dict(environment))


def environment_files(
    items: Sequence[DownloadItem], lock: LockFile, environment: Expr
) -> list[DownloadItem]:
    """The files some environment of ``environment`` installs (see the module docstring)."""
    space = environment & KNOWN_PLATFORMS & _CPYTHON
    markers = _pin_markers(lock)
    by_pin: dict[str, list[DownloadItem]] = {}
    for item in items:
        by_pin.setdefault(item.pin, []).append(item)
    chosen: list[DownloadItem] = []
    for pin, files in by_pin.items():
        marker = markers.get(pin)
        where = space & parse_text(marker) if marker else space
        if where.is_empty():
            continue
        covered = FALSE
        wanted: set[str] = set()
        for item in files:
            if item.filename.endswith(".whl"):
                installs = wheel_marker(wheel_tags(item.filename)) & where
                if not installs.is_empty():
                    wanted.add(item.filename)
                    covered |= installs
        if not where.within(covered):
            wanted.update(f.filename for f in files if not f.filename.endswith(".whl"))
        chosen += [f for f in files if f.filename in wanted or not wanted]
    return chosen
