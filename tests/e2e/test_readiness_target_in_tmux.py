"""The readiness target set in the console, in a real terminal at 80x24: set from the
palette, examined by the next run, and printed in the release report to sign (PDF and
Markdown) and the status report the console exports."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.core.test_report import pdf_text
from tests.e2e.tmux import TmuxSession, console_env

ROOT = Path(__file__).resolve().parents[2]
TARGET = "http://127.0.0.1:9"  # nothing listens: every HTTP probe fails on this target


def test_the_target_set_in_the_console_is_in_the_exported_reports(tmp_path: Path) -> None:
    data = tmp_path / "data"
    terminal = TmuxSession(80, 24, console_env(tmp_path), ROOT)
    try:
        terminal.type(f'{sys.executable} -m console.cli; echo "EXIT=$?"')
        terminal.press("Enter")
        terminal.wait_for(lambda s: "Portfolio" in s, timeout=60)
        terminal.press("5")
        terminal.wait_for(lambda s: "Target not set" in s and "BLOCKED" in s, timeout=90)

        terminal.press("C-p")
        terminal.wait_for(lambda s: "🔎" in s, timeout=10)
        terminal.type("Set readiness target")
        terminal.wait_for(lambda s: "now not set" in s, timeout=10)
        terminal.press("Enter")
        terminal.wait_for(lambda s: "The change is audited" in s, timeout=10)
        terminal.type(TARGET)
        terminal.press("C-s")
        terminal.wait_for(lambda s: f"Target {TARGET}" in s, timeout=10)

        terminal.press("a")
        terminal.wait_for(lambda s: f"on {TARGET}" in s and "Ran every probe" in s, timeout=120)
        terminal.press("x")
        terminal.wait_for(lambda s: "Export the readiness report" in s, timeout=10)
        terminal.press("C-s")  # the release report to sign, as PDF: the first format
        terminal.wait_for(lambda s: "Report written" in s, timeout=30)
        (signed,) = (data / "exports").glob("release-report-production-*.pdf")
        assert f"Target {TARGET}" in pdf_text(signed)

        terminal.press("C-p")  # the same report as Markdown, and the status report
        terminal.wait_for(lambda s: "🔎" in s, timeout=10)
        terminal.type("Export readiness report as release markdown")
        terminal.wait_for(lambda s: "as release markdown" in s, timeout=10)
        terminal.press("Enter")
        terminal.wait_for(lambda _: any((data / "exports").glob("release-report-*.md")), timeout=30)
        (markdown,) = (data / "exports").glob("release-report-production-*.md")
        assert f"| **Target** | {TARGET} |" in markdown.read_text()
        terminal.press("C-p")
        terminal.wait_for(lambda s: "🔎" in s, timeout=10)
        terminal.type("Export readiness report as markdown")
        terminal.wait_for(lambda s: "report as markdown" in s, timeout=10)
        terminal.press("Enter")
        terminal.wait_for(lambda _: any((data / "exports").glob("readiness-production-*.md")),
                          timeout=30)  # fmt: skip
        (report,) = (data / "exports").glob("readiness-production-*.md")
        text = report.read_text()
        assert f"Target: {TARGET}" in text
        assert "target.base_url is not set" not in text

        terminal.press("q")
        terminal.wait_for(lambda s: "EXIT=0" in s, timeout=30)
    finally:
        terminal.close()
