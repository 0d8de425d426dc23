"""ReadinessService: a Deck service that runs the checklist in the background."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine

from checks import Checklist, ChecklistError, ProbeRegistry, ReadinessService, context_from_deck
from checks.catalog import Problem
from checks.probes import ProbeContext, ProbeParams, ProbeResult, Scope
from core.access import SYSTEM, Principal, Role
from core.bus import Bus
from core.config import Settings
from core.events import CheckUpdate, Verdict
from core.health.breaker import BreakerRegistry

from .support import Tracker, item

MakeChecklist = Callable[..., Checklist]


def fake_deck(settings: Settings, database_engine: Engine, mode: str = "paper") -> Any:
    """Only the Deck attributes the service is allowed to use."""
    return SimpleNamespace(
        settings=settings,
        bus=Bus(),
        store=SimpleNamespace(engine=database_engine),
        engine=SimpleNamespace(mode=mode),
        breakers=BreakerRegistry(),
    )


def test_context_from_deck_reads_settings_engine_and_mode(
    settings: Settings, wal_engine: Engine
) -> None:
    deck = fake_deck(settings, wal_engine, mode="live")
    ctx = context_from_deck(deck)
    assert ctx.settings is settings
    assert ctx.database_engine is wal_engine
    assert ctx.engine_mode == "live"


def test_context_from_deck_takes_the_target_and_environment_given(
    settings: Settings, wal_engine: Engine
) -> None:
    """The console's target (set on the Readiness screen) replaces QD_CHECK_TARGET."""
    deck = fake_deck(settings, wal_engine)
    assert ReadinessService(deck).target == settings.check_target
    ctx = context_from_deck(deck, "http://127.0.0.1:9/", "staging")
    assert (ctx.target.base_url, ctx.target.environment) == ("http://127.0.0.1:9", "staging")


async def test_start_with_builtin_checklist_runs_once_and_publishes(
    settings: Settings, wal_engine: Engine
) -> None:
    # The target's database is named; its deployment is not.
    aimed = settings.model_copy(update={"check_database_url": str(wal_engine.url)})
    deck = fake_deck(aimed, wal_engine)
    subscription = deck.bus.subscribe(CheckUpdate)
    service = ReadinessService(deck)
    await service.start()
    assert service.checklist is not None
    assert service.checklist.id == "production"
    await service.wait_idle()
    held = {"authentication.lockout", "performance.response_times", "performance.load_tested",
            "research.optimizer", "exports.generation", "jobs.background_queue",
            "monitoring.alerting"}  # fmt: skip
    probe_ids = {i.id for i in service.checklist.probe_items} - held
    assert set(service.results) == probe_ids  # all but the ones held back (see below)
    assert all(service.updates[i].reason.startswith("not run at start (") for i in held)
    assert service.results["database.sqlite_wal"].verdict is Verdict.PASS
    # Quarterdeck's own engine is on paper, but that is no evidence about the target's.
    assert service.results["trading.paper_mode"].verdict is Verdict.ERROR
    assert service.results["trading.paper_mode"].reason.startswith("target.base_url is not set")
    assert service.runs_completed == 1
    events = subscription.drain()
    # every item announced (those held back too), each run probe twice more
    assert len(events) == len(service.checklist.items) + 2 * len(probe_ids)
    await service.stop()


async def test_a_live_engine_of_quarterdeck_s_own_is_no_finding_about_the_target(
    settings: Settings, wal_engine: Engine
) -> None:
    service = ReadinessService(fake_deck(settings, wal_engine, mode="live"))
    await service.start()
    await service.wait_idle()
    assert service.results["trading.paper_mode"].verdict is Verdict.ERROR
    await service.stop()


async def test_start_returns_before_slow_run_finishes(
    settings: Settings,
    wal_engine: Engine,
    make_checklist: MakeChecklist,
    registry: ProbeRegistry,
) -> None:
    checklist = make_checklist(item("t.slow", "test.sleep", seconds=0.5))
    service = ReadinessService(
        fake_deck(settings, wal_engine), checklist=checklist, registry=registry
    )
    await service.start()
    assert service.running and "t.slow" not in service.results  # still probing
    await service.wait_idle()
    assert not service.running
    assert service.results["t.slow"].verdict is Verdict.PASS


async def test_stop_cancels_inflight_run_cleanly(
    settings: Settings,
    wal_engine: Engine,
    make_checklist: MakeChecklist,
    registry: ProbeRegistry,
    tracker: Tracker,
) -> None:
    checklist = make_checklist(
        item("t.hang", "test.sleep", seconds=60), item("t.hang2", "test.sleep", seconds=60)
    )
    service = ReadinessService(
        fake_deck(settings, wal_engine), checklist=checklist, registry=registry, timeout=120
    )
    await service.start()
    await asyncio.sleep(0.05)
    assert tracker.active == 2
    await asyncio.wait_for(service.stop(), timeout=10)  # the probes sleep 60 s
    assert not service.running
    assert tracker.active == 0  # both probes were cancelled and unwound
    assert service.results == {}


async def test_rerun_runs_again_and_refreshes_results(
    settings: Settings,
    wal_engine: Engine,
    make_checklist: MakeChecklist,
    registry: ProbeRegistry,
) -> None:
    checklist = make_checklist(item("t.count", "test.pass"))
    service = ReadinessService(
        fake_deck(settings, wal_engine), checklist=checklist, registry=registry
    )
    await service.start()
    results = await service.rerun(actor=SYSTEM)  # waits for the start-up run, then runs again
    assert results["t.count"].evidence == {"calls": 2, "scope": "target"}
    assert service.results["t.count"].evidence == {"calls": 2, "scope": "target"}
    assert service.runs_completed == 2
    await service.stop()


async def test_rerun_cancelled_by_stop_returns_latest_results(
    settings: Settings,
    wal_engine: Engine,
    make_checklist: MakeChecklist,
    registry: ProbeRegistry,
) -> None:
    checklist = make_checklist(item("t.ok", "test.pass"), item("t.hang", "test.sleep", seconds=60))
    service = ReadinessService(
        fake_deck(settings, wal_engine), checklist=checklist, registry=registry, timeout=120
    )
    rerun = asyncio.create_task(service.rerun(actor=SYSTEM))
    await asyncio.sleep(0.05)
    await service.stop()
    results = await rerun
    assert set(results) == {"t.ok"}  # the hung probe never finished
    assert results["t.ok"].verdict is Verdict.PASS


async def test_broken_catalog_is_logged_and_does_not_stop_start(
    settings: Settings,
    wal_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Checklist:
        raise ChecklistError("production.toml", [Problem(7, None, "items[0].title", "missing")])

    monkeypatch.setattr("checks.service.builtin_checklist", broken)
    service = ReadinessService(fake_deck(settings, wal_engine))
    with caplog.at_level(logging.ERROR, logger="checks.service"):
        await service.start()
    assert service.checklist is None
    assert isinstance(service.load_error, ChecklistError)
    assert not service.running
    assert "production.toml:7: items[0].title" in caplog.text
    await service.stop()


async def test_each_run_is_recorded_in_the_ledger_for_this_build(
    settings: Settings, tmp_path
) -> None:
    from checks.ledger import state
    from checks.release import Release
    from core import __version__
    from core.audit import read_entries
    from core.store import Store

    store = Store(f"sqlite:///{tmp_path / 'ledger.db'}")
    store.create_schema()
    aimed = settings.model_copy(update={"check_database_url": str(store.engine.url)})
    deck = fake_deck(aimed, store.engine)
    deck.store = store
    service = ReadinessService(deck)
    await service.start()
    await service.wait_idle()
    await service.rerun(actor=SYSTEM)
    await service.stop()
    assert service.checklist is not None
    release = Release("production", __version__, settings.environment)
    recorded = state(store, service.checklist, release)
    by_id = {s.item.id: s for s in recorded.items}
    assert by_id["database.sqlite_wal"].verdict == "pass"
    assert by_id["database.sqlite_wal"].result.actor == SYSTEM.name
    assert [e.action for e in read_entries(store)] == ["check.run", "check.run"]
    store.dispose()


async def test_rerun_of_part_of_another_checklist_records_it_for_the_version_asked(
    settings: Settings,
    tmp_path,
    make_checklist: MakeChecklist,
    registry: ProbeRegistry,
) -> None:
    from checks.ledger import history
    from checks.release import Release
    from core.store import Store

    store = Store(f"sqlite:///{tmp_path / 'ledger.db'}")
    store.create_schema()
    aimed = settings.model_copy(update={"check_database_url": str(store.engine.url)})
    deck = fake_deck(aimed, store.engine)
    deck.store = store
    subscription = deck.bus.subscribe(CheckUpdate)
    other = make_checklist(item("t.a", "test.pass"), item("t.b", "test.fail"))
    other = other.model_copy(update={"id": "other"})
    service = ReadinessService(deck, checklist=make_checklist(item("t.own", "test.pass")),
                               registry=registry)  # fmt: skip
    results = await service.rerun(
        {"t.b"}, checklist=other, version="9.9", actor=Principal("olga", Role.OPERATOR)
    )
    assert {k: r.verdict for k, r in results.items()} == {"t.b": Verdict.FAIL}
    assert service.results == {}  # only this service's own checklist is kept there
    assert {e.item_id for e in subscription.drain()} == {"t.b"}
    release = Release("other", "9.9", settings.environment)
    rows = history(store, release, "t.b")
    assert [(r.verdict, r.actor) for r in rows] == [("fail", "olga")]
    assert history(store, release, "t.a") == []
    store.dispose()


async def test_a_target_set_in_a_console_outlives_a_restart(settings: Settings) -> None:
    """The newest ``check.target`` on the audit trail is where the next start begins;
    set empty, the configured QD_CHECK_TARGET is back."""
    from core.deck import Deck

    configured = settings.model_copy(update={"check_target": "http://127.0.0.1:1"})
    admin = Principal("rita", Role.ADMIN)

    async def started() -> tuple[Deck, ReadinessService]:
        deck = Deck(configured)
        service = ReadinessService(deck, remember_target=True)
        deck.add_service(service)
        await deck.start()
        return deck, service

    deck, service = await started()
    assert service.target == "http://127.0.0.1:1"
    await service.set_target("http://127.0.0.1:9/", actor=admin)
    await deck.stop()

    deck, service = await started()
    assert service.target == "http://127.0.0.1:9"
    await service.set_target("", actor=admin)
    await deck.stop()

    deck, service = await started()
    assert service.target == "http://127.0.0.1:1"
    await deck.stop()


@pytest.mark.parametrize(
    ("registration", "why"),
    [
        # Aimed at this Quarterdeck, a lockout check at every start would lock its own
        # operators' SSH and API logins from this machine for minutes.
        ({"locks_out": True}, "it locks this machine out of the target's logins"),
        # Queued jobs, a load test or a page to on-call at every start of every console
        # would be the check disturbing what it examines.
        ({"disturbs": "it pages on-call"}, "it pages on-call"),
    ],
    ids=["locks out", "disturbs"],
)
async def test_the_start_up_run_leaves_out_probes_that_do_more_than_look(
    settings: Settings,
    wal_engine: Engine,
    make_checklist: MakeChecklist,
    registry: ProbeRegistry,
    tracker: Tracker,
    registration: dict[str, object],
    why: str,
) -> None:
    @registry.register("test.acts", scopes=(Scope.TARGET,), **registration)  # type: ignore[arg-type]
    async def acts(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
        tracker.calls += 100
        return ProbeResult(Verdict.PASS, "acted")

    checklist = make_checklist(item("t.plain", "test.pass"), item("t.acts", "test.acts"))
    service = ReadinessService(
        fake_deck(settings, wal_engine), checklist=checklist, registry=registry
    )
    await service.start()
    await service.wait_idle()
    assert set(service.results) == {"t.plain"} and tracker.calls == 1
    held = service.updates["t.acts"]  # listed by every view, waiting to be asked for
    assert (held.verdict, held.reason) == (
        Verdict.PENDING, f"not run at start ({why}): run it when asked")  # fmt: skip
    assert service.held == {"t.acts": held}  # for views opened later
    results = await service.rerun(actor=SYSTEM)  # asked for: everything runs
    assert set(results) == {"t.plain", "t.acts"}
    await service.stop()


def test_the_built_in_probes_that_do_more_than_look_say_so() -> None:
    from checks.probes import REGISTRY

    held = {spec.name for spec in REGISTRY if spec.disturbs or spec.locks_out}
    assert held == {"http.lockout", "http.load", "engine.optimize", "engine.job_control",
                    "prometheus.alerting"}  # fmt: skip
