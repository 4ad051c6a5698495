"""The change counter: one row raised after every committed write

Revision ID: change_counter
Revises: search_index
Create Date: 2026-12-03 04:00:00.000000

Pages of the busiest views are served again while the counter stands still
(moraspar/changes.py, moraspar/web/pagecache.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "change_counter"
down_revision: str | None = "search_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_counter")),
    )
    op.bulk_insert(table, [{"id": 1, "value": 0}])


def downgrade() -> None:
    op.drop_table("change_counter")
