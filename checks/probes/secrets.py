"""Secrets and configuration: no default, empty or guessable secrets in the target's env
files or in this process's environment, and no real values in ``.env.example``."""

from __future__ import annotations

import asyncio
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.reach import OutOfReach
from checks.probes.registry import probe
from core.events import Verdict

#: Names that hold a secret.
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.I)
#: Values everybody tries first.
DEFAULTS = frozenset({
    "changeme", "change-me", "change_me", "password", "passw0rd", "secret", "admin", "default",
    "example", "test", "testing", "123456", "12345678", "qwerty", "letmein", "dev", "development",
    "your-secret-key", "your_secret_key", "secret-key", "supersecret", "xxx", "todo",
})  # fmt: skip
#: A placeholder in an example file: empty, angle brackets, or an obvious stand-in.
PLACEHOLDER = re.compile(
    r"^$|^<.*>$|^\$\{.*\}$|change.?me|your[-_ ]|example|xxx+|placeholder", re.I
)
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


class SecretsParams(ProbeParams):
    min_length: int = Field(default=16, ge=1)
    min_entropy_bits: float = Field(default=64.0, gt=0, description="Shannon bits, whole value.")
    env_files: list[str] = Field(default_factory=lambda: [".env", ".env.production"])
    example_files: list[str] = Field(default_factory=lambda: [".env.example"])
    #: Also this process's environment (only when the item examines Quarterdeck itself).
    check_process_environment: bool = True


def entropy_bits(value: str) -> float:
    """Shannon entropy of ``value``'s characters, times its length: a rough guessability."""
    if not value:
        return 0.0
    counts = Counter(value)
    size = len(value)
    return size * sum(n / size * math.log2(size / n) for n in counts.values())


def weakness(value: str, params: SecretsParams) -> str | None:
    """Why ``value`` is a weak secret, or None."""
    if not value:
        return "empty"
    if value.lower() in DEFAULTS:
        return "a well-known default"
    if len(value) < params.min_length:
        return f"{len(value)} characters, under {params.min_length}"
    bits = entropy_bits(value)
    if bits < params.min_entropy_bits:
        return f"about {bits:.0f} bits of entropy, under {params.min_entropy_bits:g}"
    return None


def parse_env(text: str) -> dict[str, tuple[int, str]]:
    """``NAME=value`` lines of an env file, with their line numbers (quotes removed)."""
    values: dict[str, tuple[int, str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        if match:
            value = match.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            values[match.group(1)] = (number, value)
    return values


def _findings(
    folder: Path | None, environment: Mapping[str, str], params: SecretsParams
) -> tuple[list[str], list[str]]:
    findings: list[str] = []
    looked_at: list[str] = []
    if folder is not None:
        for name in params.env_files:
            path = folder / name
            if path.is_file():
                looked_at.append(str(path))
                for key, (line, value) in parse_env(path.read_text(errors="replace")).items():
                    problem = weakness(value, params) if SECRET_NAME.search(key) else None
                    if problem:
                        findings.append(f"{path}:{line}: {key} is {problem}")
        for name in params.example_files:
            path = folder / name
            if path.is_file():
                looked_at.append(str(path))
                for key, (line, value) in parse_env(path.read_text(errors="replace")).items():
                    if (
                        SECRET_NAME.search(key)
                        and not PLACEHOLDER.search(value)
                        and (weakness(value, params) is None)
                    ):
                        findings.append(f"{path}:{line}: {key} looks like a real secret; "
                                        "an example file holds placeholders")  # fmt: skip
    if params.check_process_environment:
        looked_at.append("process environment")
        findings += _environment_findings(environment.items(), params)
    return findings, looked_at


def _environment_findings(items: Iterable[tuple[str, str]], params: SecretsParams) -> list[str]:
    found = []
    for key, value in sorted(items):
        if SECRET_NAME.search(key) and (problem := weakness(value, params)):
            found.append(f"environment: {key} is {problem}")
    return found


@probe(
    "config.secrets",
    scopes=(Scope.TARGET, Scope.QUARTERDECK),
    needs=("project_dir",),
    params=SecretsParams,
)
async def secrets(ctx: ProbeContext, params: SecretsParams) -> ProbeResult:
    """No empty, default or low-entropy secret in env files or the environment; example
    files hold placeholders only. Values are never reported, only names and places.

    For the target: the env files of its tree (``QD_CHECK_PROJECT_DIR``). For Quarterdeck:
    its own tree, if given, and this process's environment."""
    folder = ctx.target.project_dir
    own = ctx.scope is Scope.QUARTERDECK
    if folder is None and not own:
        reason = ("target.project_dir is not set: give the target's tree, whose env files "
                  "are examined, with QD_CHECK_PROJECT_DIR")  # fmt: skip
        raise OutOfReach(reason, "project_dir")
    if not own:
        params = params.model_copy(update={"check_process_environment": False})
    findings, looked_at = await asyncio.to_thread(_findings, folder, dict(os.environ), params)
    evidence: dict[str, object] = {"looked_at": looked_at, "findings": findings[:20],
                                   "finding_count": len(findings)}  # fmt: skip
    if findings:
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        return ProbeResult(Verdict.FAIL, findings[0] + more, evidence)
    return ProbeResult(Verdict.PASS, f"no weak secrets in {', '.join(looked_at) or 'nothing'}",
                       evidence)  # fmt: skip
