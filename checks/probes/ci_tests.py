"""``ci.tests``: the release's test suite (or a part of it: integration tests, security
tests...) ran green, with enough tests and, when asked, enough line coverage.

It reads the JUnit XML and Cobertura XML reports the release's CI left in the reports
folder (``QD_CHECK_REPORTS_DIR``). One probe serves several checklist items: ``suite``
selects the tests an item is about by a regex on their test suite or class name.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

from pydantic import Field, field_validator

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.ci_reports import CaseResult, Outcome, read_junit, read_line_coverage
from checks.probes.inputs import BadInput, bad_input, reports_dir
from checks.probes.registry import probe
from core.events import Verdict

SHOWN = 5  # failing tests named in the reason and the evidence


class CiTestsParams(ProbeParams):
    junit: str = Field(default="junit.xml", min_length=1)  # a glob in the reports folder
    #: The Cobertura coverage report; empty: coverage is not judged.
    coverage: str = "coverage.xml"
    min_coverage: float = Field(default=80.0, ge=0, le=100)
    #: A regex searched in each test's suite and class name; empty: every test.
    suite: str = ""
    min_tests: int = Field(default=1, ge=0)  # tests that ran (skipped ones do not count)
    allow_skipped: bool = False

    @field_validator("suite")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value


def selected(cases: list[CaseResult], suite: str) -> list[CaseResult]:
    if not suite:
        return cases
    pattern = re.compile(suite)
    return [c for c in cases if pattern.search(c.suite) or pattern.search(c.classname)]


def _judge(folder: Path, params: CiTestsParams) -> ProbeResult:
    reports = sorted(path for path in folder.glob(params.junit) if path.is_file())
    evidence: dict[str, object] = {"junit_reports": [str(path) for path in reports],
                                   "suite": params.suite or "(all)"}  # fmt: skip
    if not reports:
        reason = f"no JUnit report matching {params.junit!r} in {folder}"
        return ProbeResult(Verdict.ERROR, reason, evidence)
    try:
        cases = selected([case for path in reports for case in read_junit(path)], params.suite)
        coverage = read_line_coverage(folder / params.coverage) if params.coverage else None
    except BadInput as exc:
        return bad_input(exc, evidence)
    counts = Counter(case.outcome for case in cases)
    broken = [c for c in cases if c.outcome in (Outcome.FAILED, Outcome.ERROR)]
    ran = len(cases) - counts[Outcome.SKIPPED]
    evidence.update(
        tests=len(cases), ran=ran, **{outcome.value: counts[outcome] for outcome in Outcome},
        first_failures=[f"{c.label} ({c.outcome}): {c.message}" for c in broken[:SHOWN]],
    )  # fmt: skip
    if coverage is not None:
        evidence.update(coverage_report=str(folder / params.coverage),
                        line_coverage_percent=round(coverage, 2),
                        min_coverage=params.min_coverage)  # fmt: skip
    problems = []
    if broken:
        named = ", ".join(c.label for c in broken[:SHOWN])
        more = f" and {len(broken) - SHOWN} more" if len(broken) > SHOWN else ""
        problems.append(f"{len(broken)} test(s) failed or errored: {named}{more}")
    if counts[Outcome.SKIPPED] and not params.allow_skipped:
        problems.append(f"{counts[Outcome.SKIPPED]} test(s) skipped")
    if ran < params.min_tests:
        where = f" in suite {params.suite!r}" if params.suite else ""
        problems.append(f"{ran} test(s) ran{where}, under min_tests {params.min_tests}")
    if coverage is not None and coverage < params.min_coverage:
        problems.append(f"line coverage {coverage:.1f}% is under {params.min_coverage:g}%")
    if problems:
        return ProbeResult(Verdict.FAIL, "; ".join(problems), evidence)
    reason = f"{ran} test(s) passed"
    if counts[Outcome.SKIPPED]:
        reason += f" ({counts[Outcome.SKIPPED]} skipped, allowed)"
    if coverage is not None:
        reason += f"; line coverage {coverage:.1f}% (min {params.min_coverage:g}%)"
    return ProbeResult(Verdict.PASS, reason, evidence)


@probe("ci.tests", scopes=(Scope.TARGET,), params=CiTestsParams, needs=("reports_dir",))
async def suite_report(ctx: ProbeContext, params: CiTestsParams) -> ProbeResult:
    """The release's tests passed in its CI, enough of them ran, and coverage meets the bar.

    From its JUnit and Cobertura reports; ``suite`` selects the tests an item is about."""
    return await asyncio.to_thread(_judge, reports_dir(ctx), params)
