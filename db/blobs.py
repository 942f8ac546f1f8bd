"""Content-addressed payloads: sha256 of the raw bytes → zstd-compressed bytes."""

from __future__ import annotations

import hashlib
import threading

import zstandard
from sqlalchemy import Connection, select

from db.errors import DatabaseError
from db.schema import blob
from db.write.bulk import insert_rows

__all__ = ["blob_row", "get_blob", "put_blob", "sha256_hex"]

# Level 1, measured: on 70 MB of real project pages and core metadata it stored 22.8% of the
# raw bytes against 23.5% at level 9 (hash-dense JSON gains nothing from the slower match
# search) and took a tenth of the time, 0.19 ms against 1.9 ms a payload.
_LEVEL = 1
_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    comp: zstandard.ZstdCompressor | None = getattr(_local, "compressor", None)
    if comp is None:
        comp = _local.compressor = zstandard.ZstdCompressor(level=_LEVEL)
    return comp


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_row(data: bytes, digest: str | None = None) -> dict[str, object]:
    """The ``blob`` row that stores ``data``: its sha256, size and compressed bytes."""
    return {
        "sha256": digest or sha256_hex(data),
        "size": len(data),
        "data": _compressor().compress(data),
    }


def put_blob(conn: Connection, data: bytes, digest: str | None = None) -> str:
    """Store ``data`` once; return its sha256. Storing the same bytes again is a no-op."""
    row = blob_row(data, digest)
    insert_rows(conn, blob, [row], conflict_keys=("sha256",))
    return str(row["sha256"])


def get_blob(conn: Connection, digest: str) -> bytes:
    row = conn.execute(select(blob.c.data).where(blob.c.sha256 == digest)).first()
    if row is None:
        raise DatabaseError(f"payload {digest} is missing", hint="run `mirror db check`")
    try:
        data = zstandard.ZstdDecompressor().decompress(row.data)
    except zstandard.ZstdError as exc:  # damaged bytes no longer form a zstd frame
        raise DatabaseError(
            f"payload {digest} is corrupt: {exc}", hint="run `mirror db check`"
        ) from exc
    if sha256_hex(data) != digest:
        raise DatabaseError(f"payload {digest} is corrupt", hint="run `mirror db check`")
    return data
