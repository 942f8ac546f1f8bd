"""Page listings (db/version_listing.py) as rows: computed for pages whose files were merged
from a bundle, which never carries them (:data:`db.bundle.rows.DERIVED`), and checked against
the files by ``mirror db check``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, func, select, update

from db.schema import file, page
from db.version_listing import listing_json, listing_of, listings_by_page

__all__ = ["fill_listings", "listing_problems"]

# Pages per round trip: their files are read, grouped and written back together.
_PAGES = 500


def _listings(conn: Connection, page_ids: Sequence[int]) -> dict[int, tuple[list[int], str]]:
    """Each page's stored file positions, in listing order, and the listing they make."""
    rows = conn.execute(
        select(file.c.page_id, file.c.position, file.c.version, file.c.version_valid)
        .where(file.c.page_id.in_(page_ids))
        .order_by(file.c.page_id, file.c.position, file.c.filename)
    ).all()
    empty: tuple[list[int], str] = ([], listing_json(listing_of(())))
    found = dict.fromkeys(page_ids, empty)
    for page_id, positions, listing in listings_by_page(rows):
        found[page_id] = (positions, listing_json(listing))
    return found


def fill_listings(conn: Connection, page_ids: Sequence[int]) -> None:
    """Store the listing of each of ``page_ids``, whose files the first reading checked are
    numbered 0, 1, … in listing order (:class:`db.bundle.contents.BundleContents`)."""
    ordered = sorted(page_ids)
    store = update(page).where(page.c.id == bindparam("page")).values(listing=bindparam("text"))
    for start in range(0, len(ordered), _PAGES):
        found = _listings(conn, ordered[start : start + _PAGES])
        conn.execute(store, [{"page": p, "text": text} for p, (_, text) in found.items()])


def listing_problems(conn: Connection) -> list[str]:
    """A line for each page whose files are not numbered 0, 1, … or whose stored listing is
    not the one its files make (a page without one is grouped when read, and passes)."""
    problems: list[str] = []
    highest = conn.execute(select(func.max(page.c.id))).scalar() or 0
    for low in range(0, highest + 1, _PAGES):
        stored = conn.execute(
            select(page.c.id, page.c.project, page.c.listing).where(
                page.c.id >= low, page.c.id < low + _PAGES
            )
        ).all()
        found = _listings(conn, [row.id for row in stored])
        for row in stored:
            positions, listing = found[row.id]
            shown = f"page {row.id} ({row.project})"
            if positions != list(range(len(positions))):
                problems.append(f"{shown}: its files are not numbered 0, 1, …")
            elif row.listing is not None and row.listing != listing:
                problems.append(f"{shown}: its version listing does not match its files")
    return problems
