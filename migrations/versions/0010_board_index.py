"""Index proposals by status, need and placement for the review board

Revision ID: board_index
Revises: council_new_organisations
Create Date: 2026-12-02 15:10:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = "board_index"
down_revision: str | None = "council_new_organisations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.create_index(
            "ix_match_proposal_status_need_placement",
            ["status", "need_id", "placement_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.drop_index("ix_match_proposal_status_need_placement")
