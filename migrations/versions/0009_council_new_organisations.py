"""Councils that take new organisations: a school or company created later joins
the area of every council with the flag

Revision ID: council_new_organisations
Revises: jobs
Create Date: 2026-12-02 15:10:00

Existing councils take new organisations, so that an installation with one
council keeps seeing every school and company, as it did before areas.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "council_new_organisations"
down_revision: str | None = "jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("council", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "takes_new_organisations",
                sa.Boolean(),
                nullable=False,
                server_default=sa.true(),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("council", schema=None) as batch_op:
        batch_op.drop_column("takes_new_organisations")
