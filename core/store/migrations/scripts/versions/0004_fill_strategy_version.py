"""Fills record the version of the strategy code that traded.

Adds ``strategy_version`` to ``fills``. Rows written before this revision read
``unknown``: which code made them was never recorded.

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-20
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("fills", sa.Column("strategy_version", sa.String(), nullable=False,
                                     server_default=sa.text("'unknown'")))  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("fills") as batch:
        batch.drop_column("strategy_version")
