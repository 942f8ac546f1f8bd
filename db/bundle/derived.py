"""What an import computes rather than reads from a bundle (:data:`db.bundle.rows.DERIVED`):
each new page's version listing (db/version_listing.py), from the file rows just merged."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, select, update

from db.schema import file, page
from db.version_listing import listing_json, listing_of, listings_by_page

__all__ = ["fill_listings"]

# Pages per round trip: their files are read, grouped and written back together.
_PAGES = 500


def fill_listings(conn: Connection, page_ids: Sequence[int]) -> None:
    """Store the listing of each of ``page_ids``, whose files the first reading checked are
    numbered 0, 1, … in listing order (:class:`db.bundle.contents.BundleContents`)."""
    ordered = sorted(page_ids)
    store = update(page).where(page.c.id == bindparam("page")).values(listing=bindparam("text"))
    empty = listing_json(listing_of(()))
    for start in range(0, len(ordered), _PAGES):
        chunk = ordered[start : start + _PAGES]
        rows = conn.execute(
            select(file.c.page_id, file.c.position, file.c.version, file.c.version_valid)
            .where(file.c.page_id.in_(chunk))
            .order_by(file.c.page_id, file.c.position, file.c.filename)
        ).all()
        texts = dict.fromkeys(chunk, empty)
        for page_id, _, listing in listings_by_page(rows):
            texts[page_id] = listing_json(listing)
        conn.execute(store, [{"page": p, "text": t} for p, t in texts.items()])
