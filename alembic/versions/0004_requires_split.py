"""requires split: each core metadata's Requires-Dist split for the resolver (NULL in rows
written before; the reader splits those on the fly)

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('metadata', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_split', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('metadata', schema=None) as batch_op:
        batch_op.drop_column('requires_split')
