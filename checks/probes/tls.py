"""TLS probe: the protocol versions a service offers and the certificate it presents.

The probe makes one handshake per protocol version, each with a context pinned
to that version (minimum = maximum). Modern OpenSSL builds refuse TLS 1.0 and
1.1 on the client side at their default security level (level 2 on Debian and
most distributions; such handshakes need SHA-1), which would make an old
version look "not offered" when it is. The probing contexts therefore use the
cipher string ``DEFAULT:@SECLEVEL=0``: the probe never sends data over these
connections, it only asks whether the server agrees to the version. If the
local OpenSSL has no support for a version at all, the evidence says
``untestable`` for it instead of claiming the server refuses it.

The certificate (read with ``cryptography``) is checked for expiry, for a
name matching the host (subject alternative names only, as browsers do), and
for a chain to ``target.ca_file`` (or to the system trust store when no CA
file is configured).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from checks.probes.base import NO_TARGET, ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.registry import probe
from core.events import Verdict

if TYPE_CHECKING:
    from cryptography import x509

# cryptography's x509 is imported where it is used: it costs the console's start ~80 ms.

VersionName = Literal["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]

#: The versions probed, oldest first (SSLv2 and SSLv3 cannot even be offered by
#: any OpenSSL this runs on, so they cannot be tested from here).
VERSIONS: tuple[VersionName, ...] = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_TLS_VERSIONS = {
    "TLSv1": "TLSv1",
    "TLSv1.1": "TLSv1_1",
    "TLSv1.2": "TLSv1_2",
    "TLSv1.3": "TLSv1_3",
}
_HAS_VERSION = {"TLSv1": "HAS_TLSv1", "TLSv1.1": "HAS_TLSv1_1", "TLSv1.2": "HAS_TLSv1_2",
                "TLSv1.3": "HAS_TLSv1_3"}  # fmt: skip
PERMISSIVE_CIPHERS = "DEFAULT:@SECLEVEL=0"

OFFERED, REFUSED, UNTESTABLE = "offered", "refused", "untestable"


class CertificateParams(ProbeParams):
    warn_days: float = Field(default=60.0, ge=0)
    fail_days: float = Field(default=30.0, ge=0)
    min_version: VersionName = "TLSv1.2"
    connect_timeout: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> CertificateParams:
        if self.fail_days > self.warn_days:
            raise ValueError(
                f"fail_days ({self.fail_days:g}) must not exceed warn_days ({self.warn_days:g})"
            )
        return self


class Unreachable(Exception):
    """Nothing answered at the TCP level: a finding about the service, not the probe."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int

    @property
    def server_hostname(self) -> str | None:
        """What to send as SNI: a DNS name, never an IP address (RFC 6066)."""
        return None if _is_ip(self.host) else self.host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def parse_endpoint(base_url: str) -> Endpoint:
    """``https://host[:port]/...`` -> Endpoint; ValueError for anything else."""
    parts = urlsplit(base_url)
    if parts.scheme != "https":
        raise ValueError(f"target.base_url {base_url!r} is not an https:// URL")
    if not parts.hostname:
        raise ValueError(f"target.base_url {base_url!r} has no host")
    return Endpoint(parts.hostname, parts.port or 443)


def _probing_context(lowest: VersionName, highest: VersionName) -> ssl.SSLContext:
    """A non-verifying client context that speaks ``lowest`` to ``highest`` at any
    security level. It only looks: no data is sent and nothing received is trusted."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers(PERMISSIVE_CIPHERS)
    with warnings.catch_warnings():
        # ssl deprecates TLSv1 and TLSv1_1 as values: asking for them is the point here.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = getattr(ssl.TLSVersion, _TLS_VERSIONS[lowest])
        context.maximum_version = getattr(ssl.TLSVersion, _TLS_VERSIONS[highest])
    return context


def _pinned_context(version: VersionName) -> ssl.SSLContext:
    """A probing context that can only speak ``version``."""
    return _probing_context(version, version)


def _handshake(
    endpoint: Endpoint, context: ssl.SSLContext, timeout: float
) -> tuple[str | None, bytes | None]:
    """One handshake; returns (negotiated version, peer certificate DER).

    Raises ``Unreachable`` when the TCP connection fails and ``ssl.SSLError``
    when the TLS handshake does.
    """
    try:
        raw = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
    except OSError as exc:
        raise Unreachable(f"cannot connect to {endpoint.host}:{endpoint.port}: {exc}") from exc
    with raw, context.wrap_socket(raw, server_hostname=endpoint.server_hostname) as tls:
        return tls.version(), tls.getpeercert(binary_form=True)


def _supported_locally(version: VersionName) -> bool:
    if not getattr(ssl, _HAS_VERSION[version], False):
        return False
    try:
        _pinned_context(version)
    except (ValueError, ssl.SSLError):
        return False
    return True


def probe_versions(endpoint: Endpoint, timeout: float) -> dict[str, dict[str, str]]:
    """``{version: {"result": offered|refused|untestable, "detail": ...}}`` for each version."""
    results: dict[str, dict[str, str]] = {}
    for version in VERSIONS:
        if not _supported_locally(version):
            results[version] = {"result": UNTESTABLE, "detail": "the local OpenSSL cannot send it"}
            continue
        try:
            negotiated, _ = _handshake(endpoint, _pinned_context(version), timeout)
        except ssl.SSLError as exc:
            # The local library may accept the setting yet have the version compiled out.
            local = exc.reason == "NO_PROTOCOLS_AVAILABLE"
            results[version] = {"result": UNTESTABLE if local else REFUSED,
                                "detail": exc.reason or str(exc)}  # fmt: skip
        except (ConnectionError, TimeoutError) as exc:
            # A server may simply drop a connection whose version it does not speak.
            results[version] = {"result": REFUSED, "detail": f"{type(exc).__name__}: {exc}"}
        else:
            results[version] = {"result": OFFERED, "detail": f"negotiated {negotiated}"}
    return results


def fetch_certificate(endpoint: Endpoint, timeout: float) -> x509.Certificate:
    """The leaf certificate the server presents, over whichever version it prefers (an
    old-only server still shows its certificate). The chain is verified separately
    (``verify_chain``) so that each fault gets its own reason."""
    testable = [v for v in VERSIONS if _supported_locally(v)]
    _, der = _handshake(endpoint, _probing_context(testable[0], testable[-1]), timeout)
    if not der:
        raise ssl.SSLError("the server presented no certificate")
    from cryptography import x509

    return x509.load_der_x509_certificate(der)


def verify_chain(endpoint: Endpoint, ca_file: Path | None, timeout: float) -> str | None:
    """None when the chain verifies against ``ca_file`` (or the system store); else why not.

    Hostname checking is off here: it is reported on its own by ``hostname_matches``.
    """
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.check_hostname = False
    try:
        _handshake(endpoint, context, timeout)
    except ssl.SSLCertVerificationError as exc:
        return exc.verify_message or str(exc)
    except ssl.SSLError as exc:
        return exc.reason or str(exc)
    return None


def certificate_names(certificate: x509.Certificate) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) of the subject alternative name extension."""
    from cryptography import x509

    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    dns = san.get_values_for_type(x509.DNSName)
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return dns, ips


def _dns_match(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        # A wildcard stands for exactly one leftmost label (RFC 6125 6.4.3).
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def hostname_matches(certificate: x509.Certificate, host: str) -> bool:
    dns, ips = certificate_names(certificate)
    if _is_ip(host):
        wanted = ipaddress.ip_address(host)
        return any(ipaddress.ip_address(ip) == wanted for ip in ips)
    return any(_dns_match(name, host) for name in dns)


def _common_name(certificate: x509.Certificate) -> str:
    from cryptography.x509.oid import NameOID

    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def _inspect(endpoint: Endpoint, ca_file: Path | None, timeout: float) -> dict[str, object]:
    """All the blocking work, run in a thread."""
    versions = probe_versions(endpoint, timeout)
    certificate = fetch_certificate(endpoint, timeout)
    return {
        "versions": versions,
        "certificate": certificate,
        "chain_error": verify_chain(endpoint, ca_file, timeout),
    }


@probe("tls.certificate", scopes=(Scope.TARGET,), params=CertificateParams, needs=("base_url",))
async def certificate(ctx: ProbeContext, params: CertificateParams) -> ProbeResult:
    """The service offers only TLS 1.2+ and presents an unexpired certificate for its name,
    signed by the configured CA."""
    target = ctx.target
    if not target.base_url:
        return ProbeResult(Verdict.ERROR, NO_TARGET)
    try:
        endpoint = parse_endpoint(target.base_url)
    except ValueError as exc:
        return ProbeResult(Verdict.ERROR, str(exc), {"base_url": target.base_url})
    ca_file = target.ca_file
    evidence: dict[str, object] = {
        "host": endpoint.host,
        "port": endpoint.port,
        "ca_file": str(ca_file) if ca_file else "system trust store",
        "min_version": params.min_version,
        "probe_ciphers": PERMISSIVE_CIPHERS,
    }
    if ca_file is not None and not ca_file.is_file():
        return ProbeResult(Verdict.ERROR, f"target.ca_file {ca_file} does not exist", evidence)
    try:
        found = await asyncio.to_thread(_inspect, endpoint, ca_file, params.connect_timeout)
    except Unreachable as exc:
        evidence["error"] = str(exc)
        return ProbeResult(Verdict.FAIL, f"TLS service unreachable: {exc}", evidence)
    except (ssl.SSLError, OSError) as exc:
        evidence["error"] = f"{type(exc).__name__}: {exc}"
        return ProbeResult(Verdict.FAIL, f"no TLS handshake with the service: {exc}", evidence)

    failures: list[str] = []
    warns: list[str] = []

    versions: dict[str, dict[str, str]] = found["versions"]  # type: ignore[assignment]
    evidence["versions"] = versions
    offered = [v for v in VERSIONS if versions[v]["result"] == OFFERED]
    evidence["offered"] = offered
    floor = VERSIONS.index(params.min_version)
    too_old = [v for v in offered if VERSIONS.index(v) < floor]
    if too_old:
        failures.append(f"offers {', '.join(too_old)} (below {params.min_version})")
    if not any(VERSIONS.index(v) >= floor for v in offered):
        failures.append(f"offers no version at or above {params.min_version}")
    untestable = [v for v in VERSIONS if versions[v]["result"] == UNTESTABLE]
    if any(VERSIONS.index(v) < floor for v in untestable):
        warns.append(f"could not test {', '.join(untestable)} from this host")

    cert: x509.Certificate = found["certificate"]  # type: ignore[assignment]
    now = dt.datetime.now(dt.UTC)
    days_left = (cert.not_valid_after_utc - now).total_seconds() / 86_400
    dns, ips = certificate_names(cert)
    evidence["certificate"] = {
        "subject_cn": _common_name(cert),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "days_left": round(days_left, 2),
        "dns_names": dns,
        "ip_addresses": ips,
    }
    if cert.not_valid_before_utc > now:
        failures.append(f"certificate not valid before {cert.not_valid_before_utc:%Y-%m-%d}")
    if days_left < 0:
        failures.append(f"certificate expired {-days_left:.0f} days ago")
    elif days_left < params.fail_days:
        failures.append(f"certificate expires in {days_left:.0f} days (< {params.fail_days:g})")
    elif days_left < params.warn_days:
        warns.append(f"certificate expires in {days_left:.0f} days (< {params.warn_days:g})")

    matches = hostname_matches(cert, endpoint.host)
    evidence["hostname_match"] = matches
    if not matches:
        failures.append(f"certificate is not valid for {endpoint.host} (names: {dns + ips})")

    chain_error = found["chain_error"]
    evidence["chain_verified"] = chain_error is None
    if chain_error is not None:
        evidence["chain_error"] = chain_error
        failures.append(f"chain does not verify against {evidence['ca_file']}: {chain_error}")

    if failures:
        return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
    if warns:
        return ProbeResult(Verdict.WARN, "; ".join(warns), evidence)
    reason = (
        f"offers {', '.join(offered)}; certificate valid {days_left:.0f} more days, "
        f"matches {endpoint.host}, chain verified"
    )
    return ProbeResult(Verdict.PASS, reason, evidence)
