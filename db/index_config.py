"""A configured index and its policy, and the one rule for what "not here" means."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ALWAYS_NOT_HERE", "IndexConfig", "means_not_here", "not_here_statuses", "not_here_text"]

#: Statuses that always mean "this index does not have the project" (MIRROR.md, "Statuses are
#: data"; SEMANTICS.md §1): 404 Not Found, and 410 Gone (RFC 9110 §15.5.11: removed for good).
#: PEP 503 defines the pages an index serves, not the status of a missing one, so an index's
#: policy may add others (403 on indexes that answer so, like PyTorch's).
ALWAYS_NOT_HERE = (404, 410)


def means_not_here(status: int, not_here: Iterable[int] = ()) -> bool:
    """Whether an index answering ``status`` says it does not have the project, given the
    extra statuses its policy lists; every layer asks this one function."""
    return status in ALWAYS_NOT_HERE or status in not_here


def not_here_statuses(text: str | None) -> tuple[int, ...]:
    """The stored form of a not-here list (``"401,403"``) as sorted statuses."""
    return tuple(sorted({int(s) for s in (text or "").split(",") if s.strip()}))


def not_here_text(statuses: Iterable[int]) -> str:
    """The stored form of a not-here list: sorted, comma-separated, no duplicates."""
    return ",".join(str(s) for s in sorted(set(statuses)))


@dataclass(frozen=True, slots=True)
class IndexConfig:
    """A configured index and its policy (SEMANTICS.md §1); ``not_here`` lists the extra HTTP
    statuses meaning "this index does not have the project"."""

    id: int
    name: str
    url: str
    format: str
    priority: int
    is_default: bool
    explicit: bool
    not_here: tuple[int, ...]
    exclude_newer: str | None

    def means_not_here(self, status: int) -> bool:
        return means_not_here(status, self.not_here)

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "url": self.url,
            "format": self.format,
            "priority": self.priority,
            "default": self.is_default,
            "explicit": self.explicit,
            "not_here": list(self.not_here),
            "exclude_newer": self.exclude_newer,
        }
