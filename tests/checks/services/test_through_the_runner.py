"""Every service probe through the real runner, registry and checklist model at once."""

from __future__ import annotations

import json
from pathlib import Path

from checks import Checklist, run_checklist
from checks.probes import REGISTRY
from core.config import Settings
from core.events import CheckUpdate, Verdict

from ..support import item
from .conftest import MakeContext, TlsLab
from .test_backup import make_backup
from .test_bandit import REPO

SERVICE_PROBES = {
    "tls": ("tls.certificate", {"warn_days": 60, "fail_days": 30, "min_version": "TLSv1.2"}),
    "redis": ("redis.config", {}),
    "backup": ("database.backup", {"max_age_hours": 24, "pattern": "*.db"}),
    "bandit": ("code.bandit", {"paths": ["core", "checks", "console"]}),
    "cpu": ("host.cpu", {"max_load_per_core": 1000, "warn_load_per_core": 1000}),
    "clock": ("host.clock", {"max_offset_ms": 500}),
    "limits": ("engine.risk_limits", {}),
    "kill": ("engine.kill_switch", {}),
}
#: The lab's target is no Quarterdeck: the engine probes examine Quarterdeck's own.
OWN_PARTS = {"limits": "quarterdeck", "kill": "quarterdeck"}


async def test_service_probes_run_under_the_runner_with_json_evidence(
    tls_lab: TlsLab, make_ctx: MakeContext, tmp_path: Path
) -> None:
    data = {
        "id": "services",
        "title": "Services",
        "description": "d",
        "items": [
            item(f"svc.{key}", probe, scope=OWN_PARTS.get(key), **params)
            for key, (probe, params) in SERVICE_PROBES.items()
        ],
    }
    checklist = Checklist.model_validate(data, context={"registry": REGISTRY})
    make_backup(tmp_path, tmp_path / "backups")
    settings = Settings(
        risk_max_order_notional=1e5, risk_max_position_notional=1e6, risk_daily_loss_limit=1e4
    )
    ctx = make_ctx(
        settings,
        base_url=tls_lab.url("good"),
        ca_file=tls_lab.ca_file,
        redis_url="redis://127.0.0.1:1/0",  # nothing there: a FAIL, not an exception
        backup_dir=tmp_path / "backups",
        project_dir=REPO,
    )
    events: list[CheckUpdate] = []
    results = await run_checklist(checklist, ctx, events.append, timeout=10.0)
    results = {key.removeprefix("svc."): result for key, result in results.items()}
    verdicts = {key: result.verdict for key, result in results.items()}
    assert verdicts == {
        "tls": Verdict.PASS, "redis": Verdict.FAIL, "backup": Verdict.PASS,
        "bandit": Verdict.PASS, "cpu": Verdict.PASS, "clock": Verdict.PASS,
        "limits": Verdict.PASS, "kill": Verdict.PASS,
    }, {key: result.reason for key, result in results.items()}  # fmt: skip
    for key, result in results.items():
        json.dumps(result.evidence, allow_nan=False)  # evidence is stored as JSON
        assert result.elapsed is not None and result.elapsed >= 0, key
    assert [e.verdict for e in events if e.item_id == "svc.kill"][-1] is Verdict.PASS
