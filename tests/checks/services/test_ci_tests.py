"""ci.tests on JUnit XML (as pytest --junitxml writes it) and Cobertura XML (as coverage.py's
``coverage xml`` writes it): green, red, skipped, filtered by suite, low coverage, broken."""

from __future__ import annotations

from pathlib import Path

from checks.probes import REGISTRY, Scope
from checks.probes.ci_tests import CiTestsParams, suite_report
from checks.runner import run_probe_named
from core.events import Verdict

from .conftest import MakeContext


def case(classname: str, name: str, inner: str = "") -> str:
    return f'<testcase classname="{classname}" name="{name}" time="0.010">{inner}</testcase>'


def junit(*cases: str, name: str = "pytest") -> str:
    failures = sum("<failure" in c for c in cases)
    errors = sum("<error" in c for c in cases)
    skipped = sum("<skipped" in c for c in cases)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="pytest tests">\n'
        f'<testsuite name="{name}" errors="{errors}" failures="{failures}" '
        f'skipped="{skipped}" tests="{len(cases)}" time="1.2" '
        'timestamp="2025-01-02T10:00:00.000000+00:00" hostname="ci">\n'
        + "\n".join(cases)
        + "\n</testsuite>\n</testsuites>\n"
    )


def cobertura(covered: int, valid: int) -> str:
    return (
        '<?xml version="1.0" ?>\n'
        f'<coverage version="7.6.1" timestamp="1735812000000" lines-valid="{valid}" '
        f'lines-covered="{covered}" line-rate="{covered / valid:.4f}" branches-covered="0" '
        'branches-valid="0" branch-rate="0" complexity="0">\n'
        "  <sources><source>/build/app</source></sources>\n"
        '  <packages><package name="app" line-rate="0.9" branch-rate="0" complexity="0">'
        "<classes/></package></packages>\n</coverage>\n"
    )


GREEN = [
    case("tests.unit.test_orders", "test_limit_order_fills"),
    case("tests.unit.test_orders", "test_market_order_fills"),
    case("tests.integration.test_api", "test_login_round_trip"),
    case("tests.security.test_auth", "test_missing_key_is_refused"),
]
FAILED = case("tests.integration.test_api", "test_orders_round_trip",
              '<failure message="assert 500 == 201">tests/integration/test_api.py:42: '
              "AssertionError</failure>")  # fmt: skip
ERRORED = case("tests.security.test_auth", "test_expired_token_is_refused",
               '<error message="failed on setup with &quot;ConnectionRefusedError&quot;">'
               "fixture 'api' failed</error>")  # fmt: skip
SKIPPED = case("tests.integration.test_feed", "test_live_feed",
               '<skipped type="pytest.skip" message="no network">skipped</skipped>')  # fmt: skip


def reports(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


async def test_a_green_suite_with_coverage_passes(tmp_path: Path, make_ctx: MakeContext) -> None:
    folder = reports(tmp_path / "r", {"junit.xml": junit(*GREEN),
                                      "coverage.xml": cobertura(873, 1000)})  # fmt: skip
    result = await suite_report(make_ctx(reports_dir=folder, scope=Scope.TARGET), CiTestsParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.reason == "4 test(s) passed; line coverage 87.3% (min 80%)"
    evidence = result.evidence
    assert (evidence["tests"], evidence["passed"], evidence["failed"]) == (4, 4, 0)
    assert evidence["line_coverage_percent"] == 87.3


async def test_failures_errors_and_skips_fail_naming_the_tests(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    folder = reports(tmp_path / "r", {"junit.xml": junit(*GREEN, FAILED, ERRORED, SKIPPED)})
    ctx = make_ctx(reports_dir=folder, scope=Scope.TARGET)
    result = await suite_report(ctx, CiTestsParams(coverage=""))
    assert result.verdict is Verdict.FAIL
    assert result.reason == (
        "2 test(s) failed or errored: tests.integration.test_api::test_orders_round_trip, "
        "tests.security.test_auth::test_expired_token_is_refused; 1 test(s) skipped"
    )
    assert result.evidence["first_failures"] == [
        "tests.integration.test_api::test_orders_round_trip (failed): assert 500 == 201",
        "tests.security.test_auth::test_expired_token_is_refused (error): failed on setup "
        'with "ConnectionRefusedError"',
    ]
    folder = reports(folder, {"junit.xml": junit(*GREEN, SKIPPED)})
    allowed = await suite_report(ctx, CiTestsParams(coverage="", allow_skipped=True))
    assert allowed.verdict is Verdict.PASS, allowed.reason
    assert allowed.reason == "4 test(s) passed (1 skipped, allowed)"


async def test_a_suite_filter_judges_its_tests_only(tmp_path: Path, make_ctx: MakeContext):
    folder = reports(tmp_path / "r", {
        "unit/junit.xml": junit(*GREEN[:2], name="unit"),
        "e2e/junit.xml": junit(GREEN[2], FAILED, name="e2e"),
        "sec/junit.xml": junit(GREEN[3], name="security"),
    })  # fmt: skip
    ctx = make_ctx(reports_dir=folder, scope=Scope.TARGET)
    everything = CiTestsParams(junit="*/junit.xml", coverage="")
    security = await suite_report(ctx, everything.model_copy(update={"suite": r"\bsecurity\b"}))
    assert security.verdict is Verdict.PASS, security.reason
    assert security.evidence["tests"] == 1
    integration = await suite_report(ctx, everything.model_copy(update={"suite": "integration"}))
    assert integration.verdict is Verdict.FAIL
    assert integration.evidence["tests"] == 2
    by_suite_name = await suite_report(ctx, everything.model_copy(update={"suite": "^unit$"}))
    assert by_suite_name.evidence["tests"] == 2
    nothing = await suite_report(ctx, everything.model_copy(update={"suite": "performance"}))
    assert nothing.verdict is Verdict.FAIL
    assert nothing.reason == "0 test(s) ran in suite 'performance', under min_tests 1"


async def test_coverage_under_the_threshold_fails(tmp_path: Path, make_ctx: MakeContext):
    folder = reports(tmp_path / "r", {"junit.xml": junit(*GREEN),
                                      "coverage.xml": cobertura(612, 1000)})  # fmt: skip
    ctx = make_ctx(reports_dir=folder, scope=Scope.TARGET)
    result = await suite_report(ctx, CiTestsParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == "line coverage 61.2% is under 80%"
    assert (await suite_report(ctx, CiTestsParams(min_coverage=60))).verdict is Verdict.PASS


async def test_malformed_or_missing_reports_are_errors_naming_file_and_line(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    broken = junit(*GREEN).replace("</testsuite>", "</testsuit>")
    folder = reports(tmp_path / "r", {"junit.xml": broken, "coverage.xml": cobertura(9, 10)})
    ctx = make_ctx(reports_dir=folder, scope=Scope.TARGET)
    result = await suite_report(ctx, CiTestsParams())
    assert result.verdict is Verdict.ERROR
    assert result.reason.startswith(f"{folder / 'junit.xml'}:8: not valid XML: mismatched tag")
    assert result.evidence["line"] == 8

    reports(folder, {"junit.xml": junit(*GREEN), "coverage.xml": "<report/>"})
    wrong_root = await suite_report(ctx, CiTestsParams())
    assert wrong_root.verdict is Verdict.ERROR
    assert wrong_root.reason == (f"{folder / 'coverage.xml'}: not a Cobertura report: its root "
                                 "element is <report>, not <coverage>")  # fmt: skip

    absent = await suite_report(ctx, CiTestsParams(junit="results/*.xml"))
    assert absent.verdict is Verdict.ERROR
    assert absent.reason == f"no JUnit report matching 'results/*.xml' in {folder}"
    no_coverage = await suite_report(ctx, CiTestsParams(coverage="cov.xml"))
    assert no_coverage.reason == f"{folder / 'cov.xml'}: not found"


async def test_without_a_reports_folder_it_is_an_error_naming_the_setting(
    make_ctx: MakeContext,
) -> None:
    result = await run_probe_named("ci.tests", {}, make_ctx(), REGISTRY, 10.0)
    assert result.verdict is Verdict.ERROR
    assert "QD_CHECK_REPORTS_DIR" in result.reason
    assert result.evidence["setting"] == "reports_dir"
