"""Check status columns against their allowed values

Revision ID: status_checks
Revises: totp_secret_encrypted
Create Date: 2026-12-02 14:10:00.000000

Each status column gets a CHECK constraint named ck_<table>_status, as the
models' naming convention names it. The values are spelled out here rather
than read from the enums, so that this migration keeps meaning what it meant
when the enums change; a later change of values needs a migration of its own.
Batch mode recreates each table on SQLite (which cannot add a constraint with
ALTER TABLE) and is a plain ALTER TABLE on PostgreSQL.
"""

from collections.abc import Sequence

from alembic import op


revision: str = "status_checks"
down_revision: str | None = "totp_secret_encrypted"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTING = ("open", "paused", "closed")
STATUSES: dict[str, tuple[str, ...]] = {
    "need": POSTING,
    "placement": POSTING,
    "skill_gap": POSTING,
    "match_run": ("queued", "running", "done", "failed"),
    "match_proposal": (
        "proposed",
        "approved",
        "declined",
        "deferred",
        "booked",
        "withdrawn",
    ),
    "booking": ("active", "ended"),
    "meeting": ("planned", "held"),
}


def upgrade() -> None:
    for table, values in STATUSES.items():
        allowed = ", ".join(f"'{value}'" for value in values)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(
                op.f(f"ck_{table}_status"), f"status IN ({allowed})"
            )


def downgrade() -> None:
    for table in reversed(STATUSES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_status"), type_="check")
