"""Add an edit version to organisations, programmes, needs, placements and skill gaps

Revision ID: edit_versions
Revises: council_areas
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "edit_versions"
down_revision: str | None = "council_areas"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("organisation", "programme", "need", "placement", "skill_gap")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "version", sa.Integer(), server_default=sa.text("1"), nullable=False
                )
            )


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")
