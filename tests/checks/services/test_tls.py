"""tls.certificate against a real nginx with certificates from a test CA."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.probes import REGISTRY
from checks.probes.base import NO_TARGET
from checks.probes.tls import CertificateParams, certificate
from core.events import Verdict

from .conftest import MakeContext, TlsLab
from .servers import free_port


def test_tls_probe_is_registered_with_its_params() -> None:
    spec = REGISTRY.get("tls.certificate")
    assert spec.params is CertificateParams
    defaults = CertificateParams()
    assert (defaults.warn_days, defaults.fail_days, defaults.min_version) == (60, 30, "TLSv1.2")


async def test_good_site_passes_with_tls12_and_13_only(tls_lab: TlsLab, make_ctx: MakeContext):
    ctx = make_ctx(base_url=tls_lab.url("good"), ca_file=tls_lab.ca_file)
    result = await certificate(ctx, CertificateParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["offered"] == ["TLSv1.2", "TLSv1.3"]
    versions = result.evidence["versions"]
    assert versions["TLSv1"]["result"] == versions["TLSv1.1"]["result"] == "refused"
    assert result.evidence["hostname_match"] is True
    assert result.evidence["chain_verified"] is True
    assert 364 < result.evidence["certificate"]["days_left"] <= 365
    assert "chain verified" in result.reason


async def test_good_site_by_dns_name_passes(tls_lab: TlsLab, make_ctx: MakeContext) -> None:
    ctx = make_ctx(base_url=tls_lab.url("good", "localhost"), ca_file=tls_lab.ca_file)
    result = await certificate(ctx, CertificateParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["host"] == "localhost"


async def test_certificate_expiring_in_20_days_fails(tls_lab: TlsLab, make_ctx: MakeContext):
    ctx = make_ctx(base_url=tls_lab.url("expiring_20d"), ca_file=tls_lab.ca_file)
    result = await certificate(ctx, CertificateParams())
    assert result.verdict is Verdict.FAIL
    assert "certificate expires in 20 days (< 30)" in result.reason
    assert 19 < result.evidence["certificate"]["days_left"] <= 20


async def test_certificate_expiring_in_45_days_warns(tls_lab: TlsLab, make_ctx: MakeContext):
    ctx = make_ctx(base_url=tls_lab.url("expiring_45d"), ca_file=tls_lab.ca_file)
    result = await certificate(ctx, CertificateParams())
    assert result.verdict is Verdict.WARN
    assert result.reason == "certificate expires in 45 days (< 60)"
    lenient = await certificate(ctx, CertificateParams(warn_days=40, fail_days=10))
    assert lenient.verdict is Verdict.PASS


async def test_certificate_for_another_name_fails(tls_lab: TlsLab, make_ctx: MakeContext):
    ctx = make_ctx(base_url=tls_lab.url("wrong_host"), ca_file=tls_lab.ca_file)
    result = await certificate(ctx, CertificateParams())
    assert result.verdict is Verdict.FAIL
    assert result.evidence["hostname_match"] is False
    assert result.evidence["chain_verified"] is True  # the chain itself is fine
    assert "not valid for 127.0.0.1 (names: ['api.example.org'])" in result.reason


async def test_certificate_from_another_ca_fails(tls_lab: TlsLab, make_ctx: MakeContext):
    ctx = make_ctx(base_url=tls_lab.url("other_ca"), ca_file=tls_lab.ca_file)
    result = await certificate(ctx, CertificateParams())
    assert result.verdict is Verdict.FAIL
    assert result.evidence["chain_verified"] is False
    assert result.evidence["hostname_match"] is True
    assert "chain does not verify" in result.reason
    assert "unable to get local issuer certificate" in result.evidence["chain_error"]
    # ...and the same server verifies against the CA that did sign it.
    trusting = make_ctx(base_url=tls_lab.url("other_ca"), ca_file=tls_lab.other_ca_file)
    assert (await certificate(trusting, CertificateParams())).verdict is Verdict.PASS


async def test_without_ca_file_the_system_trust_store_decides(tls_lab: TlsLab, make_ctx):
    result = await certificate(make_ctx(base_url=tls_lab.url("good")), CertificateParams())
    assert result.verdict is Verdict.FAIL  # the test CA is in no system store
    assert result.evidence["ca_file"] == "system trust store"
    assert result.reason.startswith("chain does not verify against system trust store")


async def test_server_offering_tls10_and_11_fails(tls_lab: TlsLab, make_ctx: MakeContext):
    ctx = make_ctx(base_url=tls_lab.url("legacy"), ca_file=tls_lab.ca_file)
    result = await certificate(ctx, CertificateParams())
    assert result.verdict is Verdict.FAIL
    assert result.evidence["offered"] == ["TLSv1", "TLSv1.1", "TLSv1.2"]
    assert result.reason == "offers TLSv1, TLSv1.1 (below TLSv1.2)"
    assert result.evidence["versions"]["TLSv1"]["detail"] == "negotiated TLSv1"
    # With the floor lowered, the same server passes: only the versions were wrong.
    lowered = await certificate(ctx, CertificateParams(min_version="TLSv1"))
    assert lowered.verdict is Verdict.PASS, lowered.reason


async def test_nothing_listening_fails_without_raising(make_ctx: MakeContext, tmp_path: Path):
    ctx = make_ctx(base_url=f"https://127.0.0.1:{free_port()}/")
    result = await certificate(ctx, CertificateParams(connect_timeout=2))
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("TLS service unreachable: cannot connect to 127.0.0.1:")


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ({}, NO_TARGET),
        ({"base_url": "http://127.0.0.1:8080"}, "is not an https:// URL"),
        ({"base_url": "https://127.0.0.1:1/", "ca_file": Path("/nonexistent/ca.pem")},
         "target.ca_file /nonexistent/ca.pem does not exist"),
    ],
)  # fmt: skip
async def test_missing_or_bad_configuration_is_an_error(
    make_ctx: MakeContext, target: dict[str, object], reason: str
) -> None:
    result = await certificate(make_ctx(**target), CertificateParams())
    assert result.verdict is Verdict.ERROR
    assert reason in result.reason


def test_fail_days_above_warn_days_is_rejected() -> None:
    with pytest.raises(ValueError, match="fail_days"):
        CertificateParams(warn_days=10, fail_days=30)
