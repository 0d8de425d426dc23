"""Accounts: the paper account continues across runs.

Adds the ``accounts`` table, an ``account_id`` on the journal and the fills, and
each fill's ``slippage`` (money, against the market price met; 0 before).
Rows written before this revision keep a NULL account: each of those runs
started over from its own cash, so none of them belongs to a continuing account.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False, index=True),
        sa.Column("starting_cash", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("archived_at", sa.Float(), nullable=True),
        sa.Column("archived_by", sa.String(), nullable=True),
        sa.Column("archive_reason", sa.String(), nullable=True),
        sa.Column("holder", sa.String(), nullable=True),
        sa.Column("held_at", sa.Float(), nullable=True),
    )
    for table in ("journal", "fills"):
        op.add_column(table, sa.Column("account_id", sa.String(), nullable=True))
        op.create_index(f"ix_{table}_account_id", table, ["account_id"])
    op.add_column("fills", sa.Column("slippage", sa.Float(), nullable=False,
                                     server_default="0"))  # fmt: skip


def downgrade() -> None:
    op.drop_column("fills", "slippage")
    for table in ("journal", "fills"):
        op.drop_index(f"ix_{table}_account_id", table_name=table)
        op.drop_column(table, "account_id")
    op.drop_table("accounts")
