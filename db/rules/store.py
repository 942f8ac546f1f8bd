"""Storing rule sets (SQLAlchemy): each change of the effective rules is a new version.

Works on the plain document of ``RuleSet.to_document()`` and the digest the caller computed
from it (``RuleSet.digest``): this package knows neither what the rules mean nor how their
digest is made (``db`` imports neither ``resolve`` nor ``mirror``, DESIGN.md). The row layout
and the queries are those of :mod:`db.rules.rows`, shared with the sqlite3 reader.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, text

from db.rules.rows import (
    Query,
    RuleChange,
    read_document,
    read_history,
    rows_from_document,
)
from db.schema import rule, rule_change, rule_set

__all__ = [
    "RuleChange",
    "current_digest",
    "record_rule_set",
    "rule_document",
    "rule_history",
]


def _query(conn: Connection) -> Query:
    def run(sql: str, params: Mapping[str, object]) -> Sequence[Sequence[Any]]:
        return conn.execute(text(sql), dict(params)).all()

    return run


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rule_document(conn: Connection, digest: str | None = None) -> dict[str, Any]:
    """The current rules' document, or the stored one named by ``digest`` (a full digest or
    a prefix of at least 8 hex digits); before any was stored, the one the indexes imply."""
    return read_document(_query(conn), digest)


def rule_history(conn: Connection) -> list[RuleChange]:
    """Every change of the effective rules, newest first."""
    return read_history(_query(conn))


def current_digest(conn: Connection) -> str | None:
    """The digest of the current rule set, or None before any was stored."""
    query = (
        select(rule_set.c.digest)
        .join(rule_change, rule_change.c.rule_set_id == rule_set.c.id)
        .order_by(rule_change.c.id.desc())
        .limit(1)
    )
    return conn.execute(query).scalar()


def record_rule_set(
    conn: Connection, document: Mapping[str, Any], digest: str, summary: str
) -> bool:
    """Make ``document`` (whose digest is ``digest``) the current rules, with ``summary``
    saying what changed. Returns False, storing nothing, when it already is current.

    Rule sets are content-addressed: rules that were current before (a change undone) reuse
    their stored rows and get a new ``rule_change`` row only, so every digest a lock names
    stays readable and the history still shows both changes.
    """
    if current_digest(conn) == digest:
        return False
    now = _now()
    rule_set_id = conn.execute(select(rule_set.c.id).where(rule_set.c.digest == digest)).scalar()
    if rule_set_id is None:
        inserted = conn.execute(rule_set.insert().values(digest=digest, created_at=now))
        rule_set_id = inserted.inserted_primary_key[0] if inserted.inserted_primary_key else None
        assert rule_set_id is not None
        rows = [
            {
                "rule_set_id": rule_set_id,
                "position": position,
                "kind": kind,
                "subject": subject,
                "value": value,
                "marker": marker,
            }
            for position, (kind, subject, value, marker) in enumerate(rows_from_document(document))
        ]
        if rows:
            conn.execute(rule.insert(), rows)
    conn.execute(
        rule_change.insert().values(rule_set_id=rule_set_id, created_at=now, summary=summary)
    )
    return True
