"""The configured indexes: where `mirror sync` fetches from and each index's policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from db.errors import SneakernetError
from db.index_config import IndexConfig, not_here_statuses, not_here_text
from db.schema import index

__all__ = [
    "IndexConfig",
    "IndexError_",
    "add_index",
    "apply_rule_indexes",
    "get_index",
    "list_indexes",
    "ordered_for_lookup",
    "remove_index",
]


class IndexError_(SneakernetError):
    """An index name or definition the user gave is not usable."""


def _row_to_config(row: object) -> IndexConfig:
    r = row._mapping  # type: ignore[attr-defined]
    not_here = not_here_statuses(r["not_here"])
    return IndexConfig(
        id=r["id"],
        name=r["name"],
        url=r["url"],
        format=r["format"],
        priority=r["priority"],
        is_default=bool(r["is_default"]),
        explicit=bool(r["explicit"]),
        not_here=not_here,
        exclude_newer=r["exclude_newer"],
    )


def list_indexes(conn: Connection, *, include_removed: bool = False) -> list[IndexConfig]:
    """Indexes in the order they were added (their priority order as listed)."""
    query = select(index).order_by(index.c.priority, index.c.id)
    if not include_removed:
        query = query.where(index.c.removed.is_(False))
    return [_row_to_config(row) for row in conn.execute(query)]


def ordered_for_lookup(indexes: Sequence[IndexConfig]) -> list[IndexConfig]:
    """Priority order for lookups: the default index is consulted last, wherever it is listed
    (SEMANTICS.md §1, uv's rule)."""
    return sorted(indexes, key=lambda i: (i.is_default, i.priority, i.id))


def get_index(conn: Connection, name: str) -> IndexConfig:
    row = conn.execute(
        select(index).where(index.c.name == name, index.c.removed.is_(False))
    ).first()
    if row is None:
        known = ", ".join(i.name for i in list_indexes(conn)) or "none"
        raise IndexError_(
            f"unknown index {name!r} (configured: {known})",
            hint="see `mirror index list`; add one with `mirror index add NAME URL`",
        )
    return _row_to_config(row)


def add_index(
    conn: Connection,
    *,
    name: str,
    url: str,
    format: str = "simple",
    is_default: bool = False,
    explicit: bool = False,
    not_here: Sequence[int] = (),
    exclude_newer: str | None = None,
) -> IndexConfig:
    existing = conn.execute(
        select(index.c.id).where(index.c.name == name, index.c.removed.is_(False))
    ).first()
    if existing is not None:
        raise IndexError_(
            f"an index named {name!r} already exists",
            hint=f"remove it first with `mirror index remove {name}`, or pick another name",
        )
    if is_default:
        # One default index: the newest --default replaces the previous one's role.
        conn.execute(update(index).where(index.c.is_default.is_(True)).values(is_default=False))
    priority = (conn.execute(select(func.max(index.c.priority))).scalar() or 0) + 1
    statuses = not_here_text(not_here)
    result = conn.execute(
        index.insert().values(
            name=name,
            url=url,
            format=format,
            priority=priority,
            is_default=is_default,
            explicit=explicit,
            not_here=statuses,
            exclude_newer=exclude_newer,
            created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    )
    new_id = result.inserted_primary_key
    assert new_id is not None
    return get_index(conn, name)


def remove_index(conn: Connection, name: str) -> IndexConfig:
    """Stop syncing from ``name``. Its row stays, marked removed, so old snapshots keep
    reading; the name can be used again."""
    config = get_index(conn, name)
    conn.execute(
        update(index).where(index.c.id == config.id).values(removed=True, is_default=False)
    )
    return config


def apply_rule_indexes(conn: Connection, entries: Sequence[Mapping[str, Any]]) -> None:
    """Keep the index table in step with the rules' indexes (``RuleSet.to_document()``
    entries): each named active index takes the rules' policy, and priorities follow the
    rules' order; active indexes the rules do not name keep their order after them.

    `mirror sync`, `mirror index list` and older snapshots' readers see the table, `resolve`
    sees the rules: both must tell the same story (SEMANTICS.md §1).
    """
    active = {c.name: c for c in list_indexes(conn)}
    named = {str(e["name"]): e for e in entries}
    ordered = [active[name] for name in named if name in active]
    ordered += [c for name, c in active.items() if name not in named]
    for priority, config in enumerate(ordered, start=1):
        values: dict[str, object] = {"priority": priority}
        entry = named.get(config.name)
        if entry is not None:
            cutoff = entry.get("exclude-newer")
            values.update(
                is_default=bool(entry.get("default")),
                explicit=bool(entry.get("explicit")),
                not_here=not_here_text(entry.get("not-here", ())),
                # The table spells the opt-out "false" (db/schema.py).
                exclude_newer="false" if cutoff is False else cutoff,
            )
        conn.execute(update(index).where(index.c.id == config.id).values(**values))
