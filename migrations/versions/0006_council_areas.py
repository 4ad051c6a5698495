"""Council areas: the schools and companies each council works for, and the
council of a match run

Revision ID: council_areas
Revises: status_checks
Create Date: 2026-12-02 14:00:00

Existing councils get every existing school and company in their area, so that
an installation keeps seeing what it saw before; an administrator then narrows
the areas where several councils share one installation.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "council_areas"
down_revision: str | None = "status_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "council_organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council.id"],
            name=op.f("fk_council_organisation_council_id_council"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_council_organisation_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_organisation")),
        sa.UniqueConstraint(
            "council_id",
            "organisation_id",
            name=op.f("uq_council_organisation_council_id_organisation_id"),
        ),
    )
    with op.batch_alter_table("council_organisation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_council_organisation_council_id"),
            ["council_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_council_organisation_organisation_id"),
            ["organisation_id"],
            unique=False,
        )
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("council_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_match_run_council_id"), ["council_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_match_run_council_id_council"),
            "council",
            ["council_id"],
            ["id"],
        )
    op.execute(
        "INSERT INTO council_organisation (council_id, organisation_id) "
        "SELECT council.id, organisation.id FROM council, organisation "
        "WHERE organisation.kind IN ('school', 'company')"
    )


def downgrade() -> None:
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_match_run_council_id_council"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_match_run_council_id"))
        batch_op.drop_column("council_id")
    with op.batch_alter_table("council_organisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_council_organisation_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_council_organisation_council_id"))
    op.drop_table("council_organisation")
