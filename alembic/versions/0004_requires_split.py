"""requires split: each core metadata's Requires-Dist split for the resolver, filled for the
rows already stored (a row that still lacks it, from an older bundle, is split on the fly)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from db.requirement_facts import split_json

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table('metadata', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_split', sa.Text(), nullable=True))
    # Rows sharing one Requires-Dist text share its split: each distinct text is split once.
    conn = op.get_bind()
    stored = conn.execute(
        sa.text('SELECT sha256, requires_dist FROM metadata WHERE requires_split IS NULL')
    ).all()
    splits: dict[str, str] = {}
    rows = []
    for sha256, text in stored:
        split = splits.get(text)
        if split is None:
            split = splits[text] = split_json(json.loads(text))
        rows.append({'sha256': sha256, 'split': split})
    update = sa.text('UPDATE metadata SET requires_split = :split WHERE sha256 = :sha256')
    for start in range(0, len(rows), _BATCH):
        conn.execute(update, rows[start : start + _BATCH])


def downgrade() -> None:
    with op.batch_alter_table('metadata', schema=None) as batch_op:
        batch_op.drop_column('requires_split')
