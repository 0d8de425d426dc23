"""The tables. One class per table; columns say what they hold in their names."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Field, SQLModel


class FillRow(SQLModel, table=True):
    """A fill, written in the same transaction as the journal entry it comes from, so
    the table and the journal agree fill for fill after any crash."""

    __tablename__ = "fills"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    account_id: str | None = Field(default=None, index=True)
    fill_id: int
    order_id: int
    strategy: str
    symbol: str = Field(index=True)
    side: str
    quantity: float
    price: float
    commission: float
    ts: float
    slippage: float = Field(default=0.0, sa_column_kwargs={"server_default": "0"})
    #: The strategy code's version (rows from before versions were recorded: "unknown").
    strategy_version: str = Field(default="unknown", sa_column_kwargs={"server_default": "unknown"})


class EquityRow(SQLModel, table=True):
    __tablename__ = "equity_points"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    ts: float
    equity: float
    cash: float


class JobRow(SQLModel, table=True):
    """A job: its definition (kind and parameters), where it is, and what it produced.

    ``owner`` is the process running it and ``heartbeat_at`` when that process
    last said so; a queued job without an owner, or an unfinished one whose
    owner has gone quiet, is free for any job manager on this store to claim.
    """

    __tablename__ = "jobs"

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    title: str
    state: str = Field(index=True)
    params_json: str = "{}"
    priority: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    done: int = 0
    total: int = 0
    result_json: str | None = None
    error: str | None = None
    note: str | None = None
    files_json: str = Field(default="[]", sa_column_kwargs={"server_default": "[]"})
    owner: str | None = None
    heartbeat_at: float | None = None
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None


class JobCheckpointRow(SQLModel, table=True):
    """What a job saved along the way, so a restart carries on rather than starting over."""

    __tablename__ = "job_checkpoints"

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(index=True)
    payload_json: str
    created_at: float


class JobControlRow(SQLModel, table=True):
    """An operator's request about a job (cancel, pause, resume, priority), from any
    process; the job's owner applies it and stamps ``handled_at``."""

    __tablename__ = "job_controls"

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(index=True)
    action: str
    value: str | None = None
    requested_by: str
    requested_at: float
    handled_at: float | None = None


class JournalRow(SQLModel, table=True):
    """The trading journal: every order event, fill, risk event and market mark of a run,
    in the order it happened. The engine rebuilds its account from the rows of every run
    of that account (``account_id``; None for a standalone replay's journal)."""

    __tablename__ = "journal"

    seq: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    account_id: str | None = Field(default=None, index=True)
    kind: str
    ts: float
    payload_json: str


class AccountRow(SQLModel, table=True):
    """A paper account. The active account of a ``name`` is the one not archived; a
    reset archives it (who, when, why) and opens a new one, so the old stays readable.
    ``holder`` is the process trading it now (``host:pid``), seen last at ``held_at``."""

    __tablename__ = "accounts"

    id: str = Field(primary_key=True)
    name: str = Field(index=True)
    starting_cash: float
    created_at: float
    archived_at: float | None = None
    archived_by: str | None = None
    archive_reason: str | None = None
    holder: str | None = None
    held_at: float | None = None


class AuditRow(SQLModel, table=True):
    """The audit trail (see ``core.audit``): append-only, each row chained by hash."""

    __tablename__ = "audit"

    seq: int | None = Field(default=None, primary_key=True)
    ts: float
    actor: str
    action: str = Field(index=True)
    subject: str
    detail_json: str = "{}"
    prev_hash: str
    hash: str


class AuditCheckpointRow(SQLModel, table=True):
    """A signed statement that the audit trail had ``entries`` entries ending in
    ``head_hash`` (Ed25519, hex; the key is kept outside the database)."""

    __tablename__ = "audit_checkpoints"

    id: int | None = Field(default=None, primary_key=True)
    ts: float
    entries: int
    head_seq: int
    head_hash: str
    signature: str


class CheckResultRow(SQLModel, table=True):
    """One verdict on one checklist item for one release: a probe's, or a person's
    attestation. The newest row of an item is its current state; the rest is history."""

    __tablename__ = "check_results"

    id: int | None = Field(default=None, primary_key=True)
    checklist: str = Field(index=True)
    version: str = Field(index=True)
    environment: str
    item_id: str
    verdict: str
    reason: str
    evidence_json: str = "{}"
    source: str  # "probe" or "attestation"
    actor: str
    note: str = ""
    ts: float
    # the deployment examined (its base URL); "" when none was set or before it was recorded
    target: str = Field(default="", sa_column_kwargs={"server_default": text("''")})


class WaiverRow(SQLModel, table=True):
    """A blocking item knowingly accepted for a release, until ``expires_at``."""

    __tablename__ = "check_waivers"

    id: int | None = Field(default=None, primary_key=True)
    checklist: str = Field(index=True)
    version: str = Field(index=True)
    environment: str
    item_id: str
    justification: str
    approver: str
    approver_role: str
    expires_at: float
    created_at: float


class SignoffRow(SQLModel, table=True):
    """A role's sign-off of a release, valid while the blocking items stay as they were
    (``fingerprint``) when it was given."""

    __tablename__ = "check_signoffs"

    id: int | None = Field(default=None, primary_key=True)
    checklist: str = Field(index=True)
    version: str = Field(index=True)
    environment: str
    role: str
    who: str
    note: str = ""
    fingerprint: str
    ts: float


class AuthorizationRow(SQLModel, table=True):
    """Deployment authorized for a release, on the blocking items' state ``fingerprint``."""

    __tablename__ = "check_authorizations"

    id: int | None = Field(default=None, primary_key=True)
    checklist: str = Field(index=True)
    version: str = Field(index=True)
    environment: str
    who: str
    fingerprint: str
    ts: float


class ApiRefreshTokenRow(SQLModel, table=True):
    """A refresh token of the control API, kept as the SHA-256 of its secret. Each use
    rotates it: the row is marked used and a new one of the same ``family`` is issued;
    a used token presented again revokes the whole family (``ApiRevocationRow``)."""

    __tablename__ = "api_refresh_tokens"

    id: str = Field(primary_key=True)
    family: str = Field(index=True)
    user: str = Field(index=True)
    key_id: str = Field(index=True)  # the API key it was issued for
    secret_sha256: str
    issued_at: float
    expires_at: float
    used_at: float | None = None


class ApiRevocationRow(SQLModel, table=True):
    """A revoked API access token (``jti``) or token family (``family``: its refresh
    tokens and the access tokens issued with them), kept until ``expires_at``, when
    everything it stops has expired anyway."""

    __tablename__ = "api_revocations"

    id: int | None = Field(default=None, primary_key=True)
    jti: str | None = Field(default=None, index=True)
    family: str | None = Field(default=None, index=True)
    revoked_at: float
    expires_at: float
