"""Stamp each candidate row with the candidate revision that last wrote it.

A server's in-memory candidate pool at revision r then catches up by reading only the rows
stamped after r. Rows written before this migration keep 0 ("before any pool in memory").

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("candidates") as batch:
        batch.add_column(sa.Column("revision", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_candidates_revision", "candidates", ["revision"])


def downgrade() -> None:
    op.drop_index("ix_candidates_revision", "candidates")
    with op.batch_alter_table("candidates") as batch:
        batch.drop_column("revision")
