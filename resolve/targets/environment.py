"""The target environment: a CPython version on a platform, as markers and wheel tags.

``resolve --python-version V --python-platform P`` picks files and evaluates markers for a
machine other than this one (SEMANTICS.md §5, "Target"). The platform spellings are uv's
(``linux``, ``x86_64-manylinux_2_28``, ``aarch64-apple-darwin`` ...), so a command line moves
between the two tools unchanged.

Everything here is computed from the spelling alone: a foreign target never looks at the running
machine, so the same flags give the same tags and markers everywhere (the lock is reproducible).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms, parse_tag

__all__ = [
    "DEFAULT_GLIBC",
    "DEFAULT_MACOS",
    "DEFAULT_MUSL",
    "InvalidPythonVersion",
    "TargetEnvironment",
    "TargetPlatform",
    "UnknownPlatform",
    "accepted_platforms",
    "parse_platform",
    "parse_python_version",
]

# Defaults follow uv's `--python-platform` (crates/uv-configuration/src/target_triple.rs):
# `linux` = `x86_64-unknown-linux-gnu`, documented by uv as "Equivalent to
# `x86_64-manylinux_2_28`" (uv releases before mid-2025 said manylinux_2_17), and likewise
# `aarch64-unknown-linux-gnu` = `aarch64-manylinux_2_28`. `macos` = `aarch64-apple-darwin`,
# which "assumes the least-recent, non-EOL macOS version (13.0)" (older uv: 12.0). The
# `*-unknown-linux-musl` triples are musllinux_1_2. uv also honours MACOSX_DEPLOYMENT_TARGET;
# this module reads no environment variable (callers may pass `macos_version`), so that a lock
# depends on flags only.
DEFAULT_GLIBC: tuple[int, int] = (2, 28)
DEFAULT_MUSL: tuple[int, int] = (1, 2)
DEFAULT_MACOS: tuple[int, int] = (13, 0)

_ALIASES = {
    "linux": "x86_64-unknown-linux-gnu",
    "windows": "x86_64-pc-windows-msvc",
    "macos": "aarch64-apple-darwin",
}

# Rust target architecture -> (wheel platform arch, `platform.machine()` on Linux).
_LINUX_ARCHES = {
    "x86_64": "x86_64",
    "aarch64": "aarch64",
    "i686": "i686",
    "s390x": "s390x",
    "ppc64le": "ppc64le",
    "powerpc64le": "ppc64le",
    "armv7l": "armv7l",
}
_MUSL_ARCHES = ("x86_64", "aarch64")
# PEP 600 legacy aliases (the same glibc floor, an older name); pip and packaging list each
# right after its `manylinux_2_NN` equivalent.
_LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
# The oldest glibc with wheels: 2.5 (manylinux1) on x86, 2.17 (manylinux2014) elsewhere
# (same floors as packaging.tags._manylinux).
_GLIBC_FLOOR = {"x86_64": 5, "i686": 5}
_GLIBC_FLOOR_OTHER = 17

# Windows: (wheel platform tag, platform.machine()). CPython on Windows reports AMD64/ARM64/x86,
# which is what a `platform_machine == "AMD64"` marker in the wild tests for; uv reports
# "x86_64" for the x64 triple, which we deliberately do not copy.
_WINDOWS = {
    "x86_64": ("win_amd64", "AMD64"),
    "i686": ("win32", "x86"),
    "aarch64": ("win_arm64", "ARM64"),
}
_DARWIN = {"x86_64": "x86_64", "aarch64": "arm64"}

_MANYLINUX_RE = re.compile(
    r"(?P<arch>[a-z0-9_]+?)-manylinux(?:_2_(?P<minor>\d+)|(?P<legacy>2014|2010|1))\Z"
)
_MANYLINUX_REVERSED_RE = re.compile(r"manylinux_2_(?P<minor>\d+)_(?P<arch>[a-z0-9_]+)\Z")
_PYTHON_RE = re.compile(r"\s*(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<micro>\d+))?\s*\Z")


class UnknownPlatform(ValueError):
    """A ``--python-platform`` value that is not one of the accepted spellings."""

    def __init__(self, spelling: str, reason: str | None = None) -> None:
        self.spelling = spelling
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"unknown Python platform {spelling!r}{why}; expected one of: "
            + ", ".join(accepted_platforms())
        )


class InvalidPythonVersion(ValueError):
    """A ``--python-version`` value that is not ``X.Y`` or ``X.Y.Z``."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        super().__init__(f"invalid Python version {text!r}: {reason}")


def accepted_platforms() -> tuple[str, ...]:
    """The spellings ``parse_platform`` accepts (patterns written with ``NN``), for help text."""
    return (
        "linux",
        "windows",
        "macos",
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "<arch>-manylinux_2_NN",
        "<arch>-manylinux2014",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
        "i686-pc-windows-msvc",
        "aarch64-pc-windows-msvc",
    )


def parse_python_version(text: str) -> tuple[int, int, int]:
    """``"3.12"`` -> ``(3, 12, 0)``; ``"3.12.4"`` -> ``(3, 12, 4)``.

    A missing patch number means the lowest patch release, as in uv ("3.8 is mapped to 3.8.0"),
    so that ``python_full_version >= "3.12.1"`` markers are judged conservatively.
    """
    match = _PYTHON_RE.match(text)
    if match is None:
        raise InvalidPythonVersion(text, "expected MAJOR.MINOR or MAJOR.MINOR.PATCH, like 3.12")
    major, minor = int(match["major"]), int(match["minor"])
    if major != 3:
        raise InvalidPythonVersion(text, "only Python 3 targets are supported")
    return (major, minor, int(match["micro"] or 0))


@dataclass(frozen=True, slots=True)
class TargetPlatform:
    """The platform half of a target: PEP 508 platform markers and wheel platform tags."""

    name: str
    sys_platform: str
    platform_system: str
    platform_machine: str
    os_name: str
    # Most preferred first, as packaging.tags.platform_tags() orders them.
    platform_tags: tuple[str, ...]
    # Unknowable for a foreign machine; uv uses empty strings too.
    platform_release: str = ""
    platform_version: str = ""

    @classmethod
    def host(cls) -> TargetPlatform:
        """This machine, as ``packaging`` sees it."""
        # packaging.tags inspects the interpreter when imported: only a run for this machine
        # (no --python-version / --python-platform) needs it.
        from packaging.markers import default_environment
        from packaging.tags import platform_tags

        env = default_environment()
        return cls(
            name="host",
            sys_platform=env["sys_platform"],
            platform_system=env["platform_system"],
            platform_machine=env["platform_machine"],
            os_name=env["os_name"],
            platform_tags=tuple(platform_tags()),
            platform_release=env["platform_release"],
            platform_version=env["platform_version"],
        )


def parse_platform(
    spelling: str, *, macos_version: tuple[int, int] | None = None
) -> TargetPlatform:
    """A ``--python-platform`` value (uv's spellings) -> ``TargetPlatform``.

    ``macos_version`` overrides the macOS deployment target (default ``DEFAULT_MACOS``).
    """
    text = spelling.strip().lower()
    name = _ALIASES.get(text, text)
    arch, _, rest = name.partition("-")
    if rest == "unknown-linux-gnu" and arch in _LINUX_ARCHES:
        return _manylinux(name, _LINUX_ARCHES[arch], DEFAULT_GLIBC[1], spelling)
    if rest == "unknown-linux-musl" and arch in _MUSL_ARCHES:
        return _linux(name, arch, _musllinux_tags(arch, DEFAULT_MUSL))
    if rest == "apple-darwin" and arch in _DARWIN:
        version = macos_version or DEFAULT_MACOS
        machine = _DARWIN[arch]
        return TargetPlatform(
            name=name,
            sys_platform="darwin",
            platform_system="Darwin",
            platform_machine=machine,
            os_name="posix",
            platform_tags=tuple(mac_platforms(version, machine)),
        )
    if rest == "pc-windows-msvc" and arch in _WINDOWS:
        tag, machine = _WINDOWS[arch]
        return TargetPlatform(
            name=name,
            sys_platform="win32",
            platform_system="Windows",
            platform_machine=machine,
            os_name="nt",
            platform_tags=(tag,),
        )
    match = _MANYLINUX_RE.match(name) or _MANYLINUX_REVERSED_RE.match(name)
    if match is not None and match["arch"] in _LINUX_ARCHES:
        groups = match.groupdict()
        legacy = groups.get("legacy")
        minor = {"2014": 17, "2010": 12, "1": 5}[legacy] if legacy else int(groups["minor"])
        return _manylinux(name, _LINUX_ARCHES[match["arch"]], minor, spelling)
    raise UnknownPlatform(spelling)


def _linux(name: str, arch: str, tags: Iterable[str]) -> TargetPlatform:
    return TargetPlatform(
        name=name,
        sys_platform="linux",
        platform_system="Linux",
        platform_machine=arch,
        os_name="posix",
        platform_tags=tuple(tags),
    )


def _manylinux(name: str, arch: str, glibc_minor: int, spelling: str) -> TargetPlatform:
    floor = _GLIBC_FLOOR.get(arch, _GLIBC_FLOOR_OTHER)
    if glibc_minor < floor:
        raise UnknownPlatform(spelling, f"manylinux for {arch} starts at glibc 2.{floor}")
    # PEP 600: a glibc 2.NN system runs every manylinux_2_MM wheel with MM <= NN; the legacy
    # aliases follow their equivalent, and the plain `linux_<arch>` tag comes last (as in
    # packaging.tags._linux_platforms).
    tags: list[str] = []
    for minor in range(glibc_minor, floor - 1, -1):
        tags.append(f"manylinux_2_{minor}_{arch}")
        if minor in _LEGACY_MANYLINUX:
            tags.append(f"{_LEGACY_MANYLINUX[minor]}_{arch}")
    tags.append(f"linux_{arch}")
    return _linux(name, arch, tags)


def _musllinux_tags(arch: str, musl: tuple[int, int]) -> list[str]:
    # PEP 656: musllinux_1_M for every M <= the system's musl minor version.
    major, minor = musl
    return [f"musllinux_{major}_{m}_{arch}" for m in range(minor, -1, -1)] + [f"linux_{arch}"]


@dataclass(frozen=True, slots=True)
class TargetEnvironment:
    """CPython ``python_version`` on ``platform``: the markers and tags a resolution targets.

    ``running`` marks the interpreter running this code: its markers and tags are then taken
    from ``packaging`` as they are, whatever the implementation. An interpreter that reported
    itself (:mod:`resolve.targets.interpreter`) brings its ``python_full_version`` text
    (``3.13.0rc1``) and its ABI flags (PEP 3149: ``t`` free-threaded, ``d`` debug).
    """

    python_version: tuple[int, int, int]
    platform: TargetPlatform
    running: bool = False
    full_version: str | None = None
    abi_flags: str = ""
    # Lazily filled caches, not part of the value. `_table` holds one (tags, Tag -> rank) pair,
    # built whole before it is published, so a reader never sees a half-built table.
    _table: list[tuple[tuple[Tag, ...], dict[Tag, int]]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )
    _by_string: dict[str, int | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def current(cls) -> TargetEnvironment:
        """The interpreter running this code, on this machine."""
        info = sys.version_info
        return cls((info.major, info.minor, info.micro), TargetPlatform.host(), running=True)

    @classmethod
    def create(
        cls,
        python_version: str | None = None,
        python_platform: str | None = None,
        *,
        macos_version: tuple[int, int] | None = None,
    ) -> TargetEnvironment:
        """``--python-version`` / ``--python-platform``; a missing one means this machine's."""
        if python_version is None and python_platform is None:
            return cls.current()
        version = (
            parse_python_version(python_version)
            if python_version is not None
            else (sys.version_info.major, sys.version_info.minor, sys.version_info.micro)
        )
        platform = (
            parse_platform(python_platform, macos_version=macos_version)
            if python_platform is not None
            else TargetPlatform.host()
        )
        return cls(version, platform)

    def __str__(self) -> str:
        major, minor, micro = self.python_version
        return f"CPython {major}.{minor}.{micro} on {self.platform.name}"

    @property
    def markers(self) -> dict[str, str]:
        """The PEP 508 marker environment (a fresh dict; ``extra`` is not included)."""
        if self.running:
            from packaging.markers import default_environment

            return {key: str(value) for key, value in default_environment().items()}
        major, minor, micro = self.python_version
        full = self.full_version or f"{major}.{minor}.{micro}"
        platform = self.platform
        return {
            "implementation_name": "cpython",
            "implementation_version": full,
            "os_name": platform.os_name,
            "platform_machine": platform.platform_machine,
            "platform_python_implementation": "CPython",
            "platform_release": platform.platform_release,
            "platform_system": platform.platform_system,
            "platform_version": platform.platform_version,
            "python_full_version": full,
            "python_version": f"{major}.{minor}",
            "sys_platform": platform.sys_platform,
        }

    @property
    def tags(self) -> list[Tag]:
        """Supported wheel tags, most preferred first (a fresh list)."""
        return list(self._tag_table()[0])

    def _tag_table(self) -> tuple[tuple[Tag, ...], dict[Tag, int]]:
        if not self._table:
            tags = tuple(self._generate_tags())
            ranks: dict[Tag, int] = {}
            for rank, tag in enumerate(tags):
                ranks.setdefault(tag, rank)
            self._table.append((tags, ranks))
        return self._table[0]

    def _generate_tags(self) -> Iterable[Tag]:
        if self.running:
            from packaging.tags import sys_tags

            return sys_tags()
        major, minor, _ = self.python_version
        version = (major, minor)
        # CPython before 3.8 had the pymalloc `m` ABI suffix (PEP 3149). A debug build also
        # loads the plain ABI's extensions (packaging.tags._cpython_abis).
        abi = f"cp{major}{minor}" + ("m" if version < (3, 8) else "")
        threaded = abi + ("t" if "t" in self.abi_flags and version >= (3, 13) else "")
        abis = [threaded + "d", threaded] if "d" in self.abi_flags else [threaded]
        platforms = self.platform.platform_tags
        # The order of packaging.tags.sys_tags(): interpreter-specific (including abi3 of older
        # minors, PEP 384/425), then py3X/py3 on the platform, then `-none-any`.
        return [
            *cpython_tags(version, abis, platforms),
            *compatible_tags(version, f"cp{major}{minor}", platforms),
        ]

    def tag_rank(self, filename_tags: str) -> int | None:
        """Rank of a wheel's compressed tag set (0 is best), or None when none fits.

        ``filename_tags`` is the ``{python}-{abi}-{platform}`` part of a wheel filename, dotted
        sets allowed (PEP 425 compressed tag sets), e.g.
        ``cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64``. A malformed string ranks
        None: nothing can install it.
        """
        cache = self._by_string
        try:
            return cache[filename_tags]
        except KeyError:
            pass
        ranks = self._tag_table()[1]
        try:
            parsed = parse_tag(filename_tags)
        except ValueError:
            result = None
        else:
            result = min((ranks[t] for t in parsed if t in ranks), default=None)
        cache[filename_tags] = result
        return result
