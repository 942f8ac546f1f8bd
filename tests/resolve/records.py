"""Snapshot rows built in memory, for tests that hand a provider a reader of their own."""

from __future__ import annotations

import hashlib

from db.read.snapshot_reader import FileMetadata, FileRecord


def pure_wheel(project: str, version: str, requires: list[str], index: str = "") -> FileRecord:
    """A ``py3-none-any`` wheel of ``project`` ``version`` with PEP 658 metadata requiring
    ``requires``; ``index`` keeps the URL and hash of one index's copy apart from another's."""
    filename = f"{project}-{version}-py3-none-any.whl"
    where = f"{index}/{filename}" if index else filename
    return FileRecord(
        filename=filename,
        url=f"http://127.0.0.1/{where}",
        version=version,
        version_valid=True,
        is_wheel=True,
        tags="py3-none-any",
        requires_python=None,
        yanked=False,
        yanked_reason=None,
        upload_time="2024-01-01T00:00:00.000000Z",
        size=1,
        sha256=hashlib.sha256(where.encode()).hexdigest(),
        hashes=(),
        metadata=FileMetadata("pep658", True, tuple(requires)),
    )
