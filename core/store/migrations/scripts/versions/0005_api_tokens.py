"""The control API's refresh tokens and revocations.

Adds ``api_refresh_tokens`` (hashed, rotated on each use, in families) and
``api_revocations`` (revoked access tokens by ``jti`` and token families), so a
restart keeps every revocation.

Revision ID: 0005
Revises: 0004
Create Date: 2027-02-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_refresh_tokens",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("family", sa.String(), nullable=False),
        sa.Column("user", sa.String(), nullable=False),
        sa.Column("key_id", sa.String(), nullable=False),
        sa.Column("secret_sha256", sa.String(), nullable=False),
        sa.Column("issued_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=True),
    )
    for column in ("family", "user", "key_id"):
        op.create_index(f"ix_api_refresh_tokens_{column}", "api_refresh_tokens", [column])
    op.create_table(
        "api_revocations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("jti", sa.String(), nullable=True),
        sa.Column("family", sa.String(), nullable=True),
        sa.Column("revoked_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    for column in ("jti", "family"):
        op.create_index(f"ix_api_revocations_{column}", "api_revocations", [column])


def downgrade() -> None:
    op.drop_table("api_revocations")
    op.drop_table("api_refresh_tokens")
