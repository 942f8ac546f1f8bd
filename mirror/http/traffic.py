"""Requests sent and body bytes received, per index, for the sync's summary.

A request is counted where the client sends it (every attempt of a retry, every range read,
HEAD and metadata file), and belongs to the index a source made it for, not to the host it
went to: distribution files often live on another host (a CDN) and a page may be redirected,
yet the cost is still that index's. The source says so with :meth:`Traffic.on_behalf_of`
around its work; the name travels in a :class:`contextvars.ContextVar`, which every task
started inside copies, so concurrent fetches for different indexes never mix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["Traffic"]

_INDEX: ContextVar[str | None] = ContextVar("sneakernet_index", default=None)


class Traffic:
    """Per index name: ``requests`` sent and ``bytes`` of (decoded) bodies received.
    Requests made outside :meth:`on_behalf_of` (``mirror index add``'s probe) are not kept."""

    def __init__(self) -> None:
        self._requests: Counter[str] = Counter()
        self._bytes: Counter[str] = Counter()

    @contextmanager
    def on_behalf_of(self, index: str) -> Iterator[None]:
        token = _INDEX.set(index)
        try:
            yield
        finally:
            _INDEX.reset(token)

    def sent(self) -> None:
        index = _INDEX.get()
        if index is not None:
            self._requests[index] += 1

    def received(self, nbytes: int) -> None:
        index = _INDEX.get()
        if index is not None:
            self._bytes[index] += nbytes

    def as_json(self) -> dict[str, dict[str, int]]:
        return {
            name: {"requests": self._requests[name], "bytes": self._bytes[name]}
            for name in sorted(self._requests)
        }
