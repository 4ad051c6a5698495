"""Action links of a second purpose: a company evaluates an ended booking

Revision ID: evaluate_links
Revises: reminders
Create Date: 2026-12-02 18:20:00.000000

The values are spelled out rather than read from LinkPurpose, so that this
migration keeps meaning what it meant when the enum changes. An evaluation
link names the booking's proposal (a booking has exactly one), so the table
needs no new column, only a wider check.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "evaluate_links"
down_revision: str | None = "reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_PURPOSES = ("answer_proposal",)
NEW_PURPOSES = ("answer_proposal", "evaluate")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _set_check(values: Sequence[str]) -> None:
    with op.batch_alter_table("action_link", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_action_link_purpose"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_action_link_purpose"), _in("purpose", values)
        )


def upgrade() -> None:
    _set_check(NEW_PURPOSES)


def downgrade() -> None:
    # The old check refuses the new purpose: its links go (they only ever
    # opened an evaluation form).
    op.execute("DELETE FROM action_link WHERE purpose = 'evaluate'")
    _set_check(OLD_PURPOSES)
