"""Merging a bundle's rows into a database: check them, plan the merge, then write it.

Reading a bundle is done twice. The first reading feeds
:class:`~db.bundle.contents.BundleContents`, which checks every row and keeps what
:func:`plan_import` needs. The plan decides, before anything is written, which
snapshots are new, which indexes are reused or created, and refuses an index whose name is
taken here by another URL. The second reading feeds :class:`RowMerger`, in one transaction.

Rows merge by content: payloads and core metadata by sha256, pages by (index, project,
digest), snapshots and rule sets by digest. Only the rows the new snapshots use are written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Connection, Table, func, select

from db.blobs import put_blob
from db.bundle.contents import BundleContents, Values
from db.bundle.rows import (
    TABLES,
    BundleError,
    key_column,
    references,
    sort_key,
)
from db.digests import content_digest
from db.listing_rows import fill_listings
from db.schema import blob, index, metadata, page, rule_set, snapshot
from db.write.bulk import insert_rows

__all__ = [
    "ImportPlan",
    "ImportedSnapshot",
    "RowMerger",
    "SkippedSnapshot",
    "plan_import",
]

_NUMBERED = {table.name for table in TABLES if key_column(table) == "id"}
# Rows that belong to another row and are written only with it.
_OWNER = {
    "file": "page_id",
    "snapshot_page": "snapshot_id",
    "snapshot_metadata": "snapshot_id",
    "rule": "rule_set_id",
}


@dataclass(frozen=True, slots=True)
class ImportedSnapshot:
    name: str
    digest: str
    bundle_name: str


@dataclass(frozen=True, slots=True)
class SkippedSnapshot:
    name: str
    digest: str
    existing: str


@dataclass(slots=True)
class ImportPlan:
    """What a merge will write. Bundle ids map to what they become here."""

    snapshots: dict[object, ImportedSnapshot] = field(default_factory=dict)
    skipped: list[SkippedSnapshot] = field(default_factory=list)
    indexes: dict[object, int | None] = field(default_factory=dict)  # None: to be created
    pages: set[object] = field(default_factory=set)
    metadata: set[object] = field(default_factory=set)
    blobs: set[object] = field(default_factory=set)
    rule_sets: dict[object, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.snapshots and not self.rule_sets


def _unused_name(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    taken.add(candidate)
    return candidate


def plan_import(
    conn: Connection, contents: BundleContents, *, every_index: bool = False
) -> ImportPlan:
    """What merging ``contents`` here writes: the snapshots not here yet (by digest) with the
    rows they use, and the rule sets not here; with ``every_index``, every index the bundle
    holds, not only those the new snapshots use."""
    plan = ImportPlan()
    taken = {str(n) for n in conn.execute(select(snapshot.c.name)).scalars()}
    present = {
        str(r.digest): str(r.name)
        for r in conn.execute(
            select(snapshot.c.digest, snapshot.c.name)
            .where(snapshot.c.state == "complete")
            .order_by(snapshot.c.id)
        )
    }
    for bundle_id, row in sorted(contents.snapshots.items()):
        name, digest = str(row["name"]), str(row["digest"])
        if digest in present:
            plan.skipped.append(SkippedSnapshot(name, digest, present[digest]))
            continue
        local = _unused_name(name, taken)
        present[digest] = local
        plan.snapshots[bundle_id] = ImportedSnapshot(local, digest, name)
    for snapshot_id in plan.snapshots:
        for index_id, page_id in contents.links.get(snapshot_id, ()):
            plan.indexes[index_id] = None
            plan.pages.add(page_id)
            plan.blobs.add(contents.page_parts[page_id][1])
        for index_id, sha in contents.metas.get(snapshot_id, ()):
            plan.indexes[index_id] = None
            plan.metadata.add(sha)
    plan.blobs = (plan.blobs | plan.metadata) - {None}
    if every_index:
        for index_id, row in contents.indexes.items():
            if not row.get("removed"):
                plan.indexes.setdefault(index_id, None)
    _plan_indexes(conn, contents, plan)
    known = set(conn.execute(select(rule_set.c.digest)).scalars())
    for bundle_id, row in sorted(contents.rule_sets.items()):
        digest = str(row["digest"])
        if digest not in known:
            known.add(digest)
            plan.rule_sets[bundle_id] = digest
    return plan


def _plan_indexes(conn: Connection, contents: BundleContents, plan: ImportPlan) -> None:
    """Reuse the index with the same name and URL; refuse one whose name is taken here by
    another URL (which index a snapshot's pages came from must not change)."""
    clashes: dict[str, str] = {}
    for bundle_id in plan.indexes:
        row = contents.indexes[bundle_id]
        name, url = row["name"], row["url"]
        same = conn.execute(
            select(index.c.id)
            .where(index.c.name == name, index.c.url == url)
            .order_by(index.c.removed, index.c.id)
        ).scalar()
        if same is not None:
            plan.indexes[bundle_id] = int(same)
            continue
        other = conn.execute(
            select(index.c.url).where(index.c.name == name, index.c.removed.is_(False))
        ).scalar()
        if other is not None and not row.get("removed"):
            clashes[str(name)] = f"{name!r} is {url} in the bundle but {other} here"
    if clashes:
        first = min(clashes)
        raise BundleError(
            f"index names clash: {'; '.join(clashes[n] for n in sorted(clashes))}",
            hint=f"remove the local index with `mirror index remove {first}` (its snapshots "
            "stay readable), or add it again under another name, then import again",
        )


class RowMerger:
    """Writes a bundle's rows as planned, section by section, in the caller's transaction.
    Call :meth:`flush` at the end of each section and :meth:`finish` after the last."""

    BATCH = 1000

    def __init__(self, conn: Connection, plan: ImportPlan) -> None:
        self.conn = conn
        self.plan = plan
        self.ids: dict[str, dict[object, int]] = {t.name: {} for t in TABLES}
        self.new: dict[str, set[object]] = {t.name: set() for t in TABLES}
        self.added: Counter[str] = Counter()
        self.created_indexes: list[str] = []
        self._batch: list[Values] = []
        self._created: dict[tuple[object, object], int] = {}

    def add(self, table: Table, row: Values, data: bytes | None) -> None:
        if table is index:
            if row["id"] in self.plan.indexes:
                self._batch.append(row)  # created in priority order, when the section ends
        elif table is blob or table is metadata:
            sha = row["sha256"]
            wanted = self.plan.blobs if table is blob else self.plan.metadata
            if sha in wanted and not self._exists(table, sha):
                if data is not None:
                    put_blob(self.conn, data, str(sha))
                    self.added[table.name] += 1
                else:
                    self._insert(table, row)
        elif table is page:
            if row["id"] in self.plan.pages:
                self._page(row)
        elif table is snapshot:
            planned = self.plan.snapshots.get(row["id"])
            if planned is not None:
                self._insert(table, {**row, "name": planned.name})
        elif table is rule_set:
            if row["id"] in self.plan.rule_sets:
                self._insert(table, row)
        elif row[_OWNER[table.name]] in self.new[references(table)[_OWNER[table.name]]]:
            self._batch.append(self._local(table, row))
            if len(self._batch) >= self.BATCH:
                self.flush(table)

    def flush(self, table: Table) -> None:
        batch, self._batch = self._batch, []
        if table is index:
            for row in sorted(batch, key=lambda r: sort_key((r["priority"], r["id"]))):
                self._index(row)
        elif batch:
            insert_rows(self.conn, table, batch)
            self.added[table.name] += len(batch)

    def _exists(self, table: Table, sha: object) -> bool:
        found = self.conn.execute(select(table.c.sha256).where(table.c.sha256 == sha))
        return found.first() is not None

    def _local(self, table: Table, row: Values) -> Values:
        """The row with references rewritten to local ids and its bundle id left out."""
        out = {k: v for k, v in row.items() if k != "id" or table.name not in _NUMBERED}
        for column, target in references(table).items():
            if target in _NUMBERED and out.get(column) is not None:
                out[column] = self.ids[target][out[column]]
        return out

    def _insert(self, table: Table, row: Values) -> int:
        result = self.conn.execute(table.insert().values(**self._local(table, row)))
        self.added[table.name] += 1
        if table.name not in _NUMBERED:
            return 0
        key = result.inserted_primary_key
        assert key is not None
        self.ids[table.name][row["id"]] = int(key[0])
        self.new[table.name].add(row["id"])
        return int(key[0])

    def _index(self, row: Values) -> None:
        """Reuse the planned index, or create it after the ones here (keeping the bundle's
        order); the default index stays the one here, if there is one."""
        key = (row["name"], row["url"])
        local = self.plan.indexes[row["id"]]
        if local is None:
            local = self._created.get(key)  # the same index twice (removed, added again)
        if local is None:
            priority = self.conn.execute(select(func.max(index.c.priority))).scalar() or 0
            has_default = self.conn.execute(
                select(index.c.id).where(index.c.is_default.is_(True), index.c.removed.is_(False))
            ).first()
            default = bool(row.get("is_default")) and not row.get("removed") and not has_default
            values = {**row, "priority": int(priority) + 1, "is_default": default}
            local = self._created[key] = self._insert(index, values)
            self.created_indexes.append(str(row["name"]))
        self.ids["index"][row["id"]] = local

    def _page(self, row: Values) -> None:
        local = self._local(page, row)
        existing = self.conn.execute(
            select(page.c.id).where(
                page.c.index_id == local["index_id"],
                page.c.project == local["project"],
                page.c.digest == local["digest"],
            )
        ).scalar()
        if existing is None:
            self._insert(page, row)
        else:
            self.ids["page"][row["id"]] = int(existing)

    def finish(self) -> None:
        """Each new page's listing is computed from its files; each new snapshot's content
        digest, computed here as the writer computes it, must be the one it was exported with."""
        fill_listings(self.conn, [self.ids["page"][bundle_id] for bundle_id in self.new["page"]])
        for bundle_id, planned in self.plan.snapshots.items():
            digest = content_digest(self.conn, self.ids["snapshot"][bundle_id])
            if digest != planned.digest:
                raise BundleError(
                    f"snapshot {planned.bundle_name!r} does not match its digest "
                    f"({planned.digest[:12]} in the bundle, {digest[:12]} from its rows)",
                    hint="export it again; the database it came from may need `mirror db check`",
                )
