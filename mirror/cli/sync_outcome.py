"""How a finished `mirror sync` ends: the exit code its outcome calls for, as an error that says
why and what to do. The snapshot is complete whatever this decides (data is data).

- exit 3 when an index refused every page with 401 (its credentials), or some page or core
  metadata file failed (the next sync retries them);
- with ``--closure``, exit 4 when the resolution still lacks what the indexes did not give,
  exit 1 when the requirements have no solution for some target; 0 only when every target
  resolves.
"""

from __future__ import annotations

from typing import Any

from db.errors import SnapshotIncomplete, SneakernetError
from mirror.sync.syncer import SyncStats

__all__ = ["ClosureUnresolved", "SyncFailed", "check_outcome"]


class SyncFailed(SneakernetError):
    exit_code = 3


class ClosureUnresolved(SneakernetError):
    """The snapshot is complete, but the requirements do not resolve for some target."""

    exit_code = 1


_CREDENTIALS_HINT = (
    "give the index its credentials: in its URL (`https://user:token@host/simple/`), in "
    "netrc (`machine host`), or as SNEAKERNET_INDEX_<NAME>_USERNAME / _PASSWORD; then run "
    "the same `mirror sync` again"
)


def _check_credentials(stats: SyncStats) -> None:
    """An index that answered 401 to every page refused us, whatever the projects: exit 3
    with the index named (a 403 is not this: some indexes answer it for projects they lack)."""
    refused = sorted(
        name for name, count in stats.unauthorized.items() if count == stats.pages_asked[name]
    )
    if refused:
        raise SyncFailed(
            f"index {', '.join(refused)} answered 401 Unauthorized to every page asked: "
            "the credentials are missing or wrong",
            hint=_CREDENTIALS_HINT,
        )


def check_outcome(stats: SyncStats) -> None:
    """Raise the error the sync's outcome calls for, the most basic first."""
    _check_credentials(stats)
    _check_failures(stats)
    _check_closure(stats.closure)


def _check_failures(stats: SyncStats) -> None:
    if stats.failures:
        shown = "\n  ".join(sorted(stats.failures)[:20])
        raise SyncFailed(
            f"{len(stats.failures)} page(s) or metadata file(s) failed; the snapshot records "
            f"them as failed:\n  {shown}",
            hint="run the same `mirror sync` again to retry them; `resolve` never takes what "
            "an index failed to give for absent",
        )


def _check_closure(closure: dict[str, Any] | None) -> None:
    """A closure sync succeeds only when the resolution it ran succeeds for every target: the
    snapshot is complete either way (data is data), but exit 4 says what the indexes could
    not give, exit 1 that the requirements have no solution."""
    if closure is None:
        return
    missing: list[str] = closure["still_missing"]
    if missing:
        raise SnapshotIncomplete(
            "the snapshot is complete, but the resolution still lacks what the indexes did not "
            f"give: {', '.join(missing[:10])}{' …' if len(missing) > 10 else ''}",
            hint="see the failed pages above, if any, and run the same `mirror sync` again; "
            "a project no index has cannot be resolved",
        )
    unresolved: dict[str, str] = closure["unresolved"]
    if unresolved:
        lines = "\n  ".join(f"{target}: {first}" for target, first in unresolved.items())
        raise ClosureUnresolved(
            f"the snapshot is complete, but the requirements have no solution for "
            f"{len(unresolved)} target(s):\n  {lines}",
            hint="`resolve` with the same requirements and target explains the failure in full",
        )
