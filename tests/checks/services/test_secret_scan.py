"""secrets.scan on throwaway trees with planted keys, with and without a baseline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from checks.probes import REGISTRY, Scope
from checks.probes.secret_scan import ScanParams, secrets_scan
from checks.runner import run_probe_named
from core.events import Verdict

from .conftest import MakeContext

AWS_KEY = "AKIAZ7QWERTYUIOP4XKJ"  # the shape of an AWS access key id, made up
GITHUB_TOKEN = "ghp_" + "q7Rw2xK9mT4vB8nL3cZ6yH1jD5fG0sPa" + "Xe3U"
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Zq\n-----END RSA PRIVATE KEY-----\n"
)


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def clean_tree(root: Path) -> Path:
    return tree(root, {
        "app/settings.py": 'import os\n\nAWS_ACCESS_KEY_ID = os.environ["AWS_ACCESS_KEY_ID"]\n',
        "README.md": "# app\n",
        # Not the project's own files: never scanned, whatever they hold.
        ".git/config": f"[credential]\n\tkey = {AWS_KEY}\n",
        "node_modules/pkg/index.js": f'const key = "{AWS_KEY}";\n',
        "env/pyvenv.cfg": "home = /usr/bin\n",
        "env/lib/site.py": f'KEY = "{AWS_KEY}"\n',
        ".cache/CACHEDIR.TAG": "Signature: 8a477f597d28d172789f06886806bc55\n",
        ".cache/blob": f'KEY = "{AWS_KEY}"\n',
        "app.egg-info/PKG-INFO": f"key: {AWS_KEY}\n",
    })  # fmt: skip


async def test_a_clean_tree_passes_with_the_files_scanned(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    root = clean_tree(tmp_path / "p")
    result = await secrets_scan(make_ctx(project_dir=root, scope=Scope.TARGET), ScanParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["files_scanned"] == 2  # settings.py, README.md
    assert result.reason == "no secret in 2 file(s) scanned"


async def test_planted_keys_fail_by_file_line_and_type_never_by_value(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    root = tree(clean_tree(tmp_path / "p"), {
        "app/aws.py": f'REGION = "eu-west-1"\nAWS_ACCESS_KEY_ID = "{AWS_KEY}"\n',
        "deploy/id_rsa": PRIVATE_KEY,
    })  # fmt: skip
    result = await secrets_scan(make_ctx(project_dir=root, scope=Scope.TARGET), ScanParams())
    assert result.verdict is Verdict.FAIL
    assert result.evidence["findings"] == ["app/aws.py:2: AWS Access Key",
                                           "deploy/id_rsa:1: Private Key"]  # fmt: skip
    assert result.reason.startswith("2 secret(s) in the tree: app/aws.py:2: AWS Access Key")
    assert AWS_KEY not in repr(result) and "MIIEow" not in repr(result)
    excluded = await secrets_scan(make_ctx(project_dir=root, scope=Scope.TARGET),
                                  ScanParams(exclude=[r"^deploy/", r"aws\.py$"]))  # fmt: skip
    assert excluded.verdict is Verdict.PASS, excluded.reason


async def test_the_baseline_accepts_what_it_lists_and_only_that(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    root = tree(clean_tree(tmp_path / "p"), {"app/aws.py": f'AWS_KEY = "{AWS_KEY}"\n',
                                              "fixtures/key.pem": PRIVATE_KEY})  # fmt: skip
    # The baseline as the target's developers write it, with detect-secrets' own CLI.
    command = [
        str(Path(sys.executable).with_name("detect-secrets")),
        "scan",
        "--all-files",
        "--exclude-files",
        "^(node_modules|env|\\.git)/",
        "--exclude-files",
        "^fixtures/",
    ]
    written = subprocess.run(command, cwd=root, capture_output=True, text=True, check=True)
    (root / ".secrets.baseline").write_text(written.stdout)
    ctx = make_ctx(project_dir=root, scope=Scope.TARGET)

    accepted = await secrets_scan(ctx, ScanParams())
    assert accepted.verdict is Verdict.PASS, accepted.reason
    assert accepted.evidence["accepted_by_baseline"] == 1
    assert "^fixtures/" in accepted.evidence["exclude"]  # the baseline's exclusion, honoured

    (root / "app/aws.py").write_text(f'AWS_KEY = "{AWS_KEY}"\nTOKEN = "{GITHUB_TOKEN}"\n')
    added = await secrets_scan(ctx, ScanParams())
    assert added.verdict is Verdict.FAIL
    assert "app/aws.py:2: GitHub Token" in added.evidence["findings"]
    assert not any(":1:" in finding for finding in added.evidence["findings"])


async def test_a_malformed_baseline_is_an_error_naming_file_and_line(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    root = clean_tree(tmp_path / "p")
    (root / ".secrets.baseline").write_text('{\n  "version": "1.5.0",\n  "results": {,\n}\n')
    result = await secrets_scan(make_ctx(project_dir=root, scope=Scope.TARGET), ScanParams())
    assert result.verdict is Verdict.ERROR
    assert result.reason.startswith(f"{root / '.secrets.baseline'}:3: not valid JSON")
    (root / ".secrets.baseline").write_text(json.dumps({"results": {}}))
    unversioned = await secrets_scan(make_ctx(project_dir=root, scope=Scope.TARGET), ScanParams())
    assert unversioned.verdict is Verdict.ERROR
    assert "not a detect-secrets baseline" in unversioned.reason


async def test_without_a_tree_it_is_an_error_naming_the_setting(make_ctx: MakeContext) -> None:
    result = await run_probe_named("secrets.scan", {}, make_ctx(), REGISTRY, 10.0)
    assert result.verdict is Verdict.ERROR
    assert "QD_CHECK_PROJECT_DIR" in result.reason
    assert result.evidence["setting"] == "project_dir"


async def test_a_large_tree_names_each_secret_by_its_file_once(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    files = {f"pkg/module_{n:03d}.py": f"VALUE_{n} = {n}\n" for n in range(240)}
    files["pkg/module_007.py"] = f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\n'
    files["pkg/module_200.py"] = PRIVATE_KEY
    root = tree(tmp_path / "big", files)
    result = await secrets_scan(make_ctx(project_dir=root, scope=Scope.TARGET), ScanParams())
    assert result.verdict is Verdict.FAIL
    assert result.evidence["files_scanned"] == 240
    assert result.evidence["findings"] == [
        "pkg/module_007.py:1: AWS Access Key", "pkg/module_200.py:1: Private Key",
    ]  # fmt: skip


async def test_a_rescan_reads_only_the_files_that_changed(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    root = clean_tree(tmp_path / "p")
    ctx = make_ctx(project_dir=root, scope=Scope.TARGET)
    first = await secrets_scan(ctx, ScanParams())
    assert first.evidence["files_unchanged_since_last_scan"] == 0
    again = await secrets_scan(ctx, ScanParams())
    assert again.verdict is Verdict.PASS
    assert again.evidence["files_unchanged_since_last_scan"] == 2
    (root / "app/settings.py").write_text(f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\n')
    changed = await secrets_scan(ctx, ScanParams())
    assert changed.verdict is Verdict.FAIL
    assert changed.evidence["files_unchanged_since_last_scan"] == 1
    assert changed.evidence["findings"] == ["app/settings.py:1: AWS Access Key"]


async def test_a_git_checkout_is_scanned_as_git_lists_it(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    """Tracked files and untracked ones git does not ignore, as detect-secrets' own scan
    takes a checkout: an ignored build artefact is not the project's source."""
    root = tree(tmp_path / "repo", {
        ".gitignore": "build/\n",
        "app/tracked.py": f'KEY = "{AWS_KEY}"\n',
        "app/new.py": f'TOKEN = "{GITHUB_TOKEN}"\n',
        "build/report.html": f"<p>{AWS_KEY}</p>\n",
    })  # fmt: skip
    for command in (["init", "-q"], ["add", ".gitignore", "app/tracked.py"]):
        subprocess.run(["git", "-C", str(root), *command], check=True)
    result = await secrets_scan(make_ctx(project_dir=root, scope=Scope.TARGET), ScanParams())
    assert result.verdict is Verdict.FAIL
    assert result.evidence["files_scanned"] == 3  # .gitignore, tracked.py, new.py
    assert {finding.split(":")[0] for finding in result.evidence["findings"]} == {
        "app/new.py", "app/tracked.py"}  # fmt: skip
