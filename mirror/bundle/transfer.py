"""`mirror export` and `mirror import`: complete snapshots carried as one verified file.

Export writes the snapshots' rows (:mod:`db.bundle.rows`) into a bundle file
(:mod:`mirror.bundle.file_format`). Import checks the whole file first — its digest, then every
row — and only then merges it (:mod:`db.bundle.merge`) in one transaction, which also
recomputes each snapshot's content digest; on any failure the database is left as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from db.bundle.contents import BundleContents
from db.bundle.merge import ImportedSnapshot, RowMerger, SkippedSnapshot, plan_import
from db.bundle.rows import TABLES, BundleError, Section, export_sections
from db.paths import HEAD_REVISION, KNOWN_REVISIONS
from db.rules.store import current_digest, record_rule_set, rule_document
from db.snapshot_queries import find_snapshot
from mirror.bundle.file_format import BundleFile, open_bundle, write_bundle
from resolve.limits import Limits

__all__ = [
    "BundleError",
    "ExportResult",
    "ImportResult",
    "VerifiedBundle",
    "export_bundle",
    "import_bundle",
    "verify_bundle",
]

_TABLES = {table.name: table for table in TABLES}
# What the manifest says of each snapshot: its own stored fields, nothing of the export.
_SNAPSHOT_FIELDS = ("name", "digest", "created_at", "completed_at")


def _account(
    snapshots: Iterable[Mapping[str, object]], rule_sets: Iterable[Mapping[str, object]]
) -> dict[str, Any]:
    """The manifest's account of the snapshots (in bundle order) and rule sets a bundle holds."""
    return {
        "rule_sets": sorted(str(r["digest"]) for r in rule_sets),
        "snapshots": [{f: r.get(f) for f in _SNAPSHOT_FIELDS} for r in snapshots],
    }


@dataclass(frozen=True, slots=True)
class ExportResult:
    file: BundleFile
    manifest: dict[str, Any]

    def as_json(self) -> dict[str, object]:
        return {
            "file": str(self.file.path),
            "sha256": self.file.sha256,
            "bytes": self.file.size,
            "payload_sha256": self.manifest["payload"]["sha256"],
            "rows": self.manifest["rows"],
            "rule_sets": self.manifest["rule_sets"],
            "snapshots": self.manifest["snapshots"],
        }


def export_bundle(engine: Engine, refs: Sequence[str], path: Path) -> ExportResult:
    """Write the complete snapshots ``refs`` (names, ``latest`` or digest prefixes) to
    ``path``."""
    kept: dict[str, list[dict[str, object]]] = {"snapshot": [], "rule_set": []}

    def keep(sections: Iterable[Section]) -> Iterator[Section]:
        for section in sections:
            if section.table in kept:
                kept[section.table] = [
                    dict(zip(section.columns, r, strict=True)) for r in section.rows
                ]
            yield section

    with engine.connect() as conn:
        # The rules in force travel as such: a fresh database adopts them on import, so that
        # resolving there gives the connected side's lock byte for byte.
        rules = current_digest(conn)

        def describe() -> dict[str, object]:
            account = _account(kept["snapshot"], kept["rule_set"])
            return {"schema": HEAD_REVISION, "current_rules": rules, **account}

        ids = sorted({find_snapshot(conn, ref).id for ref in refs})
        written, manifest = write_bundle(path, keep(export_sections(conn, ids)), describe)
    return ExportResult(written, manifest)


@dataclass(frozen=True, slots=True)
class VerifiedBundle:
    """A bundle file whose digest, manifest and rows have all been checked."""

    file: BundleFile
    manifest: dict[str, Any]
    contents: BundleContents
    limits: Limits  # what it was read within, and is read within again to import it


def _cannot_import(path: Path, exc: BundleError) -> BundleError:
    return BundleError(
        f"cannot import {path}: {exc.message}",
        hint=exc.hint or "export it again with this version of sneakernet",
    )


def verify_bundle(path: Path, limits: Limits) -> VerifiedBundle:
    """Read ``path`` once, within ``limits``, checking everything that can be checked without
    a database."""
    try:
        bundle = open_bundle(path)
        contents = BundleContents()
        with bundle.read(limits) as stream:
            manifest = stream.manifest
            if manifest.get("schema") not in KNOWN_REVISIONS:
                raise BundleError(
                    f"it was exported with schema revision {manifest.get('schema')!r}, "
                    "newer than this version of sneakernet knows",
                    hint="upgrade sneakernet, then import it again",
                )
            for section in stream.sections():
                table = contents.section(section.table, section.columns, section.raw_length)
                for values, data in section.records():
                    contents.add(table, values, data)
            contents.finish()
        snapshots = [contents.snapshots[k] for k in sorted(contents.snapshots)]
        account = _account(snapshots, contents.rule_sets.values())
        if account != {key: manifest.get(key) for key in account}:
            raise BundleError("its manifest does not list the snapshots and rule sets it holds")
    except BundleError as exc:
        raise _cannot_import(path, exc) from exc
    return VerifiedBundle(bundle, manifest, contents, limits)


@dataclass(slots=True)
class ImportResult:
    file: BundleFile
    imported: list[ImportedSnapshot] = field(default_factory=list)
    skipped: list[SkippedSnapshot] = field(default_factory=list)
    indexes_created: list[str] = field(default_factory=list)
    rule_sets_added: list[str] = field(default_factory=list)
    added: dict[str, int] = field(default_factory=dict)
    # The bundle's current rules, made current here because this database had none.
    rules_adopted: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.imported or self.rule_sets_added)

    def as_json(self) -> dict[str, object]:
        return {
            "file": str(self.file.path),
            "sha256": self.file.sha256,
            "changed": self.changed,
            "imported": [
                {"name": s.name, "digest": s.digest, "bundle_name": s.bundle_name}
                for s in self.imported
            ],
            "skipped": [
                {"name": s.name, "digest": s.digest, "existing": s.existing} for s in self.skipped
            ],
            "indexes_created": self.indexes_created,
            "rule_sets_added": self.rule_sets_added,
            "rules_adopted": self.rules_adopted,
            "added": dict(sorted(self.added.items())),
        }


def _adopt_rules(conn: Connection, bundle: VerifiedBundle) -> str | None:
    """A database with no rules of its own takes the rules that were current where the
    bundle was exported; one with its own keeps them (the bundle's stay readable by digest:
    ``resolve --rules DIGEST``)."""
    wanted = bundle.manifest.get("current_rules")
    if not isinstance(wanted, str) or current_digest(conn) is not None:
        return None
    document = rule_document(conn, wanted)
    record_rule_set(conn, document, wanted, f"rules current in {bundle.file.path.name}")
    return wanted


def import_bundle(engine: Engine, bundle: VerifiedBundle) -> ImportResult:
    """Merge a verified bundle into the database, all or nothing."""
    try:
        with engine.begin() as conn:
            plan = plan_import(conn, bundle.contents)
            result = ImportResult(bundle.file, skipped=plan.skipped)
            if plan.empty:
                return result
            merger = RowMerger(conn, plan)
            # Read again: the rows are streamed, never all held. The same manifest, and the
            # payload digest checked again at the end, make it the file that was verified.
            with bundle.file.read(bundle.limits) as stream:
                if stream.manifest != bundle.manifest:
                    raise BundleError("it changed while it was being imported")
                for section in stream.sections():
                    table = _TABLES[section.table]
                    for values, data in section.records():
                        merger.add(table, values, data)
                    merger.flush(table)
            merger.finish()
            adopted = _adopt_rules(conn, bundle)
    except BundleError as exc:
        raise _cannot_import(bundle.file.path, exc) from exc
    result.imported = list(plan.snapshots.values())
    result.indexes_created = merger.created_indexes
    result.rule_sets_added = sorted(plan.rule_sets.values())
    result.added = {t: n for t, n in sorted(merger.added.items()) if n}
    result.rules_adopted = adopted
    return result
