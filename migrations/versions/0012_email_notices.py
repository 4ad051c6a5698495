"""Email notices a user has turned off

Revision ID: email_notices
Revises: booking_life
Create Date: 2026-12-02 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from alembic import op


revision: str = 'email_notices'
down_revision: str | None = 'booking_life'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Everyone keeps getting every notice by email until they turn one off.
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'email_notices',
                sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
                nullable=False,
                server_default='{}',
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('email_notices')
