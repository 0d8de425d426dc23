"""The secrets probe on real env files and a controlled environment."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from checks import ProbeContext
from checks.probes import REGISTRY, Scope, Target
from checks.probes.secrets import SecretsParams, entropy_bits, secrets, weakness
from checks.runner import run_probe_named
from core.events import Verdict

STRONG = "k8Zq2vR9xL4pT7wN1mB6cY3hJ5dF0sGa"  # 32 characters, about 160 bits


def context(ctx: ProbeContext, folder: Path) -> ProbeContext:
    return dataclasses.replace(ctx, target=Target(project_dir=folder))


@pytest.mark.parametrize(
    ("value", "problem"),
    [("", "empty"), ("changeme", "a well-known default"), ("Password", "a well-known default"),
     ("short1", "6 characters, under 16"), ("aaaaaaaaaaaaaaaaaaaa", "about 0 bits of entropy"),
     (STRONG, None)],
)  # fmt: skip
def test_weak_values_are_named_by_why(value: str, problem: str | None) -> None:
    found = weakness(value, SecretsParams())
    assert (found is None) if problem is None else found.startswith(problem)


def test_entropy_is_per_character_entropy_times_length() -> None:
    assert entropy_bits("abab") == pytest.approx(4.0)  # 1 bit a character, 4 characters
    assert entropy_bits(STRONG) > 128


async def test_env_files_and_example_files_are_judged(
    ctx: ProbeContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if any(word in name.upper() for word in ("SECRET", "PASSWORD", "TOKEN", "KEY")):
            monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(f'QD_CHECK_API_KEY="{STRONG}"\nLOG_LEVEL=INFO\n')
    (tmp_path / ".env.example").write_text("QD_CHECK_API_KEY=<your api key>\nADMIN_PASSWORD=\n")
    good = await secrets(context(ctx, tmp_path), SecretsParams())
    assert good.verdict is Verdict.PASS, good.reason

    (tmp_path / ".env").write_text("ADMIN_PASSWORD=admin\n# SECRET_KEY=old\nJWT_SECRET=short\n")
    (tmp_path / ".env.example").write_text(f"BROKER_API_KEY={STRONG}\n")
    monkeypatch.setenv("QD_DB_PASSWORD", "changeme")
    bad = await secrets(context(ctx, tmp_path), SecretsParams())
    assert bad.verdict is Verdict.FAIL
    assert bad.evidence["findings"] == [
        f"{tmp_path / '.env'}:1: ADMIN_PASSWORD is a well-known default",
        f"{tmp_path / '.env'}:3: JWT_SECRET is 5 characters, under 16",
        f"{tmp_path / '.env.example'}:1: BROKER_API_KEY looks like a real secret; "
        "an example file holds placeholders",
        "environment: QD_DB_PASSWORD is a well-known default",
    ]
    assert STRONG not in repr(bad.evidence) and "changeme" not in repr(bad.evidence)


async def test_for_the_target_its_tree_is_examined_never_this_process(
    ctx: ProbeContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QD_TEST_API_KEY", "changeme")  # weak, but Quarterdeck's, not the target's
    (tmp_path / ".env").write_text(f"API_KEY={STRONG}\n")
    aimed = dataclasses.replace(context(ctx, tmp_path), scope=Scope.TARGET)
    result = await secrets(aimed, SecretsParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["looked_at"] == [str(tmp_path / ".env")]


async def test_for_the_target_a_missing_tree_is_out_of_reach(ctx: ProbeContext) -> None:
    aimed = dataclasses.replace(ctx, scope=Scope.TARGET)
    result = await run_probe_named("config.secrets", {}, aimed, REGISTRY, 10.0)
    assert result.verdict is Verdict.ERROR
    assert "QD_CHECK_PROJECT_DIR" in result.reason
