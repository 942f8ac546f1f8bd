"""A live progress display for `mirror sync` on a terminal (rich); nothing otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mirror.sync.syncer import Progress

__all__ = ["make_progress"]


class _RichProgress(Progress):
    def __init__(self) -> None:
        # rich costs a tenth of a second to import: only a terminal that shows a bar pays it.
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import (
            Progress as RichBar,
        )

        self._bar = RichBar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._projects = self._bar.add_task("projects", total=0, detail="")
        self._metadata = self._bar.add_task("metadata", total=None, detail="")
        self._pages = 0
        self._bytes = 0

    def __enter__(self) -> _RichProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def project_queued(self, total: int) -> None:
        self._bar.update(self._projects, total=total)

    def project_done(self) -> None:
        self._bar.update(self._projects, advance=1)

    def page_done(self, outcome: str) -> None:
        self._pages += 1
        self._bar.update(self._projects, detail=f"{self._pages} pages")

    def metadata_done(self, outcome: str, nbytes: int) -> None:
        self._bytes += nbytes
        self._bar.update(self._metadata, advance=1, detail=f"{self._bytes / 1e6:.1f} MB")


@contextmanager
def make_progress(live: bool) -> Iterator[Progress]:
    if not live:
        yield Progress()
        return
    with _RichProgress() as progress:
        yield progress
