"""TLS probe: the protocol versions a service offers and the certificate it presents.

sslyze scans the service (``tls_scan``): which of SSL 2.0 to TLS 1.3 it
accepts, and the certificate chain it presents, validated by sslyze against
``target.ca_file`` (or the system's CA bundle when no CA file is configured).
That validation judges chain, name and dates as one, so the probe also judges
them apart (``tls_trust``), to give each fault its own reason: the certificate
(read with ``cryptography``) is checked for expiry, for a name matching the host
(subject alternative names only, as browsers do), and for a chain to the trust.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from checks.probes.base import NO_TARGET, ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.registry import probe
from checks.probes.tls_scan import (
    OFFERED,
    UNTESTABLE,
    VERSIONS,
    Endpoint,
    NoHandshake,
    Scan,
    Unreachable,
    parse_endpoint,
    scan,
)
from checks.probes.tls_trust import (
    certificate_names,
    hostname_matches,
    system_trust_file,
    verify_chain,
)
from core.events import Verdict

if TYPE_CHECKING:
    from cryptography import x509

# cryptography's x509 is imported where it is used: it costs the console's start ~80 ms.

SYSTEM_TRUST = "system trust store"


class CertificateParams(ProbeParams):
    warn_days: float = Field(default=60.0, ge=0)
    fail_days: float = Field(default=30.0, ge=0)
    min_version: Literal["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] = "TLSv1.2"
    connect_timeout: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> CertificateParams:
        if self.fail_days > self.warn_days:
            raise ValueError(
                f"fail_days ({self.fail_days:g}) must not exceed warn_days ({self.warn_days:g})"
            )
        return self


def _inspect(endpoint: Endpoint, trust_file: Path, timeout: float) -> tuple[Scan, str | None]:
    """All the blocking work, run in a thread: the scan, then the chain apart from the name."""
    found = scan(endpoint, trust_file, timeout)
    return found, verify_chain(found.chain, trust_file)


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
        "ca_file": str(ca_file) if ca_file else SYSTEM_TRUST,
        "min_version": params.min_version,
    }
    if ca_file is not None and not ca_file.is_file():
        return ProbeResult(Verdict.ERROR, f"target.ca_file {ca_file} does not exist", evidence)
    trust_file = ca_file or system_trust_file()
    if trust_file is None:
        reason = "no system CA bundle file to verify against: set target.ca_file"
        return ProbeResult(Verdict.ERROR, reason, evidence)
    try:
        found, chain_error = await asyncio.to_thread(
            _inspect, endpoint, trust_file, params.connect_timeout
        )
    except Unreachable as exc:
        evidence["error"] = str(exc)
        return ProbeResult(Verdict.FAIL, f"TLS service unreachable: {exc}", evidence)
    except NoHandshake as exc:
        evidence["error"] = f"{type(exc).__name__}: {exc}"
        return ProbeResult(Verdict.FAIL, f"no TLS handshake with the service: {exc}", evidence)
    evidence["scanner"] = found.scanner

    failures: list[str] = []
    warns: list[str] = []
    offered = _judge_versions(found.versions, params.min_version, evidence, failures, warns)
    cert = found.certificate
    cert_failures = _judge_certificate(cert, endpoint.host, params, evidence, warns)

    evidence["chain_verified"] = chain_error is None
    if chain_error is not None:
        evidence["chain_error"] = chain_error
        cert_failures.append(f"chain does not verify against {evidence['ca_file']}: {chain_error}")
    # sslyze's verifier (cryptography's) holds a certificate to the RFC 5280 / CA/Browser
    # Forum profile, which OpenSSL does not: a fault only it sees breaks strict clients
    # alone, so it warns.
    evidence["rfc5280_error"] = found.validation_error
    if found.validation_error is not None and not cert_failures:
        warns.append(f"strict (RFC 5280) clients refuse the certificate: {found.validation_error}")
    failures += cert_failures

    if failures:
        return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
    if warns:
        return ProbeResult(Verdict.WARN, "; ".join(warns), evidence)
    days_left = evidence["certificate"]["days_left"]  # type: ignore[index]
    reason = (
        f"offers {', '.join(offered)}; certificate valid {days_left:.0f} more days, "
        f"matches {endpoint.host}, chain verified"
    )
    return ProbeResult(Verdict.PASS, reason, evidence)


def _judge_versions(
    versions: dict[str, dict[str, object]],
    min_version: str,
    evidence: dict[str, object],
    failures: list[str],
    warns: list[str],
) -> list[str]:
    """Every offered version below ``min_version`` fails, as does offering none at or
    above it; a version below it that could not be tested warns. Returns the offered."""
    evidence["versions"] = versions
    offered = [v for v in VERSIONS if versions[v]["result"] == OFFERED]
    evidence["offered"] = offered
    floor = VERSIONS.index(min_version)  # type: ignore[arg-type]
    too_old = [v for v in offered if VERSIONS.index(v) < floor]
    if too_old:
        failures.append(f"offers {', '.join(too_old)} (below {min_version})")
    if not any(VERSIONS.index(v) >= floor for v in offered):
        failures.append(f"offers no version at or above {min_version}")
    untestable = [v for v in VERSIONS if versions[v]["result"] == UNTESTABLE]
    if any(VERSIONS.index(v) < floor for v in untestable):
        warns.append(f"could not test {', '.join(untestable)} from this host")
    return offered


def _judge_certificate(
    cert: x509.Certificate,
    host: str,
    params: CertificateParams,
    evidence: dict[str, object],
    warns: list[str],
) -> list[str]:
    """The leaf's dates against the thresholds and its names against ``host``; returns
    the failures (expiry warnings go to ``warns``)."""
    from cryptography.x509.oid import NameOID

    failures: list[str] = []
    now = dt.datetime.now(dt.UTC)
    days_left = (cert.not_valid_after_utc - now).total_seconds() / 86_400
    dns, ips = certificate_names(cert)
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    evidence["certificate"] = {
        "subject_cn": str(common_names[0].value) if common_names else "",
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

    matches = hostname_matches(cert, host)
    evidence["hostname_match"] = matches
    if not matches:
        failures.append(f"certificate is not valid for {host} (names: {dns + ips})")
    return failures
