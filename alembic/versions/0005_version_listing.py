"""version listing: each page's files grouped by version in PEP 440 order, for the resolver,
filled for the pages already stored; a page's files found by their position

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.version_listing import listing_json, listing_of, listings_by_page

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Pages per round trip: their files are read, grouped and written back together.
_PAGES = 2000


def upgrade() -> None:
    op.add_column('page', sa.Column('listing', sa.Text(), nullable=True))
    conn = op.get_bind()
    highest = conn.execute(sa.text('SELECT max(id) FROM page')).scalar() or 0
    files = sa.text(
        'SELECT page_id, position, version, version_valid FROM file '
        'WHERE page_id >= :low AND page_id < :high ORDER BY page_id, position, filename'
    )
    update = sa.text('UPDATE page SET listing = :listing WHERE id = :id')
    renumber = sa.text(
        'UPDATE file SET position = :new WHERE page_id = :page AND position = :old '
        'AND filename = :filename'
    )
    for low in range(0, highest + 1, _PAGES):
        rows = conn.execute(files, {'low': low, 'high': low + _PAGES}).all()
        updates = []
        for page_id, positions, listing in listings_by_page(rows):
            if positions != list(range(len(positions))):
                _renumber(conn, renumber, page_id)
            updates.append({'id': page_id, 'listing': listing_json(listing)})
        if updates:
            conn.execute(update, updates)
    # Pages that list no file (an error, a 404, an empty project).
    empty = listing_json(listing_of(()))
    conn.execute(sa.text('UPDATE page SET listing = :e WHERE listing IS NULL'), {'e': empty})
    op.create_index('ix_file_page_position', 'file', ['page_id', 'position'], unique=True)
    op.drop_index('ix_file_page_id', table_name='file')


def _renumber(conn: sa.Connection, renumber: sa.TextClause, page_id: int) -> None:
    """Number a page's files 0, 1, … in listing order, as every writer does (the reader finds a
    file by its position); no writer of this schema left gaps or ties, so this is a safeguard."""
    listed = conn.execute(
        sa.text(
            'SELECT position, filename FROM file WHERE page_id = :page ORDER BY position, filename'
        ),
        {'page': page_id},
    ).all()
    moved = [
        {'page': page_id, 'old': old, 'filename': name, 'new': -1 - new}
        for new, (old, name) in enumerate(listed)
    ]
    conn.execute(renumber, moved)  # to negatives first, so no two rows ever share a position
    conn.execute(
        sa.text('UPDATE file SET position = -1 - position WHERE page_id = :page'), {'page': page_id}
    )


def downgrade() -> None:
    op.create_index('ix_file_page_id', 'file', ['page_id'], unique=False)
    op.drop_index('ix_file_page_position', table_name='file')
    # In place on both engines (SQLite 3.35+): a batch copy of `page` would have to drop a
    # table that `file` and `snapshot_page` refer to.
    op.execute('ALTER TABLE page DROP COLUMN listing')
