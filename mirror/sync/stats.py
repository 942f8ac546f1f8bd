"""What a sync counts and reports as it goes: its statistics (the summary, text and JSON) and
the progress hooks a display may implement (no-op by default, the reporter pattern)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from mirror.sync.warning_summary import kind_counts

__all__ = ["PAGE_OUTCOMES", "Progress", "SyncStats"]

# What became of a page: parsed anew, the same body again (not parsed), 304, already in the
# resumed snapshot, failed, or refused as stale (a lower serial than the stored one).
PAGE_OUTCOMES = ("fetched", "unchanged", "not_modified", "resumed", "failed", "stale")


class Progress:
    """No-op progress hooks (reporter pattern); the CLI supplies a live one on a TTY."""

    def project_queued(self, total: int) -> None:
        pass

    def project_done(self) -> None:
        """One more project has its page from every index."""

    def page_done(self, outcome: str) -> None:
        pass

    def metadata_done(self, outcome: str, nbytes: int) -> None:
        pass


@dataclass(slots=True)
class SyncStats:
    projects: int = 0
    pages_fetched: int = 0
    pages_unchanged: int = 0
    pages_not_modified: int = 0
    pages_resumed: int = 0
    pages_failed: int = 0
    pages_stale: int = 0
    metadata_fetched: int = 0
    metadata_known: int = 0
    metadata_failed: int = 0
    needs_build: int = 0
    built: int = 0
    # One line per sdist whose metadata build failed or timed out (recorded as needs-build).
    build_failures: list[str] = field(default_factory=list)
    bytes_fetched: int = 0
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Pages asked of each index, and how many of them answered 401: every one means the
    # credentials are wrong or missing, which must not pass for "not here" (cli/sync.py).
    pages_asked: dict[str, int] = field(default_factory=dict)
    unauthorized: dict[str, int] = field(default_factory=dict)
    # Per index: pages answered 403 (not "not here" under its policy), and failed pages.
    forbidden: dict[str, int] = field(default_factory=dict)
    # Projects every index said it does not have (404 or its policy's other statuses).
    not_found: list[str] = field(default_factory=list)
    # What the closure resolution added, and whether each target resolves
    # (mirror.sync.resolved_closure).
    closure: dict[str, object] | None = None
    # Per index name: the page outcomes, and the requests and body bytes the HTTP client
    # sent and received on its behalf (mirror.http.traffic; none for a local index).
    index_pages: dict[str, Counter[str]] = field(default_factory=dict)
    traffic: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @property
    def failed_pages(self) -> dict[str, int]:
        """Failed pages per index, for the indexes that had any."""
        return {name: c["failed"] for name, c in sorted(self.index_pages.items()) if c["failed"]}

    def count_page(self, index: str, outcome: str, delta: int = 1) -> None:
        """A page's outcome (one of PAGE_OUTCOMES), in the totals and in its index's."""
        total = f"pages_{outcome}"
        setattr(self, total, getattr(self, total) + delta)
        self.index_pages.setdefault(index, Counter())[outcome] += delta

    def count_metadata(self, source: str, filename: str, index: str, error: str | None) -> None:
        """One file's core metadata recorded, by where it came from (or why it did not)."""
        if source == "failed":
            self.metadata_failed += 1
            self.failures.append(f"{filename} on {index}: metadata: {error}")
        elif source == "invalid":
            self.metadata_failed += 1
            self.warnings.append(f"{filename}: {error}")
        elif source == "needs-build":
            self.needs_build += 1
        elif source == "built":
            self.built += 1
        else:
            self.metadata_fetched += 1

    def as_json(self) -> dict[str, object]:
        extra: dict[str, object] = {} if self.closure is None else {"closure": self.closure}
        indexes = {
            name: {
                "requests": self.traffic.get(name, {}).get("requests", 0),
                "bytes": self.traffic.get(name, {}).get("bytes", 0),
                "pages": {k: self.index_pages.get(name, Counter())[k] for k in PAGE_OUTCOMES},
            }
            for name in sorted(self.index_pages.keys() | self.traffic.keys())
        }
        return extra | {
            "projects": self.projects,
            "pages": {k: getattr(self, f"pages_{k}") for k in PAGE_OUTCOMES},
            "metadata": {
                "fetched": self.metadata_fetched,
                "already_known": self.metadata_known,
                "failed": self.metadata_failed,
                "needs_build": self.needs_build,
                "built": self.built,
                "build_failed": len(self.build_failures),
            },
            "build_failures": sorted(self.build_failures),
            "bytes_fetched": self.bytes_fetched,
            "failures": sorted(self.failures),
            "warnings": sorted(self.warnings),
            "warning_kinds": kind_counts(self.warnings),
            "unauthorized": dict(sorted(self.unauthorized.items())),
            "forbidden": dict(sorted(self.forbidden.items())),
            "failed_pages": self.failed_pages,
            "not_found": len(self.not_found),
            "not_found_projects": sorted(self.not_found),
            "indexes": indexes,
        }
