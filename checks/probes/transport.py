"""Encrypted transport for every remote connection of the target: its URL, its Redis, its
monitoring and CI endpoints, and its database (the server's own TLS setting and the
pg_hba rules that would let a client in over the network without it).

A connection to this machine (a loopback address or one of its own) crosses no network
and is listed, not judged; names are resolved to decide that, as the host probes do.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from checks.probes.base import NO_TARGET, ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.database import safe_url
from checks.probes.reach import OutOfReach, database_engine, is_this_machine
from checks.probes.registry import probe
from core.events import Verdict

#: The target's URLs by setting, and the schemes that encrypt them.
ENCRYPTED_SCHEMES = {
    "QD_CHECK_TARGET": ("base_url", {"https", "wss"}),
    "QD_CHECK_REDIS_URL": ("redis_url", {"rediss"}),
    "QD_CHECK_PROMETHEUS_URL": ("prometheus_url", {"https"}),
    "QD_CHECK_ALERTMANAGER_URL": ("alertmanager_url", {"https"}),
    "QD_CHECK_CI_STATUS_URL": ("ci_status_url", {"https"}),
}
#: libpq's sslmode values that never fall back to plaintext.
ENCRYPTING_SSLMODES = {"require", "verify-ca", "verify-full"}


async def _judge_url(setting: str, url: str, schemes: set[str]) -> tuple[str, bool | None]:
    """(what was found, encrypted: True/False, None when local)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme in schemes:
        return f"{setting}: {parts.scheme}://{host}", True
    if await asyncio.to_thread(is_this_machine, host):
        return f"{setting}: {parts.scheme}://{host} (this machine: no network crossed)", None
    return f"{setting}: {parts.scheme}:// to {host}, not {' or '.join(sorted(schemes))}", False


def _open_hba_rules(rules: list[dict[str, Any]]) -> list[str]:
    """pg_hba lines that let a client in over the network without TLS."""
    found = []
    for rule in rules:
        if rule["type"] not in ("host", "hostnossl") or rule["auth_method"] == "reject":
            continue
        address = rule["address"] or ""
        if address in ("samehost",) or _loopback(address):
            continue
        where = f"{address}/{rule['netmask']}" if rule["netmask"] else address or "all"
        found.append(f"pg_hba line {rule['line_number']}: {rule['type']} {where} "
                     f"{rule['auth_method']}: a network client may connect "
                     "without TLS")  # fmt: skip
    return found


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("/")[0]).is_loopback
    except ValueError:
        return False


def _postgres_transport(connection: Any) -> dict[str, object]:
    found: dict[str, object] = {
        "server_ssl": connection.execute(text("SHOW ssl")).scalar_one(),
        "this_connection_ssl": connection.execute(text(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar_one(),
    }  # fmt: skip
    try:
        with connection.begin_nested():
            rows = connection.execute(text(
                "SELECT line_number, type, address, netmask, auth_method FROM pg_hba_file_rules "
                "WHERE error IS NULL ORDER BY line_number")).mappings().all()  # fmt: skip
        found["hba_rules"] = [dict(row) for row in rows]
    except SQLAlchemyError as exc:  # pg_hba_file_rules is for superusers
        found["hba_rules"] = None
        found["hba_unreadable"] = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    return found


async def _judge_database(ctx: ProbeContext) -> tuple[list[str], list[str], dict[str, object]]:
    """(plaintext findings, encrypted or local notes, evidence) for the target's database."""
    with database_engine(ctx) as engine:
        url = engine.url
        evidence: dict[str, object] = {"database_url": safe_url(engine)}
        if engine.dialect.name != "postgresql":
            return [], [f"QD_CHECK_DATABASE_URL: {engine.dialect.name}, a local file"], evidence

        def read() -> dict[str, object]:
            with engine.connect() as connection:
                return _postgres_transport(connection)

        found = await asyncio.to_thread(read)
    evidence.update(found)
    plaintext: list[str] = []
    if found["server_ssl"] != "on":
        plaintext.append("the database server has ssl off: no client can connect encrypted")
    sslmode = str(url.query.get("sslmode", "prefer"))
    local = await asyncio.to_thread(is_this_machine, url.host or "")
    if not local and sslmode not in ENCRYPTING_SSLMODES:
        plaintext.append(f"QD_CHECK_DATABASE_URL has sslmode={sslmode}: libpq may fall back "
                         "to plaintext (use require, verify-ca or verify-full)")  # fmt: skip
    rules = found["hba_rules"]
    if isinstance(rules, list):
        plaintext += _open_hba_rules(rules)
    notes = [f"database: server ssl {found['server_ssl']}, this connection "
             f"{'encrypted' if found['this_connection_ssl'] else 'plaintext'}"
             + (" (this machine)" if local else "")]  # fmt: skip
    if rules is None:
        notes.append(f"pg_hba not read ({found['hba_unreadable']})")
    return plaintext, notes, evidence


@probe("transport.encrypted", scopes=(Scope.TARGET,), needs=("base_url",))
async def encrypted(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
    """Every remote connection of the target is encrypted: https for its URL and
    endpoints, rediss for Redis, and a database server that has TLS on and admits no
    network client without it."""
    if not ctx.target.base_url:
        raise OutOfReach(NO_TARGET, "base_url")
    plaintext: list[str] = []
    notes: list[str] = []
    evidence: dict[str, object] = {}
    for setting, (field, schemes) in ENCRYPTED_SCHEMES.items():
        url = getattr(ctx.target, field)
        if not url:
            continue
        finding, secure = await _judge_url(setting, url, schemes)
        (plaintext if secure is False else notes).append(finding)
    if ctx.target.database_url:
        try:
            found, said, database_evidence = await _judge_database(ctx)
        except SQLAlchemyError as exc:
            reason = f"cannot read the database's TLS settings: {getattr(exc, 'orig', exc)}"
            return ProbeResult(Verdict.FAIL, reason, {"plaintext": plaintext, "notes": notes})
        plaintext += found
        notes += said
        evidence.update(database_evidence)
    evidence.update(plaintext=plaintext, connections=notes)
    if plaintext:
        return ProbeResult(Verdict.FAIL, "; ".join(plaintext), evidence)
    return ProbeResult(Verdict.PASS, "; ".join(notes), evidence)
