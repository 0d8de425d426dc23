"""Pointed at a bare static file server, the production checklist passes nothing that is
not about what that server shows (issue: eight items passed on Quarterdeck's own parts)."""

from __future__ import annotations

import dataclasses

from checks import builtin_checklist, run_checklist
from checks.probes import Target
from core.events import Verdict

from .conftest import MakeContext

#: What a static server on this machine can honestly show: its HTTP answers, and (since
#: it runs here) the host it runs on.
SHOWN = {"target", "target-host"}


async def test_a_static_file_server_passes_nothing_it_does_not_show(
    make_ctx: MakeContext, static_site: str
) -> None:
    ctx = dataclasses.replace(make_ctx(), target=Target(base_url=static_site, api_key="a-key"))
    checklist = builtin_checklist("production")
    results = await run_checklist(checklist, ctx, lambda update: None, timeout=30.0)
    passed = {item_id: r for item_id, r in results.items() if r.verdict is Verdict.PASS}
    assert all(r.evidence["scope"] in SHOWN for r in passed.values()), passed
    # The parts a static server has not got are errors naming the setting that would
    # give them, never verdicts drawn from Quarterdeck's own store, engine or settings.
    for item_id in ("database.reachable", "database.sqlite_wal", "trading.paper_mode",
                    "trading.risk_limits", "risk.kill_switch",
                    "security.no_weak_secrets"):  # fmt: skip
        assert results[item_id].verdict is Verdict.ERROR, (item_id, results[item_id].reason)
    assert "QD_CHECK_DATABASE_URL" in results["database.reachable"].reason
    assert "has no engine API" in results["trading.paper_mode"].reason
    assert "QD_CHECK_PROJECT_DIR" in results["security.no_weak_secrets"].reason
    # What the server does show is judged, and a bare server fails it.
    for item_id in ("security.headers", "monitoring.health_endpoint"):
        assert results[item_id].verdict in (Verdict.FAIL, Verdict.WARN), (
            item_id, results[item_id].reason)  # fmt: skip
