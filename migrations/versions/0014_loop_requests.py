"""Teachers' requests and companies' offers, routing per kind, action links

Revision ID: loop_requests
Revises: ranking_model
Create Date: 2026-12-02 17:20:00.000000

A proposal now says who started it (origin: a match run, a teacher's request
or a company's offer) and, for requests and offers, who asked. Existing rows
are the council's runs'. kind_route keeps the admin's choice, per kind, of
whether a request goes through the council; action_link holds the single-use
links in emails that let a company answer without signing in. The values of
the CHECK constraints are spelled out, so that this migration keeps its
meaning when the enums change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "loop_requests"
down_revision: str | None = "ranking_model"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORIGINS = ("run", "request", "offer")
KINDS = ("apl", "prao", "study_visit", "guest_lecture", "project")
PURPOSES = ("answer_proposal",)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "origin",
                sqlmodel.sql.sqltypes.AutoString(length=10),
                nullable=False,
                server_default="run",
            )
        )
        batch_op.add_column(sa.Column("requested_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_match_proposal_requested_by_id_user_account"),
            "user_account",
            ["requested_by_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            op.f("ck_match_proposal_origin"), _in("origin", ORIGINS)
        )
    op.create_table(
        "kind_route",
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("via_council", sa.Boolean(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_kind_route_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_kind_route")),
        sa.CheckConstraint(_in("kind", KINDS), name=op.f("ck_kind_route_kind")),
    )
    op.create_table(
        "action_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column(
            "purpose", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False
        ),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_action_link_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["match_proposal.id"],
            name=op.f("fk_action_link_proposal_id_match_proposal"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_action_link_token_hash")),
        sa.CheckConstraint(
            _in("purpose", PURPOSES), name=op.f("ck_action_link_purpose")
        ),
    )
    with op.batch_alter_table("action_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_link_organisation_id"),
            ["organisation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_action_link_proposal_id"), ["proposal_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("action_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_link_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_action_link_organisation_id"))
    op.drop_table("action_link")
    op.drop_table("kind_route")
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_match_proposal_origin"), type_="check")
        batch_op.drop_constraint(
            op.f("fk_match_proposal_requested_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("requested_by_id")
        batch_op.drop_column("origin")
