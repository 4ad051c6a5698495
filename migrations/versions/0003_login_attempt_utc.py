"""Store login attempts' times as UTCDateTime, like every other timestamp

Revision ID: login_attempt_utc
Revises: 0002
Create Date: 2026-12-02 14:00:00

The column stays TIMESTAMP WITH TIME ZONE (SQLite: DATETIME); the type changes
so that reads come back aware in UTC on every database.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "login_attempt_utc"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.alter_column(
            "at",
            existing_type=sa.DateTime(timezone=True),
            type_=sqlmodel.sql.sqltypes.UTCDateTime(),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.alter_column(
            "at",
            existing_type=sqlmodel.sql.sqltypes.UTCDateTime(),
            type_=sa.DateTime(timezone=True),
            existing_nullable=False,
        )
