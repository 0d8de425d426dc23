"""tls.certificate agrees with an independent reference on every nginx site of the lab.

The reference (``tls_reference``) is Python's ``ssl`` with one context pinned to
each version, and the ``openssl`` command line on the certificate received; the
probe sees through sslyze and judges with nassl and cryptography. They must agree
on the versions offered, the certificate's expiry, its name and its chain, and
the probe must turn what they both see into the verdict its thresholds give.
"""

from __future__ import annotations

import socket
import ssl
import warnings

import pytest

from checks.probes.tls import CertificateParams, certificate, parse_endpoint
from core.events import Verdict

from .conftest import MakeContext, TlsLab
from .tls_reference import Seen, look, pinned_context

EXPECTED = {
    "good": Verdict.PASS,
    "expiring_20d": Verdict.FAIL,  # under fail_days
    "expiring_45d": Verdict.WARN,  # under warn_days
    "wrong_host": Verdict.FAIL,
    "other_ca": Verdict.FAIL,
    "expired": Verdict.FAIL,
    "self_signed": Verdict.FAIL,
    "no_key_id": Verdict.WARN,  # OpenSSL accepts it, a strict RFC 5280 verifier does not
    "legacy": Verdict.FAIL,  # TLS 1.0 and 1.1 beside 1.2
    "old_only": Verdict.FAIL,  # nothing but TLS 1.0 and 1.1
}


@pytest.fixture(scope="module")
def reference(tls_lab: TlsLab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Seen]:
    directory = tmp_path_factory.mktemp("reference")
    return {site: look("127.0.0.1", tls_lab.ports[site], tls_lab.ca_file, directory)
            for site in EXPECTED}  # fmt: skip


def test_every_site_of_the_lab_is_compared(tls_lab: TlsLab) -> None:
    assert set(EXPECTED) == set(tls_lab.ports)


@pytest.mark.parametrize("site", EXPECTED)
async def test_probe_and_reference_agree(
    site: str, tls_lab: TlsLab, reference: dict[str, Seen], make_ctx: MakeContext
) -> None:
    seen = reference[site]
    ctx = make_ctx(base_url=tls_lab.url(site), ca_file=tls_lab.ca_file)
    result = await certificate(ctx, CertificateParams())
    evidence = result.evidence
    assert result.verdict is EXPECTED[site], result.reason
    # The same versions offered; SSL 2.0 and 3.0, which the reference cannot send, the
    # probe finds refused (no nginx built on the system OpenSSL can offer them).
    assert evidence["offered"] == seen.offered
    versions = evidence["versions"]
    assert versions["SSLv2"]["result"] == versions["SSLv3"]["result"] == "refused"
    # The same certificate, to the second, judged the same way part by part.
    cert = evidence["certificate"]
    assert cert["not_after"] == seen.not_after.isoformat()
    assert (cert["days_left"] < 0) == seen.expired
    assert evidence["hostname_match"] == seen.name_matches
    assert evidence["chain_verified"] == seen.chain_verifies, seen.verify_output


async def test_expired_certificate_fails_on_date_and_chain(tls_lab: TlsLab, make_ctx):
    ctx = make_ctx(base_url=tls_lab.url("expired"), ca_file=tls_lab.ca_file)
    result = await certificate(ctx, CertificateParams())
    assert result.reason.startswith("certificate expired ")  # half a day ago
    assert -1 < result.evidence["certificate"]["days_left"] < 0
    assert result.evidence["chain_error"] == "certificate has expired"
    assert result.evidence["hostname_match"] is True


async def test_self_signed_certificate_fails_on_its_chain(tls_lab: TlsLab, make_ctx):
    ctx = make_ctx(base_url=tls_lab.url("self_signed"), ca_file=tls_lab.ca_file)
    result = await certificate(ctx, CertificateParams())
    assert result.evidence["hostname_match"] is True
    assert "self signed certificate" in result.evidence["chain_error"]
    assert result.reason.startswith(f"chain does not verify against {tls_lab.ca_file}")


async def test_old_protocols_only_fails_on_versions_alone(tls_lab: TlsLab, make_ctx):
    """The chain is judged on what the server sent, not over a handshake of our own, so a
    server speaking only TLS 1.0 and 1.1 is judged on its versions, not on a chain fault
    that is not there."""
    ctx = make_ctx(base_url=tls_lab.url("old_only"), ca_file=tls_lab.ca_file)
    result = await certificate(ctx, CertificateParams())
    assert result.reason == (
        "offers TLSv1, TLSv1.1 (below TLSv1.2); offers no version at or above TLSv1.2"
    )
    assert result.evidence["chain_verified"] is True
    assert result.evidence["versions"]["TLSv1.1"]["cipher_suites"]


async def test_certificate_only_a_strict_verifier_refuses_warns(tls_lab: TlsLab, make_ctx):
    ctx = make_ctx(base_url=tls_lab.url("no_key_id"), ca_file=tls_lab.ca_file)
    result = await certificate(ctx, CertificateParams())
    assert result.evidence["chain_verified"] is True  # to OpenSSL, as to the reference
    assert "missing required extension" in result.evidence["rfc5280_error"]
    assert result.reason.startswith("strict (RFC 5280) clients refuse the certificate: ")
    assert (await certificate(make_ctx(base_url=tls_lab.url("good"), ca_file=tls_lab.ca_file),
                              CertificateParams())).evidence["rfc5280_error"] is None  # fmt: skip


def test_default_security_level_would_hide_tls10_so_the_reference_lowers_it(tls_lab: TlsLab):
    """Why the reference's contexts use @SECLEVEL=0: at OpenSSL's default level the client
    itself refuses TLS 1.0, and a server that offers it would look safe."""
    endpoint = parse_endpoint(tls_lab.url("legacy"))
    address = (endpoint.host, endpoint.port)
    default = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    default.check_hostname, default.verify_mode = False, ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        default.minimum_version = default.maximum_version = ssl.TLSVersion.TLSv1
    with (
        pytest.raises(ssl.SSLError),
        socket.create_connection(address, timeout=5) as raw,
        default.wrap_socket(raw),
    ):
        pass
    with (
        socket.create_connection(address, timeout=5) as raw,
        pinned_context("TLSv1").wrap_socket(raw) as tls,
    ):
        assert tls.version() == "TLSv1"
