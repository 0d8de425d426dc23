"""Pilot tests of the readiness screen: runs (all, a section, an item) against the Deck
itself, and the ledger's side (attest, waive, sign off, authorize, export) recorded with
the user's name, exactly as ``quarterdeck check`` records it."""

from __future__ import annotations

import json
import time

from textual.widgets import Input, Select, Static

from checks import builtin_checklist
from checks.ledger import history, state
from checks.release import Release
from checks.reports import as_json, as_markdown
from console.screens.confirm import ConfirmScreen
from console.screens.form import FormScreen
from console.widgets.checklist_tree import ChecklistTree, item_status
from console.widgets.evidence_pane import EvidencePane
from core.access import Role
from core.audit import read_entries
from core.config import Settings
from core.store import SignoffRow, WaiverRow
from tests.console.frozen import FROZEN_TS
from tests.console.pilot import make_app, static_text, wait_until

VERSION = "3.0.0"


def release(app, checklist: str = "production") -> Release:
    return Release(checklist, VERSION, app.deck.settings.environment)


async def open_release(pilot) -> ChecklistTree:
    """Switch to the readiness screen and to ``VERSION`` of the production checklist."""
    await pilot.press("5")
    tree = pilot.app.screen.query_one(ChecklistTree)
    await wait_until(pilot, lambda: tree.state is not None)
    pilot.app.screen.query_one("#readiness-release", Input).value = VERSION
    await wait_until(pilot, lambda: tree.state.release.version == VERSION)
    return tree


async def fill(pilot, **values: str) -> None:
    """Fill the open form and submit it."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, FormScreen))
    form = pilot.app.screen
    for key, value in values.items():
        widget = form.query_one(f"#form-{key}")
        assert isinstance(widget, Input | Select)
        widget.value = value
    await pilot.press("ctrl+s")


def statuses(tree: ChecklistTree, *item_ids: str) -> list[str]:
    states = {s.item.id: s for s in tree.state.items}
    return [item_status(states[i], tree.live.get(i)) for i in item_ids]


def messages(app) -> str:
    return "\n".join(n.message for n in app._notifications)


async def test_runs_of_a_section_an_item_and_everything_are_live_and_recorded(
    settings: Settings,
) -> None:
    # The target's database is this Deck's own; no deployment URL is set.
    aimed = settings.model_copy(update={"check_database_url": settings.resolved_database_url})
    app, deck = make_app(aimed)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        await app.readiness.wait_idle()  # the run every Deck starts with
        tree = await open_release(pilot)
        actor = app.user.name
        store, rel = deck.store, release(app)

        tree.select_item("database.reachable")
        await pilot.press("s")  # the section Database & backups: seven probes
        await wait_until(pilot, lambda: tree.progress.total == 7 and not tree.progress.running)
        section = ("database.reachable", "database.sqlite_wal", "database.backup_fresh")
        await wait_until(pilot, lambda: statuses(tree, *section) == ["pass", "pass", "error"])
        assert [r.actor for r in history(store, rel, "database.reachable")] == [actor]
        assert history(store, rel, "trading.paper_mode") == []  # not in the section

        tree.select_item("trading.paper_mode")
        await pilot.press("i")
        await wait_until(pilot, lambda: len(history(store, rel, "trading.paper_mode")) == 1)
        assert history(store, rel, "trading.risk_limits") == []
        # The Deck's own engine is on paper, but the item is about the target's.
        await wait_until(pilot, lambda: statuses(tree, "trading.paper_mode") == ["error"])

        tree.select_item("security.data_at_rest")
        await pilot.press("i")  # a manual item is attested, not run
        await wait_until(pilot, lambda: "is manual: attest it" in messages(app))

        await pilot.press("a")
        probes = [i.id for i in tree.checklist.probe_items]
        await wait_until(pilot, lambda: tree.progress.total == len(probes))
        await wait_until(pilot, lambda: all(history(store, rel, i) for i in probes), 60)
        await wait_until(pilot, lambda: "pending" not in statuses(tree, *probes))
        assert statuses(tree, "risk.kill_switch") == ["error"]  # no target set
        assert statuses(tree, "monitoring.health_endpoint") == ["error"]
        runs = [e for e in read_entries(store, "check.run") if e.subject == str(rel)]
        assert [e.actor for e in runs] == [actor] * 3
        await pilot.press("q")


async def test_attest_waive_and_sign_off_are_recorded_with_the_user(make_frozen_app) -> None:
    app = make_frozen_app(role=Role.RELEASE_MANAGER, user="rita")
    app.deck.store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        tree = await open_release(pilot)
        store, rel = app.deck.store, release(app)
        checklist = builtin_checklist("production")

        tree.select_item("infrastructure.timeouts")
        await pilot.press("t")
        await pilot.press("escape")  # cancelled: nothing recorded
        assert history(store, rel, "infrastructure.timeouts") == []
        await pilot.press("t")
        await fill(pilot, verdict="warn", note="schemas on 11 of 12 routes", evidence="PR 412")
        await wait_until(pilot, lambda: statuses(tree, "infrastructure.timeouts") == ["warn"])
        (row,) = history(store, rel, "infrastructure.timeouts")
        assert (row.source, row.actor, row.verdict) == ("attestation", "rita", "warn")
        evidence = app.screen.query_one(EvidencePane)
        await wait_until(pilot, lambda: "attested by rita for Development"
                         in static_text(evidence.query_one("#evidence-body", Static)))  # fmt: skip
        (entry,) = read_entries(store, "check.attest")
        assert entry.actor == "rita" and entry.detail["evidence"] == "PR 412"

        tree.select_item("security.headers")
        await pilot.press("W")
        await fill(pilot, justification="CSP lands in 3.0.1", role="Security", days="3")
        await wait_until(pilot, lambda: bool(read_entries(store, "check.waive")))
        current = state(store, checklist, rel)  # on the real clock, as the CLI judges it
        by_id = {s.item.id: s for s in current.items}
        waiver = by_id["security.headers"].waiver
        assert isinstance(waiver, WaiverRow) and waiver.approver == "rita"
        assert abs(waiver.expires_at - (time.time() + 3 * 86_400)) < 60

        await pilot.press("S")
        await fill(pilot, role="QA", note="suite green")
        await wait_until(pilot, lambda: bool(read_entries(store, "check.signoff")))
        signed = state(store, checklist, rel).signed
        assert isinstance(signed["QA"], SignoffRow) and signed["QA"].who == "rita"
        (entry,) = read_entries(store, "check.signoff")
        assert entry.actor == "rita" and entry.detail["role"] == "QA"

        await pilot.press("A")  # not ready: the ledger refuses, and audits the refusal
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: bool(read_entries(store, "deployment.refused")))
        assert read_entries(store, "deployment.refused")[0].actor == "rita"
        assert state(store, checklist, rel).authorization is None
        # a summary in the evidence pane, not a screen-tall toast listing every item
        evidence = app.screen.query_one(EvidencePane)
        await wait_until(pilot, lambda: evidence.border_title == "Authorization refused")
        shown = static_text(evidence.query_one("#evidence-body", Static))
        assert "cannot be authorized" in shown and "blocking item(s) unsatisfied:" in shown
        assert "40 pending, 14 manual" in shown  # counted by state
        assert "more, listed below" in shown and "Sign-offs missing (7)" in shown
        (toast,) = [n.message for n in app._notifications if "Not authorized" in n.message]
        assert len(toast) < 100 and "security." not in toast
        tree.select_item("security.cors")  # moving on shows the evidence again
        await wait_until(pilot, lambda: evidence.border_title == "Evidence · security.cors")


async def test_viewer_cannot_sign_off_and_only_the_refusals_are_recorded(make_frozen_app) -> None:
    app = make_frozen_app(role=Role.VIEWER, user="vic")
    app.deck.store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_release(pilot)
        screen = app.screen
        assert "may not sign off" in (screen.denial_for("sign_off") or "")
        assert screen.active_bindings["S"].enabled is False
        await pilot.press("S")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, FormScreen)
        assert "Sign off: the viewer role may not sign off" in messages(app)
        await pilot.press("A")
        assert "Authorize: the viewer role may not authorize" in messages(app)
        await wait_until(pilot, lambda: len(read_entries(app.deck.store)) == 2)
        refused = sorted((e.actor, e.action) for e in read_entries(app.deck.store))
        assert refused == [("vic", "denied.check.signoff"), ("vic", "denied.deployment.authorize")]


async def test_an_operator_may_sign_off_but_not_authorize(make_frozen_app) -> None:
    app = make_frozen_app(role=Role.OPERATOR, user="otto")
    app.deck.store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_release(pilot)
        assert app.screen.denial_for("sign_off") is None
        assert "needs release_manager" in (app.screen.denial_for("authorize") or "")


async def test_export_writes_the_report_checks_reports_gives_for_the_same_state(
    make_frozen_app,
) -> None:
    app = make_frozen_app()
    store = app.deck.store
    store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        tree = await open_release(pilot)
        checklist, rel = tree.checklist, release(app)
        roles = tuple(app.deck.settings.signoff_roles)
        await pilot.press("x")
        await fill(pilot, format="json")
        screen = app.screen
        await wait_until(pilot, lambda: screen.exported is not None)
        path = screen.exported
        assert path.parent == app.deck.settings.exports_dir and path.suffix == ".json"
        expected = as_json(state(store, checklist, rel, required_roles=roles, now=FROZEN_TS))
        assert json.loads(path.read_text()) == expected
        assert str(path) in messages(app)

        screen.exported = None
        screen.action_export("markdown")  # what the palette's "Export ... as markdown" runs
        await wait_until(pilot, lambda: screen.exported is not None)
        expected_md = as_markdown(state(store, checklist, rel, required_roles=roles, now=FROZEN_TS))
        assert screen.exported.read_text() == expected_md
        assert "NOT READY" in expected_md


async def test_palette_offers_state_aware_readiness_commands(make_frozen_app) -> None:
    app = make_frozen_app(role=Role.VIEWER)
    app.deck.store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        tree = await open_release(pilot)
        tree.select_item("security.data_at_rest")
        await pilot.pause(0.1)
        commands = {c.title: c for c in app.screen.palette_commands()}
        assert "Run section Security" in commands and "Attest security.data_at_rest" in commands
        assert "Sign off as QA" in commands
        attest = commands["Attest security.data_at_rest"].needs or ""
        assert "may not attest" in (app.screen.denial_for(attest) or "")
        assert "Readiness checklist: monitoring" in commands
        commands["Readiness checklist: monitoring"].run()
        await wait_until(pilot, lambda: tree.checklist.id == "monitoring")
        await wait_until(pilot, lambda: tree.state.release.checklist == "monitoring")


async def test_a_target_set_in_the_console_is_examined_by_the_next_run_and_recorded(
    make_frozen_app,
) -> None:
    """The palette's "Set readiness target…" (audited: who, from what, to what) makes the
    next run probe that target; its verdicts, the banner and the report carry it."""
    app = make_frozen_app(role=Role.RELEASE_MANAGER, user="rita")
    store = app.deck.store
    store.create_schema()
    target = "http://127.0.0.1:9"  # nothing listens: the probe fails on it, not on "not set"
    async with app.run_test(size=(120, 40)) as pilot:
        tree = await open_release(pilot)
        commands = {c.title: c for c in app.screen.palette_commands()}
        assert {"Set readiness target…", "Set readiness release…",
                "Set readiness environment…"} <= set(commands)  # fmt: skip
        commands["Set readiness target…"].run()
        await fill(pilot, value=target + "/")
        await wait_until(pilot, lambda: app.readiness.target == target)
        (entry,) = read_entries(store, "check.target")
        assert (entry.actor, entry.detail["from"], entry.detail["to"]) == ("rita", "", target)
        assert app.screen.query_one("#readiness-target", Input).value == target

        tree.select_item("monitoring.health_endpoint")
        await pilot.press("i")
        rel = release(app)
        await wait_until(pilot, lambda: bool(history(store, rel, "monitoring.health_endpoint")))
        (row,) = history(store, rel, "monitoring.health_endpoint")
        assert row.target == target and "base_url is not set" not in row.reason
        await wait_until(pilot, lambda: tree.state.targets == [target])
        banner = static_text(app.screen.query_one("#readiness-banner", Static))
        assert f"on {target}" in banner
        screen = app.screen
        screen.action_export("markdown")
        await wait_until(pilot, lambda: screen.exported is not None)
        assert f"Target: {target}" in screen.exported.read_text()


async def test_release_and_environment_edits_are_audited_from_and_to(make_frozen_app) -> None:
    app = make_frozen_app(role=Role.VIEWER, user="vic")
    store = app.deck.store
    store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        tree = await open_release(pilot)  # typed, not committed yet
        field = app.screen.query_one("#readiness-release", Input)
        field.focus()
        await pilot.press("enter")  # committed
        await wait_until(pilot, lambda: bool(read_entries(store, "check.release")))
        (entry,) = read_entries(store, "check.release")
        assert (entry.actor, entry.detail["to"]) == ("vic", VERSION)
        {c.title: c for c in app.screen.palette_commands()}["Set readiness environment…"].run()
        await fill(pilot, value="staging")
        await wait_until(pilot, lambda: tree.state.release.environment == "staging")
        (entry,) = read_entries(store, "check.environment")
        assert (entry.detail["from"], entry.detail["to"]) == ("paper", "staging")
        # a viewer may look at another release, not change what the probes examine
        assert "may not run checks" in (app.screen.denial_for("set_target") or "")


async def test_failing_only_shows_the_failing_items_and_follows_new_verdicts(
    make_frozen_app,
) -> None:
    from core.events import CheckUpdate, Verdict
    from tests.console.test_fits_terminal_sizes import footer_rows

    app = make_frozen_app()
    app.deck.store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        tree = await open_release(pilot)
        screen = app.screen
        await pilot.pause(0.1)
        assert "f Failing only" in "".join(footer_rows(app))
        keys = [b.key for b in screen.BINDINGS]
        assert len(keys) == len(set(keys))
        await pilot.press("f")
        await wait_until(pilot, lambda: tree.failing_only)
        assert tree.border_title.endswith("failing only: 0 of 90")
        app.deck.bus.publish(CheckUpdate("production", "security.headers", Verdict.FAIL, "CSP"))
        await wait_until(pilot, lambda: list(tree._items) == ["security.headers"])
        assert tree.border_title.endswith("failing only: 1 of 90")
        await pilot.press("f")
        await wait_until(pilot, lambda: len(tree._items) == 90)


async def test_a_session_opened_after_the_start_up_run_sees_why_items_were_held(
    settings: Settings,
) -> None:
    """The lockout check and the others that do more than look are left out of the run
    every start makes; a view opened after it still says why, not just "not run yet"."""
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        await app.readiness.wait_idle()  # the start-up run, over before the screen opens
        tree = await open_release(pilot)
        tree.select_item("authentication.lockout")
        evidence = app.screen.query_one(EvidencePane)
        body = evidence.query_one("#evidence-body", Static)
        await wait_until(pilot, lambda: "not run at start (it locks this machine out"
                         in static_text(body))  # fmt: skip
        assert item_status(tree.item_state("authentication.lockout"),
                           tree.live.get("authentication.lockout")) == "pending"  # fmt: skip
