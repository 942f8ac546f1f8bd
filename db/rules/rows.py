"""Rule sets as rows, and reading them without SQLAlchemy (``resolve`` starts fast).

A rule set travels as a plain *document*: the JSON-able dict of ``RuleSet.to_document()``
(resolve/rules.py, SEMANTICS.md §1, §3, §5). This module maps a document to ``rule`` rows and
back, losslessly, and knows nothing about what the rules mean. One row per fact; ``position``
keeps the document's order and ``value`` is canonical JSON (so ``false``, ``null`` and strings
stay apart):

- ``setting``: subject = a top-level key (semantics, strategy, prerelease, exclude-newer);
- ``index``: subject = the index name, value = the entry's other fields (url, default, …);
- ``pin``: subject = the glob, marker = its PEP 508 marker or NULL, value = the other fields;
- ``prerelease`` / ``exclude-newer``: subject = a package, value = its mode / its cutoff.

Each stored rule set is immutable and named by its digest; ``rule_change`` rows record each
time the effective rules changed, and the newest one names the current rule set. Before any
was stored, the current rules are implied by the active ``index`` rows, by priority, every
other rule left at its default.

The queries here are written once, with ``:name`` parameters, and run both through
a reader's connection (:func:`rule_document`, :func:`rule_history`, either engine,
:mod:`db.read.connection`) and through SQLAlchemy
(:mod:`db.rules.store`), through a :data:`Query` callable.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from db.errors import DatabaseError, SneakernetError
from db.index_config import not_here_statuses
from db.read.connection import ReadConnection

__all__ = [
    "PACKAGE_KINDS",
    "Query",
    "RuleChange",
    "RuleRow",
    "UnknownRules",
    "document_from_indexes",
    "document_from_rows",
    "find_rule_set",
    "read_document",
    "read_history",
    "rows_from_document",
    "rule_document",
    "rule_history",
]

Query = Callable[[str, Mapping[str, object]], Sequence[Sequence[Any]]]
"""Runs one SQL statement with ``:name`` parameters and returns its rows as tuples."""

RuleRow = tuple[str, str, str, str | None]
"""``(kind, subject, value, marker)``; the row's position is its place in a list of them."""

#: The document's per-package fields, each stored as rows of its own kind.
PACKAGE_KINDS = ("prerelease", "exclude-newer")

_HISTORY_HINT = "see `mirror rules history` for the stored rule sets"
_HEX = re.compile(r"[0-9a-f]+")


class UnknownRules(SneakernetError):
    """No stored rule set answers to the digest given."""


@dataclass(frozen=True, slots=True)
class RuleChange:
    """One change of the effective rules: the rule set that became current, and when."""

    digest: str
    created_at: str
    summary: str

    def as_json(self) -> dict[str, str]:
        return {"digest": self.digest, "created_at": self.created_at, "summary": self.summary}


def _json(value: object) -> str:
    # The same spelling as the digest's (sorted keys, no spaces), so rows read like the digest.
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def rows_from_document(document: Mapping[str, Any]) -> list[RuleRow]:
    """A document as rows, in the document's order."""
    rows: list[RuleRow] = []
    for key, value in document.items():
        if key not in ("indexes", "pins", "packages"):
            rows.append(("setting", key, _json(value), None))
    for entry in document.get("indexes", ()):
        rest = {k: v for k, v in entry.items() if k != "name"}
        rows.append(("index", str(entry["name"]), _json(rest), None))
    for entry in document.get("pins", ()):
        rest = {k: v for k, v in entry.items() if k not in ("glob", "marker")}
        rows.append(("pin", str(entry["glob"]), _json(rest), entry.get("marker")))
    packages: Mapping[str, Mapping[str, Any]] = document.get("packages", {})
    for name, fields in sorted(packages.items()):
        for kind in PACKAGE_KINDS:
            if fields.get(kind) is not None:
                rows.append((kind, name, _json(fields[kind]), None))
    return rows


def document_from_rows(rows: Iterable[RuleRow]) -> dict[str, Any]:
    """The inverse of :func:`rows_from_document` (rows in position order)."""
    document: dict[str, Any] = {}
    indexes: list[dict[str, Any]] = []
    pins: list[dict[str, Any]] = []
    packages: dict[str, dict[str, Any]] = {}
    for kind, subject, value, marker in rows:
        decoded = json.loads(value)
        if kind == "setting":
            document[subject] = decoded
        elif kind == "index":
            indexes.append({"name": subject, **decoded})
        elif kind == "pin":
            pins.append({"glob": subject, **decoded, "marker": marker})
        elif kind in PACKAGE_KINDS:
            entry = packages.setdefault(subject, dict.fromkeys(PACKAGE_KINDS))
            entry[kind] = decoded
        else:
            raise DatabaseError(
                f"unknown rule kind {kind!r} in the database",
                hint="the database was written by a newer sneakernet: upgrade sneakernet",
            )
    document["indexes"] = indexes
    document["pins"] = pins
    document["packages"] = {name: packages[name] for name in sorted(packages)}
    return document


def document_from_indexes(rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """The rules implied by ``index`` rows ``(name, url, is_default, explicit, not_here,
    exclude_newer)`` in priority order: those indexes, every other rule at its default (the
    reader of the document fills the defaults in, so they are not written down here)."""
    return {
        "indexes": [
            {
                "name": str(name),
                "url": str(url),
                "default": bool(is_default),
                "explicit": bool(explicit),
                "not-here": list(not_here_statuses(not_here)),
                # The index table spells the opt-out "false" (db/schema.py).
                "exclude-newer": False if cutoff == "false" else cutoff,
            }
            for name, url, is_default, explicit, not_here, cutoff in rows
        ]
    }


_CURRENT = "SELECT rule_set_id FROM rule_change ORDER BY id DESC LIMIT 1"
_BY_DIGEST = "SELECT id, digest FROM rule_set WHERE digest = :ref"
_BY_PREFIX = "SELECT id, digest FROM rule_set WHERE substr(digest, 1, :n) = :ref ORDER BY digest"
_ROWS = "SELECT kind, subject, value, marker FROM rule WHERE rule_set_id = :id ORDER BY position"
_INDEXES = (
    'SELECT name, url, is_default, explicit, not_here, exclude_newer FROM "index" '
    "WHERE NOT removed ORDER BY priority, id"
)
_HISTORY = (
    "SELECT s.digest, c.created_at, c.summary FROM rule_change AS c "
    "JOIN rule_set AS s ON s.id = c.rule_set_id ORDER BY c.id DESC"
)


def find_rule_set(query: Query, ref: str) -> tuple[int, str]:
    """The id and digest of the stored rule set named by ``ref``: a full digest or a prefix of
    at least 8 hex digits (as snapshots are named)."""
    wanted = ref.strip().lower()
    found = query(_BY_DIGEST, {"ref": wanted})
    if not found and len(wanted) >= 8 and _HEX.fullmatch(wanted):
        # substr, not LIKE: a prefix compare with no wildcard characters to escape.
        found = query(_BY_PREFIX, {"n": len(wanted), "ref": wanted})
        if len(found) > 1:
            shown = ", ".join(str(r[1])[:16] for r in found[:5])
            raise UnknownRules(
                f"the rule-set digest prefix {ref!r} is ambiguous ({shown})",
                hint="give more digits; " + _HISTORY_HINT,
            )
    if not found:
        detail = "" if len(wanted) >= 8 else " (give the digest or at least 8 of its hex digits)"
        raise UnknownRules(f"no stored rule set {ref!r}{detail}", hint=_HISTORY_HINT)
    return int(found[0][0]), str(found[0][1])


def read_document(query: Query, digest: str | None = None) -> dict[str, Any]:
    """The current rules (``digest`` None) or the stored rule set named by ``digest``."""
    if digest is None:
        current = query(_CURRENT, {})
        if not current:
            return document_from_indexes(query(_INDEXES, {}))
        rule_set_id = int(current[0][0])
    else:
        rule_set_id, _ = find_rule_set(query, digest)
    return document_from_rows(
        (str(k), str(s), str(v), None if m is None else str(m))
        for k, s, v, m in query(_ROWS, {"id": rule_set_id})
    )


def read_history(query: Query) -> list[RuleChange]:
    """Every change of the effective rules, newest first."""
    return [RuleChange(str(d), str(t), str(s)) for d, t, s in query(_HISTORY, {})]


def _reader(conn: ReadConnection) -> Query:
    def run(sql: str, params: Mapping[str, object]) -> list[Any]:
        try:
            return conn.execute(sql, dict(params)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(
                f"cannot read the rules: {exc}",
                hint="restore the database from a backup or an exported snapshot",
            ) from exc

    return run


def rule_document(conn: ReadConnection, digest: str | None = None) -> dict[str, Any]:
    """:func:`read_document` on a reader's connection."""
    return read_document(_reader(conn), digest)


def rule_history(conn: ReadConnection) -> list[RuleChange]:
    """:func:`read_history` on a reader's connection."""
    return read_history(_reader(conn))
