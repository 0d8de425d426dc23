"""Readers for a CI's test reports: JUnit XML (every test's outcome) and Cobertura XML
(line coverage), as pytest (``--junitxml``) and coverage.py (``coverage xml``) write them.

Both raise ``BadInput`` naming the file (and line, from the XML parser) when a report is
not what it claims to be.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from xml.etree.ElementTree import Element  # nosec B405  a type only; parsing is in inputs

from checks.probes.inputs import BadInput, read_xml


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # an assertion failed: <failure>
    ERROR = "error"  # the test could not run to its end: <error>
    SKIPPED = "skipped"  # <skipped>, pytest's xfail included


@dataclass(frozen=True, slots=True)
class CaseResult:
    suite: str  # the enclosing <testsuite> names, outermost first, joined by "/"
    classname: str
    name: str
    outcome: Outcome
    message: str = ""

    @property
    def label(self) -> str:
        return f"{self.classname}::{self.name}" if self.classname else self.name


def read_junit(path: Path) -> list[CaseResult]:
    """Every ``<testcase>`` of a JUnit XML report (``<testsuites>`` or ``<testsuite>`` at
    the top, suites nested or not)."""
    root = read_xml(path)
    if root.tag not in ("testsuites", "testsuite"):
        raise BadInput(path, f"not a JUnit report: its root element is <{root.tag}>, "
                             "not <testsuites> or <testsuite>")  # fmt: skip
    return list(_cases(root, []))


def _cases(element: Element, suites: list[str]) -> Iterator[CaseResult]:
    if element.tag == "testsuite":
        suites = [*suites, element.get("name", "")]
    for child in element:
        if child.tag in ("testsuite", "testsuites"):
            yield from _cases(child, suites)
        elif child.tag == "testcase":
            yield _case(child, "/".join(suites))


def _case(element: Element, suite: str) -> CaseResult:
    outcome, message = Outcome.PASSED, ""
    for tag, meaning in (("error", Outcome.ERROR), ("failure", Outcome.FAILED),
                         ("skipped", Outcome.SKIPPED)):  # fmt: skip
        found = element.find(tag)
        if found is not None:
            text = found.get("message") or (found.text or "").strip()
            outcome, message = meaning, (text.splitlines() or [""])[0][:200]
            break
    return CaseResult(suite, element.get("classname", ""), element.get("name", ""), outcome,
                    message)  # fmt: skip


def read_line_coverage(path: Path) -> float:
    """A Cobertura report's line coverage in percent: lines-covered over lines-valid, or
    its line-rate when those counts are absent."""
    root = read_xml(path)
    if root.tag != "coverage":
        raise BadInput(path, f"not a Cobertura report: its root element is <{root.tag}>, "
                             "not <coverage>")  # fmt: skip
    covered, valid, rate = (root.get(name) for name in ("lines-covered", "lines-valid",
                                                        "line-rate"))  # fmt: skip
    try:
        if covered is not None and valid is not None and int(valid) > 0:
            return 100.0 * int(covered) / int(valid)
        if rate is not None:
            return 100.0 * float(rate)
    except ValueError:
        raise BadInput(path, f"<coverage> has a non-numeric line count or rate "
                             f"(lines-covered={covered!r}, lines-valid={valid!r}, "
                             f"line-rate={rate!r})") from None  # fmt: skip
    raise BadInput(path, "<coverage> has no line-rate attribute")
