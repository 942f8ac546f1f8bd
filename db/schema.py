"""The snapshot database's tables (SQLAlchemy Core). Schema changes go through alembic only.

Layout, in the order data flows:

- ``index`` — where pages come from, and each index's policy.
- ``blob`` — content-addressed, zstd-compressed raw bytes (project pages, core metadata files).
- ``page`` — one fetched state of (index, project). Immutable and shared by every snapshot that
  saw the same state; ``digest`` identifies the state (caching headers are not part of it).
- ``file`` — the distribution files a page lists, parsed once when the page is stored.
- ``metadata`` — parsed core metadata, stored once per sha256 of the METADATA bytes.
- ``snapshot`` / ``snapshot_page`` / ``snapshot_metadata`` — an immutable set of pages plus the
  core metadata known for their files at that time.
- ``rule_set`` / ``rule`` — index-precedence rules as rows; each rule set is immutable and named
  by its digest (the same rules have one row, however often they become current again).
- ``rule_change`` — the history of the effective rules: one row each time they changed; the
  newest row names the current rule set.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

__all__ = [
    "blob",
    "file",
    "index",
    "metadata",
    "metadata_obj",
    "page",
    "rule",
    "rule_change",
    "rule_set",
    "setting",
    "snapshot",
    "snapshot_metadata",
    "snapshot_page",
]

# Byte counts: a distribution file can pass 2 GiB, PostgreSQL's INTEGER; SQLite's INTEGER holds
# 64 bits already (and keeps its spelling, so existing files match the schema).
Size = BigInteger().with_variant(Integer(), "sqlite")

metadata_obj = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

index = Table(
    "index",
    metadata_obj,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False),
    # Credentials are stripped before a URL is stored (MIRROR.md, "Auth").
    Column("url", String, nullable=False),
    # "simple" (PEP 503/691 index) or "flat" (a directory of distributions, like --find-links).
    Column("format", String, nullable=False, server_default="simple"),
    Column("priority", Integer, nullable=False),
    Column("is_default", Boolean, nullable=False, server_default=false()),
    Column("explicit", Boolean, nullable=False, server_default=false()),
    # Extra HTTP statuses that mean "this index does not have the project", comma-separated.
    # 404 always means that (SEMANTICS.md §1); some indexes answer 403 instead.
    Column("not_here", String, nullable=False, server_default=""),
    # Upload-time cutoff: an ISO 8601 UTC timestamp, "false" to opt out, or NULL (inherit).
    Column("exclude_newer", String),
    Column("created_at", String, nullable=False),
    # Removed indexes keep their row so that earlier snapshots stay readable.
    Column("removed", Boolean, nullable=False, server_default=false()),
    # Partial: a removed index's name may be used again. Each engine gets its own spelling.
    Index(
        "uq_index_active_name",
        "name",
        unique=True,
        sqlite_where=text("removed = 0"),
        postgresql_where=text("NOT removed"),
    ),
)

blob = Table(
    "blob",
    metadata_obj,
    Column("sha256", String(64), primary_key=True),
    Column("size", Size, nullable=False),
    Column("data", LargeBinary, nullable=False),
    # A rowid table on purpose: WITHOUT ROWID tables keep only ~1 KB of a row in the b-tree
    # and spill the rest to overflow pages, which doubled the size of compressed payloads.
)

page = Table(
    "page",
    metadata_obj,
    Column("id", Integer, primary_key=True),
    Column("index_id", Integer, ForeignKey("index.id"), nullable=False),
    Column("project", String, nullable=False),
    # HTTP status of the final reply; 0 when no reply came (connection failure, timeout).
    Column("status", Integer, nullable=False),
    # Why the page failed (5xx after retries, parse error, login page…); NULL when it did not.
    Column("error", Text),
    Column("content_type", String),
    Column("blob_sha256", String(64), ForeignKey("blob.sha256")),
    Column("final_url", String),
    Column("display_name", String),
    Column("api_version", String),
    Column("serial", Integer),
    Column("project_status", String),
    Column("project_status_reason", Text),
    Column("digest", String(64), nullable=False),
    # The files grouped by version, in PEP 440 order (db/version_listing.py); NULL in rows
    # stored before the column existed, grouped on the fly when read.
    Column("listing", Text),
    UniqueConstraint("index_id", "project", "digest"),
)

file = Table(
    "file",
    metadata_obj,
    Column("id", Integer, primary_key=True),
    Column("page_id", Integer, ForeignKey("page.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("filename", String, nullable=False),
    Column("url", String, nullable=False),
    Column("project", String, nullable=False),
    Column("version", String, nullable=False),
    Column("version_valid", Boolean, nullable=False),
    Column("is_wheel", Boolean, nullable=False),
    Column("tags", String, nullable=False),
    Column("requires_python", String),
    Column("yanked", Boolean, nullable=False),
    Column("yanked_reason", Text),
    Column("upload_time", String),
    Column("size", Size),
    Column("sha256", String(64)),
    # The hashes other than sha256 the index gave, as canonical JSON {"algo": "hex"}; NULL
    # when sha256 is all there is (the common case, kept out of every row).
    Column("hashes", String),
    # PEP 658/714: NULL when no .metadata file is offered, else canonical JSON of its hashes.
    Column("core_metadata", String),
    Column("provenance", String),
    # A file is found by its page and position, 0, 1, … in listing order (the reader reads
    # the records of the versions it judges by position: db/version_listing.py).
    Index("ix_file_page_position", "page_id", "position", unique=True),
)

metadata = Table(
    "metadata",
    metadata_obj,
    # sha256 of the METADATA bytes; the bytes themselves are the blob with the same digest.
    Column("sha256", String(64), ForeignKey("blob.sha256"), primary_key=True),
    Column("name", String, nullable=False),
    Column("version", String, nullable=False),
    Column("metadata_version", String, nullable=False),
    Column("requires_dist", Text, nullable=False),  # JSON list of PEP 508 strings
    Column("requires_python", String),
    Column("provides_extra", Text, nullable=False),  # JSON list
    Column("dynamic", Text, nullable=False),  # JSON list
    # Requires-Dist split for the resolver (db.requirement_facts); NULL in rows written before.
    Column("requires_split", Text),
    sqlite_with_rowid=False,
)

snapshot = Table(
    "snapshot",
    metadata_obj,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False, unique=True),
    # building → complete | failed. Readers only ever see complete snapshots.
    Column("state", String, nullable=False),
    Column("created_at", String, nullable=False),
    Column("completed_at", String),
    Column("digest", String(64)),
    # The sync request (projects, requirement files, targets), to resume an interrupted sync.
    Column("plan", Text, nullable=False, server_default="{}"),
    Column("summary", Text, nullable=False, server_default="{}"),
)

snapshot_page = Table(
    "snapshot_page",
    metadata_obj,
    Column("snapshot_id", Integer, ForeignKey("snapshot.id", ondelete="CASCADE"), nullable=False),
    Column("index_id", Integer, ForeignKey("index.id"), nullable=False),
    Column("project", String, nullable=False),
    Column("page_id", Integer, ForeignKey("page.id"), nullable=False),
    # Caching headers as seen by this snapshot's fetch, for the next conditional request.
    Column("etag", String),
    Column("last_modified", String),
    Column("fetched_at", String, nullable=False),
    PrimaryKeyConstraint("snapshot_id", "index_id", "project"),
    Index("ix_snapshot_page_snapshot_id_project", "snapshot_id", "project"),
    Index("ix_snapshot_page_page_id", "page_id"),
)

snapshot_metadata = Table(
    "snapshot_metadata",
    metadata_obj,
    Column("snapshot_id", Integer, nullable=False),
    Column("index_id", Integer, ForeignKey("index.id"), nullable=False),
    Column("filename", String, nullable=False),
    # pep658 | range | download | sdist-static | built, or needs-build | invalid | failed (no
    # metadata).
    Column("source", String, nullable=False),
    Column("metadata_sha256", String(64), ForeignKey("metadata.sha256")),
    Column("error", Text),
    # For source "built": how (PEP 517), as canonical JSON {"backend": "mod:obj", "requires":
    # ["name==version", …]}, the backend and the build requirements installed for it.
    Column("build", Text),
    PrimaryKeyConstraint("snapshot_id", "index_id", "filename"),
    ForeignKeyConstraint(["snapshot_id"], ["snapshot.id"], ondelete="CASCADE"),
    sqlite_with_rowid=False,
)

rule_set = Table(
    "rule_set",
    metadata_obj,
    Column("id", Integer, primary_key=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("created_at", String, nullable=False),
)

rule = Table(
    "rule",
    metadata_obj,
    Column("rule_set_id", Integer, ForeignKey("rule_set.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    # setting | index | pin | prerelease | exclude-newer (db/rule_rows.py has the layout).
    Column("kind", String, nullable=False),
    Column("subject", String, nullable=False),
    # Canonical JSON, so that false, null and strings stay apart.
    Column("value", Text, nullable=False),
    Column("marker", String),
    PrimaryKeyConstraint("rule_set_id", "position"),
)

rule_change = Table(
    "rule_change",
    metadata_obj,
    # Ascending ids are the order of changes; timestamps can tie within a second.
    Column("id", Integer, primary_key=True),
    Column("rule_set_id", Integer, ForeignKey("rule_set.id"), nullable=False),
    Column("created_at", String, nullable=False),
    # One line saying what changed, for `mirror rules history`.
    Column("summary", Text, nullable=False),
)

setting = Table(
    "setting",
    metadata_obj,
    Column("key", String, primary_key=True),
    Column("value", Text, nullable=False),
)
