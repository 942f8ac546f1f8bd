"""`mirror db copy`: one database's snapshots, indexes and rules into another, engine to engine.

The rows travel as a bundle's do (:func:`db.bundle.rows.export_sections`), without the file:
a first reading checks them (:class:`db.bundle.contents.BundleContents`), a second merges them
(:class:`db.bundle.merge.RowMerger`) in one transaction on the target, which recomputes every
copied snapshot's content digest and refuses the whole copy if one differs from the source's.
So a copy is verified the way an import is, merges by content the way an import does (run
twice, the second adds nothing), and works between any two engines SQLAlchemy opens here
(SQLite and PostgreSQL, either way).

Beyond what a bundle carries, a copy also takes every configured index (also one with no
snapshot yet) and, into a database with no rule history, the source's whole history, so the
target's current rules are the source's. Snapshots still building are not copied: they are
not data yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, select, text

from db.bundle.contents import BundleContents
from db.bundle.merge import RowMerger, plan_import
from db.bundle.rows import TABLES, Section, export_sections
from db.schema import rule_change, rule_set, snapshot

__all__ = ["CopyResult", "copy_database"]

_TABLES = {table.name: table for table in TABLES}


@dataclass(slots=True)
class CopyResult:
    copied: list[str] = field(default_factory=list)  # snapshot names in the target
    present: list[str] = field(default_factory=list)  # already there (by digest)
    building: list[str] = field(default_factory=list)  # in the source, not copied
    indexes_created: list[str] = field(default_factory=list)
    rule_sets_added: list[str] = field(default_factory=list)
    history_copied: int = 0
    added: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "copied": self.copied,
            "present": self.present,
            "building_not_copied": self.building,
            "indexes_created": self.indexes_created,
            "rule_sets_added": self.rule_sets_added,
            "rule_history_copied": self.history_copied,
            "added": dict(sorted(self.added.items())),
        }


def _sections(conn: Connection, ids: list[int]) -> Iterator[Section]:
    return export_sections(conn, ids, every_index=True)


def _read_source(conn: Connection) -> tuple[list[int], list[str]]:
    """The complete snapshots' ids (oldest first) and the names of those still building."""
    rows = conn.execute(select(snapshot.c.id, snapshot.c.name, snapshot.c.state)).all()
    complete = sorted(int(r.id) for r in rows if r.state == "complete")
    return complete, sorted(str(r.name) for r in rows if r.state != "complete")


def _copy_history(source: Connection, target: Connection) -> int:
    """The source's rule history, into a target that has none of its own (the target's rule
    sets hold every source rule set by now)."""
    if target.execute(select(rule_change.c.id).limit(1)).first() is not None:
        return 0
    local = {str(r.digest): int(r.id) for r in target.execute(select(rule_set))}
    history = source.execute(
        select(rule_set.c.digest, rule_change.c.created_at, rule_change.c.summary)
        .join(rule_set, rule_set.c.id == rule_change.c.rule_set_id)
        .order_by(rule_change.c.id)
    ).all()
    for row in history:
        target.execute(
            rule_change.insert().values(
                rule_set_id=local[str(row.digest)], created_at=row.created_at, summary=row.summary
            )
        )
    return len(history)


def copy_database(source: Engine, target: Engine) -> CopyResult:
    """Copy ``source``'s complete snapshots, indexes, rule sets and rule history into
    ``target``, all or nothing."""
    result = CopyResult()
    with source.connect() as src:
        # Both readings must see the same rows while syncers go on writing: one read
        # transaction (SQLite's driver would not open one for reads by itself).
        if src.dialect.name == "postgresql":
            src = src.execution_options(isolation_level="REPEATABLE READ")
        else:
            src.exec_driver_sql("BEGIN")
        ids, result.building = _read_source(src)
        contents = BundleContents()
        for section in _sections(src, ids):
            table = contents.section(section.table, section.columns, section.raw_length)
            for values, data in section.records():
                contents.add(table, values, data)
        contents.finish()
        with target.begin() as dst:
            plan = plan_import(dst, contents, every_index=True)
            merger = RowMerger(dst, plan)
            for section in _sections(src, ids):
                table = _TABLES[section.table]
                for values, data in section.records():
                    merger.add(table, values, data)
                merger.flush(table)
            merger.finish()
            result.history_copied = _copy_history(src, dst)
    if target.dialect.name == "postgresql" and plan.snapshots:
        # Fresh planner statistics for the rows just loaded: until autovacuum catches up the
        # planner reads a copied mirror's pages by sequential scan (resolve measured 7x slower).
        with target.begin() as conn:
            conn.execute(text("ANALYZE"))
    result.copied = [s.name for s in plan.snapshots.values()]
    result.present = [s.existing for s in plan.skipped]
    result.indexes_created = merger.created_indexes
    result.rule_sets_added = sorted(plan.rule_sets.values())
    result.added = {t: n for t, n in sorted(merger.added.items()) if n}
    return result
