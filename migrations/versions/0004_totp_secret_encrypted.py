"""Room for encrypted TOTP secrets

Revision ID: totp_secret_encrypted
Revises: login_attempt_utc
Create Date: 2026-12-02 14:15:00

A Fernet token of a 32-character secret is 140 characters. Secrets stored in
clear are encrypted by the app the first time they are read (the key is the
app's configuration, which migrations do not load).
"""

from collections.abc import Sequence

import sqlmodel
from alembic import op

revision: str = "totp_secret_encrypted"
down_revision: str | None = "login_attempt_utc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
            type_=sqlmodel.sql.sqltypes.AutoString(length=200),
            existing_nullable=True,
        )


def downgrade() -> None:
    # An encrypted secret does not fit the old column: the second factor is
    # turned off for those accounts rather than the downgrade failing.
    op.execute("UPDATE user_account SET totp_secret = NULL")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=200),
            type_=sqlmodel.sql.sqltypes.AutoString(length=64),
            existing_nullable=True,
        )
