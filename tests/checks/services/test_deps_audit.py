"""deps.audit on pip-audit JSON reports as pip-audit 2.x writes them
(``pip-audit --format json --aliases``): clean, vulnerable, stale, partial, malformed."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from checks.probes import REGISTRY, Scope
from checks.probes.deps_audit import AuditParams, audit
from checks.runner import run_probe_named
from core.events import Verdict

from .conftest import MakeContext

JINJA_VULN = {"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"],
              "aliases": ["CVE-2024-22195"]}  # fmt: skip
REQUESTS_VULN = {"id": "PYSEC-2023-74", "fix_versions": ["2.31.0"], "aliases": ["CVE-2023-32681"]}


def report(*dependencies: dict[str, Any]) -> dict[str, Any]:
    """A report in pip-audit's JSON format: every dependency, and the fixes it found."""
    fixes = [{"name": d["name"], "old_version": d["version"], "new_version": v["fix_versions"][0]}
             for d in dependencies for v in d.get("vulns", ())]  # fmt: skip
    return {"dependencies": list(dependencies), "fixes": fixes}


def dep(name: str, version: str, *vulns: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "version": version, "vulns": list(vulns)}


CLEAN = report(dep("httpx", "0.28.1"), dep("jinja2", "3.1.4"), dep("markupsafe", "2.1.5"),
               {"name": "app", "skip_reason": "Dependency not found on PyPI and could not be "
                                              "audited: app (0.1.0)"})  # fmt: skip
VULNERABLE = report(dep("httpx", "0.28.1"), dep("jinja2", "3.1.2", JINJA_VULN),
                    dep("requests", "2.30.0", REQUESTS_VULN))  # fmt: skip


def reports(root: Path, body: object, name: str = "pip-audit.json") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(body if isinstance(body, str) else json.dumps(body))
    return root


async def test_a_fresh_clean_report_passes(tmp_path: Path, make_ctx: MakeContext) -> None:
    folder = reports(tmp_path / "reports", CLEAN)
    result = await audit(make_ctx(reports_dir=folder, scope=Scope.TARGET), AuditParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert (
        result.reason == "no known vulnerability in 3 audited dependencies (1 skipped by pip-audit)"
    )
    assert result.evidence["dependencies"] == 4
    assert result.evidence["coverage_checked_against"] == "no project_dir given"


async def test_each_vulnerability_fails_with_package_id_and_fix(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    folder = reports(tmp_path / "reports", VULNERABLE)
    ctx = make_ctx(reports_dir=folder, scope=Scope.TARGET)
    result = await audit(ctx, AuditParams())
    assert result.verdict is Verdict.FAIL
    assert result.evidence["blocking"] == [
        "jinja2==3.1.2: GHSA-h5c8-rqwp-cp95 (fix: 3.1.3)",
        "requests==2.30.0: PYSEC-2023-74 (fix: 2.31.0)",
    ]
    assert result.reason.startswith("jinja2==3.1.2: GHSA-h5c8-rqwp-cp95 (fix: 3.1.3); requests")
    # Ignored by id or by alias, as pip-audit's --ignore-vuln matches them.
    accepted = AuditParams(ignore=["GHSA-h5c8-rqwp-cp95", "CVE-2023-32681"])
    ignored = await audit(ctx, accepted)
    assert ignored.verdict is Verdict.PASS, ignored.reason
    assert ignored.reason.endswith("(2 ignored)")


async def test_the_report_must_cover_every_pin_of_the_tree(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    folder = reports(tmp_path / "reports", CLEAN)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "requirements.txt").write_text("httpx==0.28.1\njinja2==3.1.4\nMarkupSafe==2.1.5\n")
    ctx = make_ctx(reports_dir=folder, project_dir=tree, scope=Scope.TARGET)
    covered = await audit(ctx, AuditParams())
    assert covered.verdict is Verdict.PASS, covered.reason
    assert covered.evidence["coverage_checked_against"] == [str(tree / "requirements.txt")]

    (tree / "requirements.txt").write_text("httpx==0.28.1\njinja2==3.1.5\nredis==5.2.1\n")
    partial = await audit(ctx, AuditParams())
    assert partial.verdict is Verdict.FAIL
    assert partial.evidence["not_covered"] == ["jinja2==3.1.5 (it audited 3.1.4)", "redis==5.2.1"]
    assert partial.reason == ("report does not cover jinja2==3.1.5 (it audited 3.1.4); "
                              "report does not cover redis==5.2.1")  # fmt: skip


async def test_a_stale_or_missing_report_is_an_error(tmp_path: Path, make_ctx: MakeContext):
    folder = reports(tmp_path / "reports", CLEAN)
    ten_days_ago = time.time() - 10 * 86_400
    os.utime(folder / "pip-audit.json", (ten_days_ago, ten_days_ago))
    ctx = make_ctx(reports_dir=folder, scope=Scope.TARGET)
    stale = await audit(ctx, AuditParams())
    assert stale.verdict is Verdict.ERROR
    assert stale.reason.startswith(f"{folder / 'pip-audit.json'} is 10.0 days old, over "
                                   "max_age_days 7")  # fmt: skip
    assert (await audit(ctx, AuditParams(max_age_days=14))).verdict is Verdict.PASS
    missing = await audit(ctx, AuditParams(report="audit/pip-audit.json"))
    assert missing.verdict is Verdict.ERROR
    assert missing.reason.startswith(f"{folder / 'audit/pip-audit.json'}: not found")


async def test_a_malformed_report_is_an_error_naming_file_and_line(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    folder = reports(tmp_path / "reports", '{"dependencies": [\n  {"name": "httpx",}\n]}\n')
    ctx = make_ctx(reports_dir=folder, scope=Scope.TARGET)
    broken = await audit(ctx, AuditParams())
    assert broken.verdict is Verdict.ERROR
    assert broken.reason.startswith(f"{folder / 'pip-audit.json'}:2: not valid JSON")
    assert broken.evidence["line"] == 2
    reports(folder, {"dependencies": [{"name": "httpx", "version": "0.28.1"}]})
    no_vulns = await audit(ctx, AuditParams())
    assert no_vulns.verdict is Verdict.ERROR
    assert "dependencies[0] (httpx) needs 'version' and a 'vulns' array" in no_vulns.reason
    reports(folder, [{"name": "httpx"}])
    assert "not a pip-audit JSON report" in (await audit(ctx, AuditParams())).reason


async def test_without_a_reports_folder_it_is_an_error_naming_the_setting(
    make_ctx: MakeContext,
) -> None:
    result = await run_probe_named("deps.audit", {}, make_ctx(), REGISTRY, 10.0)
    assert result.verdict is Verdict.ERROR
    assert "QD_CHECK_REPORTS_DIR" in result.reason
    assert result.evidence["setting"] == "reports_dir"
