"""An index covering the placement search's count and order

Revision ID: search_index
Revises: evaluate_links
Create Date: 2026-12-02 23:00:00.000000

The teacher's search counts and orders the open placements that have not
ended; with (status, end_date, start_date, company_id) in one index, both
read the index instead of the placements' wide rows.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "search_index"
down_revision: str | None = "evaluate_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_placement_open_period",
        "placement",
        ["status", "end_date", "start_date", "company_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_placement_open_period", table_name="placement")
