"""The readiness ledger: results, attestations, waivers, sign-offs and authorization of a
release, each audited; any change to a blocking item voids sign-offs and authorization."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from checks import Checklist, ProbeResult
from checks.ledger import LedgerError, attest, authorize, record_results, sign_off, state, waive
from checks.release import Release
from core.access import Principal, Role
from core.audit import read_entries, verify_trail
from core.events import Verdict
from core.store import Store

from .support import item

RELEASE = Release("testing", "1.4.0", "staging")
OLGA, QUINN = Principal("olga", Role.OPERATOR), Principal("quinn", Role.OPERATOR)
SAM, RITA = Principal("sam", Role.RELEASE_MANAGER), Principal("rita", Role.RELEASE_MANAGER)
CI = Principal("ci", Role.OPERATOR, source="cli")
ROLES = ("QA", "Security")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    store.create_schema()
    yield store
    store.dispose()


@pytest.fixture
def checklist(make_checklist: Callable[..., Checklist]) -> Checklist:
    advisory = {**item("ops.dashboard", "test.fail"), "severity": "advisory"}
    return make_checklist(item("api.health", "test.pass"), item("api.tls", "test.fail"),
                          item("ops.runbook_reviewed"), advisory)  # fmt: skip


def probe_run(store: Store, **verdicts: Verdict) -> None:
    results = {key.replace("_", ".", 1): ProbeResult(v, f"{v.value} reason")
               for key, v in verdicts.items()}  # fmt: skip
    record_results(store, RELEASE, results, CI)


def current(store: Store, checklist: Checklist, **kw: Any):
    return state(store, checklist, RELEASE, required_roles=ROLES, **kw)


def test_a_release_is_authorized_only_when_blocking_items_pass_and_roles_sign(
    store: Store, checklist: Checklist
) -> None:
    probe_run(store, api_health=Verdict.PASS, api_tls=Verdict.FAIL, ops_dashboard=Verdict.FAIL)
    now = current(store, checklist)
    assert [s.item.id for s in now.blocking_failures] == ["api.tls", "ops.runbook_reviewed"]
    assert not now.ready  # the advisory failure is not among them
    refusal = (
        "api.tls is fail; ops.runbook_reviewed is manual; "
        "no valid sign-off from QA; no valid sign-off from Security"
    )
    with pytest.raises(LedgerError, match=re.escape(refusal)):
        authorize(store, checklist, RELEASE, RITA, ROLES)

    attest(store, checklist, RELEASE, "ops.runbook_reviewed", Verdict.PASS, OLGA,
           "walked through the rollback runbook", "runbook v3, 2026-11-20")  # fmt: skip
    waive(store, checklist, RELEASE, "api.tls", "certificate renewal booked for Friday",
          SAM, "Security", time.time() + 7 * 86_400)  # fmt: skip
    now = current(store, checklist)
    assert now.ready and [s.status for s in now.items] == ["pass", "waived", "pass", "fail"]
    sign_off(store, checklist, RELEASE, "QA", QUINN, required_roles=ROLES)
    sign_off(store, checklist, RELEASE, "Security", SAM, required_roles=ROLES)
    authorized = authorize(store, checklist, RELEASE, RITA, ROLES)
    assert authorized.authorization is not None and authorized.authorization.who == "rita"

    actions = [e.action for e in read_entries(store)]
    assert actions == ["check.run", "deployment.refused", "check.attest", "check.waive",
                       "check.signoff", "check.signoff", "deployment.authorized"]  # fmt: skip
    assert verify_trail(store) == 7


def test_a_later_change_to_a_blocking_item_voids_sign_offs_and_authorization(
    store: Store, checklist: Checklist
) -> None:
    probe_run(store, api_health=Verdict.PASS, api_tls=Verdict.PASS)
    attest(store, checklist, RELEASE, "ops.runbook_reviewed", Verdict.PASS, OLGA, "ok")
    for role, who in (("QA", QUINN), ("Security", SAM)):
        sign_off(store, checklist, RELEASE, role, who, required_roles=ROLES)
    authorize(store, checklist, RELEASE, RITA, ROLES)
    probe_run(store, api_health=Verdict.PASS, api_tls=Verdict.PASS)  # same verdicts: still valid
    assert current(store, checklist).authorization is not None
    probe_run(store, ops_dashboard=Verdict.PASS)  # an advisory item: still valid
    assert current(store, checklist).authorization is not None

    probe_run(store, api_health=Verdict.FAIL)
    now = current(store, checklist)
    assert now.authorization is None and now.voided_authorization is not None
    assert now.missing_roles == ["QA", "Security"] and len(now.stale_signoffs) == 2
    probe_run(store, api_health=Verdict.PASS)  # back as it was: the old state, valid again
    assert current(store, checklist).authorization is not None


def test_an_expired_waiver_fails_the_item_again_and_stays_visible(
    store: Store, checklist: Checklist
) -> None:
    probe_run(store, api_health=Verdict.PASS, api_tls=Verdict.FAIL)
    attest(store, checklist, RELEASE, "ops.runbook_reviewed", Verdict.PASS, OLGA, "ok")
    expires = time.time() + 3_600
    waive(store, checklist, RELEASE, "api.tls", "renewal booked", SAM, "Security", expires)
    assert current(store, checklist).ready
    later = current(store, checklist, now=expires + 1)
    tls = later.items[1]
    assert not later.ready and tls.status == "fail" and tls.waiver is None
    assert tls.expired_waiver is not None and tls.expired_waiver.justification == "renewal booked"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda s, c: attest(s, c, RELEASE, "api.tls", Verdict.PASS, OLGA, "x"),
            "decided by the probe test.fail",
        ),
        (
            lambda s, c: attest(s, c, RELEASE, "ops.runbook_reviewed", Verdict.PASS, OLGA, " "),
            "note is required",
        ),
        (
            lambda s, c: attest(s, c, RELEASE, "nope.item", Verdict.PASS, OLGA, "x"),
            "has no item 'nope.item'",
        ),
        (
            lambda s, c: waive(s, c, RELEASE, "api.tls", "why", SAM, "Security", time.time() - 1),
            "expiry in the future",
        ),
        (
            lambda s, c: waive(s, c, RELEASE, "api.tls", "why", SAM, "Janitor", time.time() + 9),
            "unknown role 'Janitor'",
        ),
        (
            lambda s, c: waive(s, c, RELEASE, "api.tls", "", SAM, "Security", time.time() + 9),
            "justification is required",
        ),
        (
            lambda s, c: sign_off(s, c, RELEASE, "QA", Principal("", Role.OPERATOR)),
            "who is required",
        ),
    ],
)
def test_incomplete_requests_are_refused_saying_what_is_missing(
    store: Store, checklist: Checklist, call: Callable[[Store, Checklist], None], message: str
) -> None:
    with pytest.raises(LedgerError, match=message):
        call(store, checklist)
    assert read_entries(store) == []  # nothing refused is recorded
