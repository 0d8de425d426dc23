"""Baseline: the schema as it stood when migrations began.

Also adopts a database that an earlier Quarterdeck made without migrations:
such a database has some of these tables, perhaps without the columns added
since (always nullable or with a server default), and no version table.
Tables it lacks are created and columns it lacks are added; nothing else
could differ, because until now the schema only ever grew that way.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

schema = sa.MetaData()


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _text(name: str, *, index: bool = False, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(), nullable=nullable, index=index)


def _real(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Float(), nullable=nullable)


def _int(name: str, *, index: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False, index=index)


sa.Table("audit", schema,
    sa.Column("seq", sa.Integer(), primary_key=True), _real("ts"), _text("actor"),
    _text("action", index=True), _text("subject"), _text("detail_json"), _text("prev_hash"),
    _text("hash"))  # fmt: skip
sa.Table("audit_checkpoints", schema,
    _id(), _real("ts"), _int("entries"), _int("head_seq"), _text("head_hash"),
    _text("signature"))  # fmt: skip
sa.Table("check_authorizations", schema,
    _id(), _text("checklist", index=True), _text("version", index=True), _text("environment"),
    _text("who"), _text("fingerprint"), _real("ts"))  # fmt: skip
sa.Table("check_results", schema,
    _id(), _text("checklist", index=True), _text("version", index=True), _text("environment"),
    _text("item_id"), _text("verdict"), _text("reason"), _text("evidence_json"), _text("source"),
    _text("actor"), _text("note"), _real("ts"))  # fmt: skip
sa.Table("check_signoffs", schema,
    _id(), _text("checklist", index=True), _text("version", index=True), _text("environment"),
    _text("role"), _text("who"), _text("note"), _text("fingerprint"), _real("ts"))  # fmt: skip
sa.Table("check_waivers", schema,
    _id(), _text("checklist", index=True), _text("version", index=True), _text("environment"),
    _text("item_id"), _text("justification"), _text("approver"), _text("approver_role"),
    _real("expires_at"), _real("created_at"))  # fmt: skip
sa.Table("equity_points", schema,
    _id(), _text("run_id", index=True), _real("ts"), _real("equity"), _real("cash"))  # fmt: skip
sa.Table("fills", schema,
    _id(), _text("run_id", index=True), _int("fill_id"), _int("order_id"), _text("strategy"),
    _text("symbol", index=True), _text("side"), _real("quantity"), _real("price"),
    _real("commission"), _real("ts"))  # fmt: skip
sa.Table("job_checkpoints", schema,
    _id(), _int("job_id", index=True), _text("payload_json"), _real("created_at"))  # fmt: skip
sa.Table("job_controls", schema,
    _id(), _int("job_id", index=True), _text("action"), _text("value", nullable=True),
    _text("requested_by"), _real("requested_at"), _real("handled_at", nullable=True))  # fmt: skip
sa.Table("jobs", schema,
    _id(), _text("kind"), _text("title"), _text("state", index=True), _text("params_json"),
    sa.Column("priority", sa.Integer(), nullable=False, server_default="1"),
    _int("done"), _int("total"), _text("result_json", nullable=True),
    _text("error", nullable=True), _text("note", nullable=True),
    sa.Column("files_json", sa.String(), nullable=False, server_default="[]"),
    _text("owner", nullable=True), _real("heartbeat_at", nullable=True), _real("created_at"),
    _real("started_at", nullable=True), _real("finished_at", nullable=True))  # fmt: skip
sa.Table("journal", schema,
    sa.Column("seq", sa.Integer(), primary_key=True), _text("run_id", index=True),
    _text("kind"), _real("ts"), _text("payload_json"))  # fmt: skip


def upgrade() -> None:
    bind = op.get_bind()
    present = set(sa.inspect(bind).get_table_names())
    for table in schema.sorted_tables:
        if table.name not in present:
            table.create(bind)
            continue
        columns = {column["name"] for column in sa.inspect(bind).get_columns(table.name)}
        for column in table.columns:
            if column.name not in columns:
                default = column.server_default.arg if column.server_default else None  # type: ignore[attr-defined]
                op.add_column(table.name, sa.Column(column.name, column.type, nullable=True,
                                                    server_default=default))  # fmt: skip


def downgrade() -> None:
    schema.drop_all(op.get_bind())
