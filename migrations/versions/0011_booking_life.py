"""A booking's life: cancel, change of dates, attendance; places from bookings

Revision ID: booking_life
Revises: board_index
Create Date: 2026-12-02 15:00:00.000000

Bookings may now be cancelled (before the start) or aborted (after it), with
a reason; a side may ask to move the dates; the school records attendance.
Placement.places_booked is from now on always the sum of the students of the
bookings that hold places, so the upgrade recounts it once: a count that had
drifted is set right. The values of the CHECK constraints are spelled out, as
in status_checks, so that this migration keeps its meaning when enums change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "booking_life"
down_revision: str | None = "board_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("active", "ended")
NEW_STATUSES = ("active", "ended", "cancelled", "aborted")
REASONS = (
    "supervisor_unavailable",
    "students_unavailable",
    "schedule",
    "illness",
    "other",
)
ATTENDANCE = ("came", "no_show")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


RECOUNT = """
UPDATE placement SET places_booked = (
    SELECT COALESCE(SUM(booking.students), 0) FROM booking
    WHERE booking.placement_id = placement.id
      AND booking.status IN ('active', 'ended')
)
"""


def upgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cancelled_side",
                sqlmodel.sql.sqltypes.AutoString(length=10),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "cancel_reason",
                sqlmodel.sql.sqltypes.AutoString(length=40),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "cancel_comment",
                sqlmodel.sql.sqltypes.AutoString(length=500),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(sa.Column("cancelled_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "cancelled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("proposed_start_date", sa.Date(), nullable=True)
        )
        batch_op.add_column(sa.Column("proposed_end_date", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "change_requested_side",
                sqlmodel.sql.sqltypes.AutoString(length=10),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "attendance",
                sqlmodel.sql.sqltypes.AutoString(length=10),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "attendance_recorded_at",
                sqlmodel.sql.sqltypes.UTCDateTime(),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            op.f("fk_booking_cancelled_by_id_user_account"),
            "user_account",
            ["cancelled_by_id"],
            ["id"],
        )
        batch_op.drop_constraint(op.f("ck_booking_status"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_booking_status"), _in("status", NEW_STATUSES)
        )
        batch_op.create_check_constraint(
            op.f("ck_booking_cancel_reason"), _in("cancel_reason", REASONS)
        )
        batch_op.create_check_constraint(
            op.f("ck_booking_attendance"), _in("attendance", ATTENDANCE)
        )
    op.execute(RECOUNT)


def downgrade() -> None:
    # The old schema knows no called-off booking: such rows become ended ones,
    # and their students stay out of places_booked.
    op.execute(
        "UPDATE booking SET status = 'ended' WHERE status IN ('cancelled', 'aborted')"
    )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_booking_attendance"), type_="check")
        batch_op.drop_constraint(op.f("ck_booking_cancel_reason"), type_="check")
        batch_op.drop_constraint(op.f("ck_booking_status"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_booking_status"), _in("status", OLD_STATUSES)
        )
        batch_op.drop_constraint(
            op.f("fk_booking_cancelled_by_id_user_account"), type_="foreignkey"
        )
        for column in (
            "attendance_recorded_at",
            "attendance",
            "change_requested_side",
            "proposed_end_date",
            "proposed_start_date",
            "cancelled_at",
            "cancelled_by_id",
            "cancel_comment",
            "cancel_reason",
            "cancelled_side",
        ):
            batch_op.drop_column(column)
