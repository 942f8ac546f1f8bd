"""Domain errors of the database layer, rendered by the command-line edge."""

from __future__ import annotations

__all__ = ["DatabaseError", "SnapshotIncomplete", "SneakernetError", "UnknownSnapshot"]


class SneakernetError(Exception):
    """An error a user can act on: a message and a hint, rendered as ``error:`` / ``hint:``.

    ``exit_code`` follows DESIGN.md: 1 no solution, 2 usage or input error, 3 network or
    index error, 4 the snapshot lacks data the command needs.
    """

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class DatabaseError(SneakernetError):
    """The database file is missing, foreign, damaged, or of an unknown schema."""


class UnknownSnapshot(DatabaseError):
    """No complete snapshot answers to the name, ``latest`` or digest prefix given."""


class SnapshotIncomplete(SneakernetError):
    """The snapshot lacks data the command needs (a project never synced, core metadata not
    fetched): answering anyway could give a different answer than the indexes would have."""

    exit_code = 4
