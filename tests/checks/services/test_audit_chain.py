"""audit.chain through a real Quarterdeck's GET /api/v1/audit/verify, and on its own
store: unsigned, signed, then tampered with behind its back."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from checks.probes import Scope
from checks.probes.audit_chain import AuditChainParams, chain
from core.audit import sign_checkpoint
from core.events import Verdict
from tests.console.api.conftest import Api

from .target_api import aimed_at


async def test_a_signed_trail_passes_and_a_rewritten_entry_fails(api: Api) -> None:
    deck = api.deck
    sign_checkpoint(deck.store, deck.settings.audit_key_file)
    result = await chain(aimed_at(api), AuditChainParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["checkpoints"] >= 1
    own = await chain(aimed_at(api, scope=Scope.QUARTERDECK), AuditChainParams())
    assert own.verdict is Verdict.PASS, own.reason
    with deck.store.engine.begin() as connection:
        connection.execute(text("UPDATE audit SET actor = 'mallory' WHERE seq = 1"))
    tampered = await chain(aimed_at(api), AuditChainParams())
    assert tampered.verdict is Verdict.FAIL
    assert tampered.reason.startswith("the audit trail does NOT verify: audit entry 1 (")
    assert tampered.reason.endswith("by mallory) does not follow from the one before it")


async def test_a_trail_never_signed_fails_unless_allowed(api: Api) -> None:
    fresh = aimed_at(api)
    result = await chain(fresh, AuditChainParams())
    if result.evidence.get("checkpoints"):  # the Deck signed one at start: unsign it
        with api.deck.store.engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_checkpoints"))
        result = await chain(fresh, AuditChainParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason.endswith("entries chained but never signed: no checkpoint "
                                  "(quarterdeck audit checkpoint)")  # fmt: skip
    allowed = await chain(fresh, AuditChainParams(require_checkpoint=False, max_unsigned_entries=0))
    assert allowed.verdict is Verdict.WARN
    assert "not yet signed (over 0)" in allowed.reason


async def test_the_route_needs_credentials(api: Api) -> None:
    async with httpx.AsyncClient(base_url=api.url, verify=False) as client:
        refused = await client.get("/api/v1/audit/verify")
    assert refused.status_code == 401
