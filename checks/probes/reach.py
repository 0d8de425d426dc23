"""What a probe can reach of what its item examines (``ctx.scope``), or why not.

A probe that can examine the target or Quarterdeck itself asks here for the part its
item claims. When that part is out of reach (no setting names it, or it is on another
machine) the probe raises ``OutOfReach``, which the runner reports as ERROR with the
reason: never a verdict drawn from something else.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import psutil
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from checks.probes.base import NO_TARGET, ProbeContext, Scope


class OutOfReach(Exception):
    """The part an item examines cannot be examined from here; the message says why and
    which setting would name it."""

    def __init__(self, reason: str, setting: str = "") -> None:
        super().__init__(reason)
        self.setting = setting


#: How the machines of a target on another host are reached.
THROUGH_PROMETHEUS = (
    "set QD_CHECK_PROMETHEUS_URL to the Prometheus that scrapes their node_exporter, or "
    "attest the item with the host's monitoring as evidence"
)


def prometheus_url(ctx: ProbeContext) -> str:
    """The target's Prometheus (``QD_CHECK_PROMETHEUS_URL``), else ``OutOfReach``."""
    url = (ctx.target.prometheus_url or "").strip().rstrip("/")
    if not url:
        raise OutOfReach("target.prometheus_url is not set: give the target's Prometheus with "
                         "QD_CHECK_PROMETHEUS_URL", "prometheus_url")  # fmt: skip
    return url


def target_prometheus(ctx: ProbeContext) -> str | None:
    """The Prometheus to read the target's machines from, when the item examines the
    target's host and one is set: the first source of a host probe, before this machine."""
    if ctx.scope is not Scope.TARGET_HOST or not (ctx.target.prometheus_url or "").strip():
        return None
    return prometheus_url(ctx)


async def target_host(ctx: ProbeContext) -> str:
    """The target's host name, for a probe of the machine it runs on, if that is this
    machine (its URL names a loopback address or one of this machine's own); else
    ``OutOfReach`` naming QD_CHECK_PROMETHEUS_URL. A host probe of Quarterdeck's own
    machine returns ``"localhost"``."""
    if ctx.scope is Scope.QUARTERDECK:
        return "localhost"
    base_url = ctx.target.base_url.strip()
    if not base_url:
        raise OutOfReach(f"{NO_TARGET}; for its machines, {THROUGH_PROMETHEUS}", "base_url")
    host = urlsplit(base_url).hostname or ""
    if not await asyncio.to_thread(is_this_machine, host):  # a name may need DNS
        raise OutOfReach(
            f"the target's host {host or base_url!r} is not this machine, where only "
            f"Quarterdeck's own CPU, memory, disk and clock are measured: {THROUGH_PROMETHEUS}",
            "prometheus_url")  # fmt: skip
    return host


def is_this_machine(host: str) -> bool:
    """Whether every address ``host`` resolves to is a loopback address or one of this
    machine's own (a name that does not resolve is not)."""
    if not host:
        return False
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return False
    own = {address.address.split("%")[0] for addresses in psutil.net_if_addrs().values()
           for address in addresses}  # fmt: skip
    return all(ipaddress.ip_address(a.split("%")[0]).is_loopback or a in own for a in resolved)


@contextmanager
def database_engine(ctx: ProbeContext) -> Iterator[Engine]:
    """The database the item examines: the target's (``QD_CHECK_DATABASE_URL``, opened for
    this probe only) or Quarterdeck's own store."""
    if ctx.scope is Scope.QUARTERDECK:
        yield ctx.database_engine
        return
    url = (ctx.target.database_url or "").strip()
    if not url:
        raise OutOfReach("target.database_url is not set: give the target's database with "
                         "QD_CHECK_DATABASE_URL (a SQLAlchemy URL)", "database_url")  # fmt: skip
    try:
        engine = create_engine(url, poolclass=NullPool)
    except (ArgumentError, ValueError) as exc:
        raise OutOfReach(f"QD_CHECK_DATABASE_URL is not a database URL: {exc}",
                         "database_url") from None  # fmt: skip
    except ImportError as exc:
        raise OutOfReach(f"QD_CHECK_DATABASE_URL needs a driver that is not installed: {exc}",
                         "database_url") from None  # fmt: skip
    try:
        yield engine
    finally:
        engine.dispose()
