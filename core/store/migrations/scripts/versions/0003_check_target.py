"""Readiness verdicts record their target.

Adds ``target`` to ``check_results``: the deployment (base URL) a probe examined, or
the one the person attesting was looking at. Rows written before this revision keep
an empty target: which system they described was never recorded.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-14
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("check_results", sa.Column("target", sa.String(), nullable=False,
                                             server_default=sa.text("''")))  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("check_results") as batch:
        batch.drop_column("target")
