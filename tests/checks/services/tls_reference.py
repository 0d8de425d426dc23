"""An independent view of a TLS server, to check ``tls.certificate`` against.

The probe sees through sslyze (nassl's own OpenSSL build) and judges the chain
with nassl's binding of ``X509_verify_cert`` and the names with ``cryptography``.
The reference uses neither: Python's ``ssl`` (the system OpenSSL) makes one
handshake per version, each context pinned to it, and the ``openssl`` command
line reads the certificate it received (``x509 -enddate``, ``-checkend``,
``-checkip``/``-checkhost``) and verifies its chain (``verify -CAfile``).

The system OpenSSL refuses TLS 1.0 and 1.1 at its default security level (2):
such handshakes need SHA-1. The pinned contexts lower it (``@SECLEVEL=0``) to ask
only whether the server agrees to the version; nothing is sent over them. SSL 2.0
and 3.0 are compiled out of the system OpenSSL, so the reference cannot test them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from .servers import executable

#: The versions the system OpenSSL can send, with their ``ssl.TLSVersion`` names.
TESTABLE = {"TLSv1": "TLSv1", "TLSv1.1": "TLSv1_1", "TLSv1.2": "TLSv1_2", "TLSv1.3": "TLSv1_3"}
PERMISSIVE_CIPHERS = "DEFAULT:@SECLEVEL=0"


def pinned_context(version: str) -> ssl.SSLContext:
    """A non-verifying client context that can only speak ``version``, at any security level."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers(PERMISSIVE_CIPHERS)
    with warnings.catch_warnings():
        # ssl deprecates TLSv1 and TLSv1_1 as values: asking for them is the point here.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = getattr(
            ssl.TLSVersion, TESTABLE[version]
        )
    return context


def _handshake(host: str, port: int, context: ssl.SSLContext) -> tuple[str | None, bytes | None]:
    with (
        socket.create_connection((host, port), timeout=5) as raw,
        context.wrap_socket(raw) as tls,
    ):
        return tls.version(), tls.getpeercert(binary_form=True)


def offered_versions(host: str, port: int) -> list[str]:
    """The versions a pinned handshake succeeds with, oldest first."""
    offered = []
    for version in TESTABLE:
        try:
            negotiated, _ = _handshake(host, port, pinned_context(version))
        except (ssl.SSLError, ConnectionError):
            continue
        assert negotiated == version
        offered.append(version)
    return offered


def _openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([executable("openssl"), *args], capture_output=True, text=True,
                          timeout=10, check=False)  # fmt: skip


@dataclass(frozen=True)
class Seen:
    """What the reference saw on one site."""

    offered: list[str]
    not_after: dt.datetime
    expired: bool
    name_matches: bool
    chain_verifies: bool  # without the name: ``openssl verify`` checks no host
    verify_output: str


def look(host: str, port: int, ca_file: Path, directory: Path) -> Seen:
    """Handshake with the server at ``host:port`` and judge what it presents with ``openssl``."""
    offered = offered_versions(host, port)
    context = pinned_context(offered[-1])
    _, der = _handshake(host, port, context)
    assert der
    leaf = directory / f"{port}.pem"
    leaf.write_text(ssl.DER_cert_to_PEM_cert(der))
    end = _openssl("x509", "-in", str(leaf), "-noout", "-enddate").stdout.strip()
    not_after = dt.datetime.strptime(end.removeprefix("notAfter="), "%b %d %H:%M:%S %Y %Z")
    expired = _openssl("x509", "-in", str(leaf), "-noout", "-checkend", "0").returncode != 0
    try:
        ipaddress.ip_address(host)
        check = ("-checkip", host)
    except ValueError:
        check = ("-checkhost", host)
    named = _openssl("x509", "-in", str(leaf), "-noout", *check).stdout
    verify = _openssl("verify", "-CAfile", str(ca_file), str(leaf))
    return Seen(offered, not_after.replace(tzinfo=dt.UTC), expired,
                "does match" in named, verify.returncode == 0,
                verify.stdout + verify.stderr)  # fmt: skip
