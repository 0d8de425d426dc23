"""The readiness screen's `x` offers the release report to sign, the same document
`quarterdeck check report` writes, as PDF or Markdown."""

from __future__ import annotations

import pytest

from checks.ledger import state
from checks.release_report import as_markdown, gather
from core.audit import read_entries
from tests.console.frozen import FROZEN_TS
from tests.console.pilot import wait_until
from tests.console.test_readiness_screen import fill, messages, open_release, release
from tests.core.test_report import pdf_text

TARGET = "https://staging.desk.example"


async def test_x_exports_the_release_report_as_pdf_and_markdown(
    make_frozen_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QD_CHECK_TARGET", TARGET)
    app = make_frozen_app()
    store = app.deck.store
    store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        tree = await open_release(pilot)
        checklist, rel = tree.checklist, release(app)
        settings = app.deck.settings
        await pilot.press("x")
        await fill(pilot, format="release pdf")
        screen = app.screen
        await wait_until(pilot, lambda: screen.exported is not None)
        pdf = screen.exported
        assert pdf.parent == settings.exports_dir and pdf.suffix == ".pdf"
        assert pdf.name == "release-report-production-3.0.0-paper-20261123T120000Z.pdf"
        assert str(pdf) in messages(app)
        (audited,) = read_entries(store, "check.report")
        assert (audited.actor, audited.detail["path"]) == (app.user.name, str(pdf))
        text = pdf_text(pdf)
        for fact in (f"Target {TARGET}", "Release 3.0.0", "NOT READY", "audit trail verified"):
            assert fact in text, fact

        screen.exported = None
        expected = as_markdown(gather(store, checklist, rel, configured_target=TARGET,
                                      audit_key_file=settings.audit_key_file,
                                      required_roles=tuple(settings.signoff_roles),
                                      now=FROZEN_TS))  # fmt: skip
        screen.action_export("release markdown")  # what the palette's command runs
        await wait_until(pilot, lambda: screen.exported is not None)
        assert screen.exported.read_text() == expected
        assert f"| **Target** | {TARGET} |" in expected
        current = state(store, checklist, rel, required_roles=tuple(settings.signoff_roles))
        assert len(current.items) == expected.count("| blocking |") + expected.count("| advisory |")
