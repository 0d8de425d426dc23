"""tls.certificate agrees with sslyze, an independent scanner, on the same nginx sites.

sslyze speaks through nassl, its own build of OpenSSL with every legacy
protocol compiled in, so its view of the versions a server offers does not
depend on the local OpenSSL (nor on the security-level trick the probe uses).
Its certificate check is cryptography's RFC 5280 server verifier, which judges
chain, validity period and name together; the probe reports them apart, so
the comparison is "sslyze validates" == "the probe found no certificate fault".
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import pytest
from sslyze import (
    CertificateInfoExtraArgument,
    ScanCommand,
    ScanCommandAttemptStatusEnum,
    ScanCommandsExtraArguments,
    Scanner,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanStatusEnum,
)

from checks.probes.tls import CertificateParams, certificate
from core.events import Verdict

from .conftest import MakeContext, TlsLab

SITES = ["good", "expiring_20d", "expiring_45d", "wrong_host", "other_ca", "legacy"]
SUITES = {
    "SSLv2": "ssl_2_0_cipher_suites",
    "SSLv3": "ssl_3_0_cipher_suites",
    "TLSv1": "tls_1_0_cipher_suites",
    "TLSv1.1": "tls_1_1_cipher_suites",
    "TLSv1.2": "tls_1_2_cipher_suites",
    "TLSv1.3": "tls_1_3_cipher_suites",
}
COMMANDS = {
    ScanCommand.CERTIFICATE_INFO,
    ScanCommand.SSL_2_0_CIPHER_SUITES,
    ScanCommand.SSL_3_0_CIPHER_SUITES,
    ScanCommand.TLS_1_0_CIPHER_SUITES,
    ScanCommand.TLS_1_1_CIPHER_SUITES,
    ScanCommand.TLS_1_2_CIPHER_SUITES,
    ScanCommand.TLS_1_3_CIPHER_SUITES,
}


@dataclass(frozen=True)
class Seen:
    """What sslyze saw on one site."""

    offered: list[str]
    not_after: dt.datetime
    validates: bool  # against the test CA (the "Supplied CA file" trust store)
    validation_error: str | None


@pytest.fixture(scope="module")
def sslyze_view(tls_lab: TlsLab) -> dict[str, Seen]:
    """One sslyze run over every site at once (it scans them concurrently)."""
    extra = ScanCommandsExtraArguments(
        certificate_info=CertificateInfoExtraArgument(custom_ca_file=tls_lab.ca_file)
    )
    requests = [
        ServerScanRequest(
            server_location=ServerNetworkLocation("127.0.0.1", tls_lab.ports[site]),
            scan_commands=COMMANDS,
            scan_commands_extra_arguments=extra,
        )
        for site in SITES
    ]
    by_port = {port: site for site, port in tls_lab.ports.items()}
    scanner = Scanner()
    with warnings.catch_warnings():
        # sslyze loads its bundled public trust stores, one of whose roots has a
        # negative serial number that cryptography warns about.
        warnings.simplefilter("ignore")
        scanner.queue_scans(requests)
        results = list(scanner.get_results())
    view: dict[str, Seen] = {}
    for result in results:
        site = by_port[result.server_location.port]
        assert result.scan_status is ServerScanStatusEnum.COMPLETED, result.connectivity_error_trace
        scans = result.scan_result
        assert scans is not None
        offered = []
        for version, attribute in SUITES.items():
            attempt = getattr(scans, attribute)
            assert attempt.status is ScanCommandAttemptStatusEnum.COMPLETED, attempt.error_trace
            if attempt.result.accepted_cipher_suites:
                offered.append(version)
        info = scans.certificate_info
        assert info.status is ScanCommandAttemptStatusEnum.COMPLETED, info.error_trace
        deployment = info.result.certificate_deployments[0]
        stores = deployment.path_validation_results
        supplied = next(p for p in stores if p.trust_store.name == "Supplied CA file")
        view[site] = Seen(
            offered,
            deployment.received_certificate_chain[0].not_valid_after_utc,
            supplied.was_validation_successful,
            supplied.validation_error,
        )
    assert set(view) == set(SITES)
    return view


@pytest.mark.parametrize("site", SITES)
async def test_probe_and_sslyze_agree(
    site: str, tls_lab: TlsLab, sslyze_view: dict[str, Seen], make_ctx: MakeContext
) -> None:
    seen = sslyze_view[site]
    ctx = make_ctx(base_url=tls_lab.url(site), ca_file=tls_lab.ca_file)
    result = await certificate(ctx, CertificateParams())
    evidence = result.evidence
    # The same versions offered, and neither saw SSLv2/SSLv3 (which the probe cannot
    # send at all: no OpenSSL it runs on has them).
    assert seen.offered == evidence["offered"]
    # The same certificate, to the second.
    assert seen.not_after.isoformat() == evidence["certificate"]["not_after"]
    # sslyze validates chain + name + dates in one verdict; the probe splits them.
    probe_finds_it_valid = (
        evidence["chain_verified"]
        and evidence["hostname_match"]
        and evidence["certificate"]["days_left"] > 0
    )
    assert seen.validates == probe_finds_it_valid, seen.validation_error
    # Expiry is a policy sslyze does not have: a certificate expiring in 20 days is
    # perfectly valid to it, and a FAIL (under fail_days) to the probe. Likewise the
    # versions: sslyze lists them, the probe judges them against min_version.
    if site == "expiring_20d":
        assert seen.validates and result.verdict is Verdict.FAIL
    if site == "legacy":
        assert {"TLSv1", "TLSv1.1"} <= set(seen.offered)
        assert result.verdict is Verdict.FAIL
