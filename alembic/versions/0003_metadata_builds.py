"""metadata builds: a built file's provenance (PEP 517 backend and build requirements)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column: SQLite adds it in place, every existing row keeps NULL (not built).
    op.add_column('snapshot_metadata', sa.Column('build', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('snapshot_metadata') as batch:
        batch.drop_column('build')
