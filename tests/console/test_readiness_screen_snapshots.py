"""Snapshots of the readiness screen at 120x40 and 80x24, dark and high-contrast: a release
with probe results, an attestation, a waiver and one sign-off in the ledger (fixed times),
and a run of the Risk section half done on the bus."""

from __future__ import annotations

import asyncio
import json

import pytest
from textual.widgets import Input

from checks import builtin_checklist
from checks.ledger import state
from checks.release import Release
from console.widgets.checklist_tree import ChecklistTree
from console.widgets.evidence_pane import EvidencePane
from core.events import CheckUpdate, Verdict
from core.store import CheckResultRow, SignoffRow, Store, WaiverRow
from tests.console.frozen import FROZEN_TS, SIZES, SNAPSHOT_THEMES

VERSION = "2.4.0"
RELEASE = Release("production", VERSION, "paper")
HOUR = 3600.0
TARGET = "https://paper.example.test"  # the target the seeded verdicts were given on

RESULTS = (  # item, verdict, reason, evidence, source, actor
    ("security.headers", "fail", "missing: Content-Security-Policy",
     {"missing": ["Content-Security-Policy"], "status": 200}, "probe", "console:alice"),
    ("security.cors", "error", "target.base_url is not set", {"setting": "base_url"},
     "probe", "console:alice"),
    ("database.reachable", "pass", "answered in 1 ms", {"latency_ms": 1}, "probe", "console:alice"),
    ("database.sqlite_wal", "pass", "journal mode is wal", {"journal_mode": "wal"}, "probe",
     "console:alice"),
    ("database.backup_fresh", "fail", "no backup in the last 24 h", {"newest": None}, "probe",
     "console:alice"),
    ("security.data_at_rest", "pass", "disks and backups encrypted (LUKS, age)",
     {"evidence": "PR 412"}, "attestation", "bob"),
    ("security.headers", "fail", "missing: Content-Security-Policy, X-Frame-Options",
     {"missing": ["Content-Security-Policy", "X-Frame-Options"]}, "probe", "console:alice"),
)  # fmt: skip


def seed_ledger(store: Store) -> None:
    """The release's rows, an hour apart and before the frozen clock, oldest first."""
    store.create_schema()
    checklist = builtin_checklist("production")
    where = {"checklist": RELEASE.checklist, "version": VERSION, "environment": RELEASE.environment}
    with store.session() as session:
        for n, (item_id, verdict, reason, evidence, source, actor) in enumerate(RESULTS):
            ts = FROZEN_TS - (len(RESULTS) - n) * HOUR
            session.add(CheckResultRow(**where, item_id=item_id, verdict=verdict, reason=reason,
                                       evidence_json=json.dumps(evidence), source=source,
                                       actor=actor, ts=ts, target=TARGET))  # fmt: skip
        session.add(WaiverRow(**where, item_id="security.cors", approver="carol",
                              justification="CORS is off: no browser client in paper trading",
                              approver_role="Security", expires_at=FROZEN_TS + 7 * 24 * HOUR,
                              created_at=FROZEN_TS - HOUR / 2))  # fmt: skip
        session.commit()
    current = state(store, checklist, RELEASE, now=FROZEN_TS)
    with store.session() as session:
        session.add(
            SignoffRow(
                **where,
                role="QA",
                who="dave",
                note="suite green",
                fingerprint=current.fingerprint,
                ts=FROZEN_TS - HOUR / 4,
            )
        )
        session.commit()


async def wait_for(condition, timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


async def show_release(pilot) -> None:
    """Seed the ledger, open the screen on the release, start a run of the Risk section."""
    app = pilot.app
    seed_ledger(app.deck.store)
    await pilot.press("5")
    tree = app.screen.query_one(ChecklistTree)
    await wait_for(lambda: tree.state is not None)
    app.screen.query_one("#readiness-release", Input).value = VERSION
    await wait_for(lambda: tree.state is not None and tree.state.release == RELEASE)
    for item_id in ("trading.risk_limits", "risk.kill_switch"):
        app.deck.bus.publish(CheckUpdate("production", item_id, Verdict.PENDING, "queued"))
    app.deck.bus.publish(CheckUpdate("production", "risk.kill_switch", Verdict.RUNNING, "probe"))
    limits = CheckUpdate("production", "trading.risk_limits", Verdict.PASS,
                         "limits set: order_notional, daily_loss", {"limits": 4})  # fmt: skip
    app.deck.bus.publish(limits)
    await wait_for(lambda: tree.progress.total == 2)
    tree.select_item("security.headers")
    evidence = app.screen.query_one(EvidencePane)
    await wait_for(lambda: evidence.showing == ("security.headers", 2))
    await pilot.pause(0.3)


@pytest.mark.parametrize("theme", SNAPSHOT_THEMES)
@pytest.mark.parametrize("size", SIZES)
def test_readiness_screen_snapshot_matches(snap_compare, make_frozen_app, size, theme) -> None:
    app = make_frozen_app(theme=theme)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=show_release)
