"""File rows: a parsed ``DistFile`` ↔ a ``file`` table row."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from db.canonical import canonical_json, stored_hashes
from db.records import DistFile

if TYPE_CHECKING:  # the resolver imports this module; it must not load SQLAlchemy
    from sqlalchemy import RowMapping

__all__ = ["dist_from_row", "file_row", "stored_hashes"]


def _other_hashes(dist: DistFile) -> str | None:
    others = {algo: digest for algo, digest in dist.hashes if algo != "sha256"}
    return canonical_json(others) if others else None


def _core_metadata_json(hashes: tuple[tuple[str, str], ...] | None) -> str | None:
    if hashes is None:
        return None
    if len(hashes) == 1 and hashes[0][0] == "sha256" and hashes[0][1].isalnum():
        return f'{{"sha256":"{hashes[0][1]}"}}'  # the common case, what canonical_json gives
    return canonical_json(dict(hashes))


def file_row(page_id: int, position: int, dist: DistFile) -> dict[str, object]:
    return {
        "page_id": page_id,
        "position": position,
        "filename": dist.filename,
        "url": dist.url,
        "project": dist.project,
        "version": dist.version,
        "version_valid": dist.version_valid,
        "is_wheel": dist.is_wheel,
        "tags": dist.tags,
        "requires_python": dist.requires_python,
        "yanked": dist.yanked,
        "yanked_reason": dist.yanked_reason,
        "upload_time": dist.upload_time,
        "size": dist.size,
        "sha256": dist.sha256,
        "hashes": _other_hashes(dist),
        "core_metadata": _core_metadata_json(dist.core_metadata),
        "provenance": dist.provenance,
    }


def dist_from_row(r: RowMapping) -> DistFile:
    core = r["core_metadata"]
    return DistFile(
        filename=r["filename"],
        url=r["url"],
        project=r["project"],
        version=r["version"],
        version_valid=bool(r["version_valid"]),
        is_wheel=bool(r["is_wheel"]),
        tags=r["tags"],
        hashes=stored_hashes(r["sha256"], r["hashes"]),
        requires_python=r["requires_python"],
        yanked=bool(r["yanked"]),
        yanked_reason=r["yanked_reason"],
        upload_time=r["upload_time"],
        size=r["size"],
        core_metadata=None if core is None else tuple(sorted(json.loads(core).items())),
        provenance=r["provenance"],
    )
