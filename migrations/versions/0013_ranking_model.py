"""The fitted matching model, shared through the database

Revision ID: ranking_model
Revises: email_notices
Create Date: 2026-12-02 17:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'ranking_model'
down_revision: str | None = 'email_notices'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'ranking_model',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('format_version', sa.Integer(), nullable=False),
        sa.Column(
            'fitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False
        ),
        sa.Column(
            'watermark', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column(
            'fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column(
            'weights_version',
            sqlmodel.sql.sqltypes.AutoString(length=40),
            nullable=False,
        ),
        sa.Column('n_postings', sa.Integer(), nullable=False),
        sa.Column('model', sa.LargeBinary(), nullable=False),
        sa.Column(
            'model_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column('fit_seconds', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ranking_model')),
    )


def downgrade() -> None:
    op.drop_table('ranking_model')
