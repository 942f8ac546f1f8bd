"""Index-precedence rules as a value (SEMANTICS.md §1, §3, §5): pure, hashable, digestible.

A :class:`RuleSet` is everything besides the snapshot and the requirements that decides a
resolution: the indexes in priority order with their policies, the strategy, package pins,
pre-release modes and upload-time cutoffs. It is stored as rows, exported as TOML, and named
in every lock by its digest, so an old lock can be reproduced with ``resolve --rules DIGEST``.

The document form (:meth:`RuleSet.to_document`) is plain JSON-able data with a fixed key
order; the digest is the sha256 of its canonical JSON, so it is the same on every machine.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from packaging.markers import InvalidMarker, Marker

from db.index_config import means_not_here
from resolve.policy.prerelease import PrereleaseMode, PrereleasePolicy

__all__ = [
    "SEMANTICS",
    "Cutoff",
    "IndexRule",
    "IndexStrategy",
    "Pin",
    "RuleError",
    "RuleSet",
    "comparable_time",
    "normalize_glob",
    "parse_cutoff",
]

#: The semantics a rule set follows; stored with it so that an old lock stays reproducible
#: when a later version changes a default.
SEMANTICS = "sneakernet-1"

#: An upload-time cutoff: an RFC 3339 UTC timestamp, ``False`` to opt out of an outer cutoff,
#: or ``None`` to inherit it (package beats index beats global, SEMANTICS §5).
Cutoff = str | bool | None


class RuleError(ValueError):
    """A rule that cannot be stored or applied, with what to do about it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class IndexStrategy(StrEnum):
    """How several indexes supply one package (SEMANTICS §1; uv's names)."""

    FIRST_INDEX = "first-index"
    UNSAFE_FIRST_MATCH = "unsafe-first-match"
    UNSAFE_BEST_MATCH = "unsafe-best-match"


_NAME_RUN = re.compile(r"[-_.]+")


def normalize_glob(pattern: str) -> str:
    """A package-name glob in PEP 503 normal form, so ``Torch_*`` matches ``torch-audio``."""
    return _NAME_RUN.sub("-", pattern).lower()


@dataclass(frozen=True, slots=True)
class IndexRule:
    """One index as the rules see it: its name and URL and its policy.

    ``not_here`` lists statuses besides 404/410 that mean "this index does not have the
    project" (PyTorch's indexes answer 403). ``exclude_newer`` is the index's cutoff.
    """

    name: str
    url: str
    default: bool = False
    explicit: bool = False
    not_here: tuple[int, ...] = ()
    exclude_newer: Cutoff = None

    def means_not_here(self, status: int) -> bool:
        return means_not_here(status, self.not_here)


@dataclass(frozen=True, slots=True)
class Pin:
    """Packages matching ``glob`` come only from ``indexes`` (wherever they appear in the
    graph), when ``marker`` is absent or true for the target."""

    glob: str
    indexes: tuple[str, ...]
    marker: str | None = None

    def matches(self, package: str, environment: Mapping[str, str]) -> bool:
        if not fnmatchcase(package, self.glob):
            return False
        return self.marker is None or Marker(self.marker).evaluate(dict(environment))


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The effective rules. ``indexes`` are in the order the user gave them; lookups use
    :meth:`lookup_order`, where the default index comes last (uv's rule)."""

    indexes: tuple[IndexRule, ...] = ()
    strategy: IndexStrategy = IndexStrategy.FIRST_INDEX
    pins: tuple[Pin, ...] = ()
    prerelease: PrereleaseMode = PrereleaseMode.IF_NECESSARY
    prerelease_packages: Mapping[str, PrereleaseMode] = field(default_factory=dict)
    exclude_newer: Cutoff = None
    exclude_newer_packages: Mapping[str, Cutoff] = field(default_factory=dict)
    semantics: str = SEMANTICS

    # -- lookups ------------------------------------------------------------------------

    def index(self, name: str) -> IndexRule | None:
        return next((i for i in self.indexes if i.name == name), None)

    def lookup_order(self) -> tuple[IndexRule, ...]:
        """Indexes by priority with default ones last, wherever they were listed."""
        return tuple(i for i in self.indexes if not i.default) + tuple(
            i for i in self.indexes if i.default
        )

    def pin_for(self, package: str, environment: Mapping[str, str]) -> Pin | None:
        """The first pin (in the order stored) whose glob and marker match ``package``."""
        return next((p for p in self.pins if p.matches(package, environment)), None)

    def allowed_indexes(
        self, package: str, environment: Mapping[str, str]
    ) -> tuple[IndexRule, ...]:
        """The indexes that may supply ``package``, in lookup order.

        A pinned package comes only from its pin's indexes; any other package from every
        index that is not explicit (an explicit index serves pinned packages only).
        """
        pin = self.pin_for(package, environment)
        order = self.lookup_order()
        if pin is not None:
            return tuple(i for i in order if i.name in pin.indexes)
        return tuple(i for i in order if not i.explicit)

    def prerelease_policy(self, explicit: frozenset[str] = frozenset()) -> PrereleasePolicy:
        return PrereleasePolicy(self.prerelease, dict(self.prerelease_packages), explicit)

    def cutoff(self, package: str, index: str) -> str | None:
        """The upload-time cutoff for ``package`` on ``index``: package beats index beats
        global (SEMANTICS §5); ``None`` when there is none or it was opted out of."""
        for value in (
            self.exclude_newer_packages.get(package),
            (rule.exclude_newer if (rule := self.index(index)) else None),
            self.exclude_newer,
        ):
            if value is False:
                return None
            if isinstance(value, str):
                return comparable_time(value)
        return None

    # -- changes ------------------------------------------------------------------------

    def with_changes(self, **changes: Any) -> RuleSet:
        """A copy with some fields replaced (command-line flags for one run)."""
        return replace(self, **changes)

    # -- document form and digest -------------------------------------------------------

    def to_document(self) -> dict[str, Any]:
        """Plain data with a fixed shape and order: the input of the digest and of TOML."""
        return {
            "semantics": self.semantics,
            "strategy": str(self.strategy),
            "prerelease": str(self.prerelease),
            "exclude-newer": self.exclude_newer,
            "indexes": [
                {
                    "name": i.name,
                    "url": i.url,
                    "default": i.default,
                    "explicit": i.explicit,
                    "not-here": sorted(i.not_here),
                    "exclude-newer": i.exclude_newer,
                }
                for i in self.indexes
            ],
            "pins": [
                {"glob": p.glob, "indexes": list(p.indexes), "marker": p.marker} for p in self.pins
            ],
            "packages": {
                name: {
                    "prerelease": _str_or_none(self.prerelease_packages.get(name)),
                    "exclude-newer": self.exclude_newer_packages.get(name),
                }
                for name in sorted({*self.prerelease_packages, *self.exclude_newer_packages})
            },
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> RuleSet:
        """The inverse of :meth:`to_document`; raises :class:`RuleError` on bad data."""
        try:
            indexes = tuple(
                IndexRule(
                    name=str(i["name"]),
                    url=str(i["url"]),
                    default=bool(i.get("default", False)),
                    explicit=bool(i.get("explicit", False)),
                    not_here=tuple(sorted(int(s) for s in i.get("not-here", ()))),
                    exclude_newer=_cutoff_in(i.get("exclude-newer")),
                )
                for i in document.get("indexes", ())
            )
            pins = tuple(
                Pin(
                    glob=normalize_glob(str(p["glob"])),
                    indexes=tuple(str(n) for n in p["indexes"]),
                    marker=_marker(p.get("marker")),
                )
                for p in document.get("pins", ())
            )
            packages: Mapping[str, Mapping[str, Any]] = document.get("packages", {})
            rules = cls(
                indexes=indexes,
                strategy=IndexStrategy(document.get("strategy", IndexStrategy.FIRST_INDEX)),
                pins=pins,
                prerelease=PrereleaseMode(document.get("prerelease", PrereleaseMode.IF_NECESSARY)),
                prerelease_packages={
                    name: PrereleaseMode(p["prerelease"])
                    for name, p in sorted(packages.items())
                    if p.get("prerelease") is not None
                },
                exclude_newer=_cutoff_in(document.get("exclude-newer")),
                exclude_newer_packages={
                    name: _cutoff_in(p["exclude-newer"])
                    for name, p in sorted(packages.items())
                    if p.get("exclude-newer") is not None
                },
                semantics=str(document.get("semantics", SEMANTICS)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, RuleError):
                raise
            raise RuleError(f"malformed rule set: {exc}") from exc
        rules.check()
        return rules

    @property
    def digest(self) -> str:
        text = json.dumps(self.to_document(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def check(self) -> None:
        """Refuse rules that name indexes that do not exist in them."""
        names = {i.name for i in self.indexes}
        for pin in self.pins:
            unknown = [n for n in pin.indexes if n not in names]
            if unknown:
                raise RuleError(
                    f"the pin {pin.glob!r} names unknown index {unknown[0]!r}",
                    hint="see `mirror index list`",
                )
        if self.semantics != SEMANTICS:
            raise RuleError(
                f"the rules follow semantics {self.semantics!r}, "
                f"this version of sneakernet knows {SEMANTICS!r}",
                hint="upgrade sneakernet",
            )


def parse_cutoff(value: str) -> str | bool:
    """``--exclude-newer`` and friends: an ISO 8601 date or timestamp (naive means UTC) →
    ``YYYY-MM-DDTHH:MM:SSZ``; ``false`` → ``False`` (opt out of an outer cutoff)."""
    if value.strip().lower() == "false":
        return False
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise RuleError(
            f"invalid cutoff {value!r}",
            hint="use e.g. 2024-03-01 or 2024-03-01T00:00:00Z, or false",
        ) from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def comparable_time(timestamp: str) -> str:
    """A cutoff or stored upload time in the stored form (six fraction digits, ``Z``), so
    that plain string comparison is time order."""
    if "." in timestamp:
        return timestamp
    return timestamp[:-1] + ".000000Z"


def _cutoff_in(value: object) -> Cutoff:
    if value is None or value is True:
        return None
    if value is False:
        return False
    return parse_cutoff(str(value))


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _marker(value: object) -> str | None:
    if value is None:
        return None
    try:
        return str(Marker(str(value)))
    except InvalidMarker as exc:
        raise RuleError(f"invalid marker {value!r}: {exc}") from exc
