"""Roles enforced by the readiness commands themselves: the ledger (attest, waive, sign
off, authorize, record a run), the readiness service's runs and runbook steps.

Each role against each command, called directly (not through the console) on a real
started Deck with its readiness service: a role that may, does, audited with its
source; a role that may not is refused (``PermissionDenied``), the release is as it
was, and the refusal is audited as ``denied.<action>``. Who may do what is written
out here, so a change to ``core.access.GRANTS`` has to change this contract too.
Sign-off is an operator's too (they sign for Operations); authorizing is not.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from checks import Checklist, ProbeRegistry, ProbeResult, ReadinessService
from checks.ledger import attest, authorize, history, record_results, sign_off, state, waive
from checks.release import Release
from checks.runbooks.execute import RunbookSession, audit_to
from core.access import Capability, PermissionDenied, Principal, Role
from core.audit import AuditEntry, read_entries, verify_trail
from core.config import Settings
from core.deck import Deck
from core.events import Verdict

from .support import item
from .test_runbook_execute import Runbook, Step

ROOT = Principal("root", Role.ADMIN)  # sets the scene; never the actor under test
SOURCE = "ssh 10.0.0.7:40022"
ROLES = ("QA",)
EVERYONE_BUT_VIEWERS = frozenset({Role.OPERATOR, Role.RELEASE_MANAGER, Role.ADMIN})
RELEASE_MANAGERS = frozenset({Role.RELEASE_MANAGER, Role.ADMIN})


@dataclass
class World:
    deck: Deck
    service: ReadinessService
    checklist: Checklist
    release: Release
    folder: Path

    def state(self) -> Any:
        return state(self.deck.store, self.checklist, self.release, required_roles=ROLES)

    async def ledger(self, call: Callable[..., Any], *arguments: Any) -> Any:
        return await asyncio.to_thread(call, self.deck.store, *arguments)


@pytest.fixture
def checklist(make_checklist: Callable[..., Checklist]) -> Checklist:
    return make_checklist(item("api.health", "test.pass"), item("api.tls", "test.fail"),
                          item("ops.runbook_reviewed"))  # fmt: skip


@pytest.fixture
async def world(
    settings: Settings, checklist: Checklist, registry: ProbeRegistry, tmp_path: Path
) -> AsyncIterator[World]:
    deck = Deck(settings)
    service = ReadinessService(deck, checklist=checklist, registry=registry)
    deck.add_service(service)
    await deck.start()
    await service.wait_idle()  # the run every Deck starts with, as the Deck itself
    release = Release(checklist.id, "1.0", settings.environment)
    try:
        yield World(deck, service, checklist, release, tmp_path)
    finally:
        await deck.stop()


# --- the scenes, the commands, and what each changes -----------------------------------


async def nothing(w: World) -> None:
    return None


async def ready_and_signed(w: World) -> None:
    passing = {"api.health": ProbeResult(Verdict.PASS, "ok"),
               "api.tls": ProbeResult(Verdict.PASS, "ok")}  # fmt: skip
    await w.ledger(record_results, w.release, passing, ROOT)
    await w.ledger(attest, w.checklist, w.release, "ops.runbook_reviewed", Verdict.PASS, ROOT,
                   "walked through it")  # fmt: skip
    await w.ledger(sign_off, w.checklist, w.release, "QA", ROOT, "", ROLES)
    assert w.state().authorizable


async def record_a_run(w: World, actor: Principal) -> None:
    results = {"api.health": ProbeResult(Verdict.PASS, "ok")}
    await w.ledger(record_results, w.release, results, actor)


async def rerun(w: World, actor: Principal) -> None:
    await w.service.rerun(version=w.release.version, actor=actor)


async def attest_manual(w: World, actor: Principal) -> None:
    await w.ledger(attest, w.checklist, w.release, "ops.runbook_reviewed", Verdict.PASS, actor,
                   "walked through it", "runbook v3")  # fmt: skip


async def waive_tls(w: World, actor: Principal) -> None:
    await w.ledger(waive, w.checklist, w.release, "api.tls", "renewal booked", actor, "Security",
                   time.time() + 86_400)  # fmt: skip


async def sign_for_qa(w: World, actor: Principal) -> None:
    await w.ledger(sign_off, w.checklist, w.release, "QA", actor, "", ROLES)


async def authorize_release(w: World, actor: Principal) -> None:
    await w.ledger(authorize, w.checklist, w.release, actor, ROLES)


async def run_runbook_step(w: World, actor: Principal) -> None:
    book = Runbook([Step("preserve", "shell", f"touch {w.folder / 'ran'}")])
    session = RunbookSession(book, actor=actor, audit=audit_to(w.deck.store, actor))
    await session.start()
    await session.run_next(yes)


async def yes(step: Any) -> bool:
    return True


def verdicts(item_id: str) -> Callable[[World], Hashable]:
    return lambda w: len(history(w.deck.store, w.release, item_id))


@dataclass(frozen=True)
class Case:
    name: str
    capability: Capability
    may: frozenset[Role]
    scene: Callable[[World], Awaitable[None]]
    act: Callable[[World, Principal], Awaitable[None]]
    observe: Callable[[World], Hashable]
    denied: str  # the refused action, audited as denied.<it>
    done: tuple[str, ...]  # the audit actions of a command that ran

    def __str__(self) -> str:
        return self.name


CASES = [
    Case("record a run", Capability.RUN_CHECKS, EVERYONE_BUT_VIEWERS, nothing, record_a_run,
         verdicts("api.health"), "check.run", ("check.run",)),
    Case("run checks", Capability.RUN_CHECKS, EVERYONE_BUT_VIEWERS, nothing, rerun,
         lambda w: w.service.runs_completed, "check.run", ("check.run",)),
    Case("attest", Capability.ATTEST, EVERYONE_BUT_VIEWERS, nothing, attest_manual,
         verdicts("ops.runbook_reviewed"), "check.attest", ("check.attest",)),
    Case("waive", Capability.WAIVE, RELEASE_MANAGERS, nothing, waive_tls,
         lambda w: w.state().items[1].status, "check.waive", ("check.waive",)),
    Case("sign off", Capability.SIGN_OFF, EVERYONE_BUT_VIEWERS, nothing, sign_for_qa,
         lambda w: tuple(w.state().signed), "check.signoff", ("check.signoff",)),
    Case("authorize", Capability.AUTHORIZE, RELEASE_MANAGERS, ready_and_signed,
         authorize_release, lambda w: w.state().authorization is not None,
         "deployment.authorize", ("deployment.authorized",)),
    Case("runbook step", Capability.RUN_RUNBOOK, frozenset({Role.OPERATOR, Role.ADMIN}), nothing,
         run_runbook_step, lambda w: (w.folder / "ran").exists(), "runbook.start",
         ("runbook.start", "runbook.step", "runbook.finish")),
]  # fmt: skip


async def entries(w: World) -> list[AuditEntry]:
    return await asyncio.to_thread(read_entries, w.deck.store)


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_each_readiness_command_runs_for_the_roles_that_may_and_is_refused_otherwise(
    world: World, case: Case, role: Role
) -> None:
    actor = Principal(f"{role.value}-user", role, source=SOURCE)
    await case.scene(world)
    before = case.observe(world)
    already = len(await entries(world))
    if role in case.may:
        await case.act(world, actor)
        assert case.observe(world) != before
        new = (await entries(world))[already:]
        assert [(e.actor, e.action, e.detail["source"]) for e in new] == [
            (actor.name, action, SOURCE) for action in case.done
        ]
    else:
        with pytest.raises(PermissionDenied) as refused:
            await case.act(world, actor)
        assert case.observe(world) == before  # the release is as it was
        error = refused.value
        assert (error.principal, error.capability) == (actor, case.capability)
        assert str(error).startswith(f"{actor.name}: the {role.value} role may not ")
        (denied,) = (await entries(world))[already:]
        assert (denied.actor, denied.action) == (actor.name, f"denied.{case.denied}")
        assert denied.detail["role"] == role.value and denied.detail["source"] == SOURCE
        assert denied.detail["capability"] == case.capability.value
    assert await asyncio.to_thread(verify_trail, world.deck.store) == len(await entries(world))
