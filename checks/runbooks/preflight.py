"""The pre-flight of a runbook: what would stop a step, found before anything runs.

It runs before every run and is the whole of a dry run. For each step:

- every ``${VAR}`` (or ``$VAR``) its command uses is set and not empty in the
  environment the step will run with (``${VAR:-default}`` and ``${VAR-default}``
  need nothing);
- every program its command starts (the first word of each simple command,
  after variable expansion) exists: a shell builtin, an executable path, or a
  name ``shutil.which`` finds on the step's ``PATH``; the units a ``systemctl``
  command names are known to that ``systemctl`` (``systemctl cat UNIT``);
- a probe step's probe is registered, its params fit it, and the target
  settings it needs (``ProbeSpec.needs``) are set.

Nothing here changes anything: the only process it starts is ``systemctl cat``.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from checks.probes import ProbeContext, ProbeRegistry, Scope
from checks.probes.registry import check_probe_params

#: ``${NAME}``, ``${NAME:-default}`` (and the other operators) or ``$NAME``; not ``$(...)``.
VARIABLE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-=?+][^}]*)?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
#: What starts a new simple command in a shell command line.
SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", "{", "}", "!", "then", "do", "else", "elif",
              "if", "while", "until", "time"}  # fmt: skip
#: Builtins of /bin/sh (POSIX special and regular builtins): no program to find.
BUILTINS = {":", ".", "[", "alias", "bg", "break", "cd", "command", "continue", "echo", "eval",
            "exec", "exit", "export", "false", "fg", "getopts", "hash", "jobs", "kill", "printf",
            "pwd", "read", "readonly", "return", "set", "shift", "source", "test", "times",
            "trap", "true", "type", "ulimit", "umask", "unalias", "unset", "wait"}  # fmt: skip
#: systemctl verbs whose arguments are unit names.
UNIT_VERBS = {"start", "stop", "restart", "reload", "try-restart", "reload-or-restart",
              "status", "enable", "disable", "is-active", "is-enabled", "kill"}  # fmt: skip
UNIT_CHECK_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that would make step ``number`` (1-based) fail."""

    number: int
    step_id: str
    critical: bool
    message: str


@dataclass(frozen=True, slots=True)
class Preflight:
    problems: tuple[Problem, ...] = ()

    @property
    def ready(self) -> bool:
        return not self.problems

    def of(self, step_id: str) -> list[str]:
        return [p.message for p in self.problems if p.step_id == step_id]

    @property
    def stopping_step(self) -> int | None:
        """The first step whose problems would stop a run (a critical one)."""
        return next((p.number for p in self.problems if p.critical), None)

    def verdict(self) -> str:
        """``ready``, or ``would fail at step 4: QD_SERVICE is not set; ...``."""
        if self.ready:
            return "ready"
        number = self.stopping_step
        if number is None:  # only steps that are not critical: the run would go on
            first = self.problems[0].number
            return (f"would fail at step {first} (not critical: the run would go on): "
                    + "; ".join(p.message for p in self.problems if p.number == first))  # fmt: skip
        return f"would fail at step {number}: " + "; ".join(
            p.message for p in self.problems if p.number == number
        )

    def lines(self) -> list[str]:
        """One line per step with problems: ``step 2 preserve_logs (not critical): ...``."""
        lines: list[str] = []
        for number in sorted({p.number for p in self.problems}):
            mine = [p for p in self.problems if p.number == number]
            note = "" if mine[0].critical else " (not critical)"
            lines.append(f"step {number} {mine[0].step_id}{note}: "
                         + "; ".join(p.message for p in mine))  # fmt: skip
        return lines

    def as_detail(self) -> list[dict[str, Any]]:
        """The problems as an audit entry holds them."""
        return [{"step": p.number, "step_id": p.step_id, "critical": p.critical,
                 "problem": p.message} for p in self.problems]  # fmt: skip


async def preflight(
    steps: Sequence[Any],
    *,
    environment: Mapping[str, str] | None,
    probe_context: ProbeContext | None,
    registry: ProbeRegistry,
) -> Preflight:
    """Every problem the pre-flight finds in ``steps``, in step order."""
    env = dict(os.environ if environment is None else environment)
    problems: list[Problem] = []
    for number, step in enumerate(steps, start=1):
        kind = str(getattr(step.kind, "value", step.kind))
        if kind == "shell":
            messages = await _shell_problems(str(step.command or ""), env)
        elif kind == "probe":
            messages = _probe_problems(step, probe_context, registry)
        else:
            messages = []
        critical = bool(getattr(step, "critical", True))
        problems += [Problem(number, step.id, critical, message) for message in messages]
    return Preflight(tuple(problems))


def variables(text: str) -> list[str]:
    """The variables ``text`` needs set, in order of first use (defaults need nothing)."""
    names: list[str] = []
    for match in VARIABLE.finditer(text):
        op = match.group("op") or ""
        if op.lstrip(":")[:1] in ("-", "="):
            continue
        name = match.group("braced") or match.group("bare")
        if name not in names:
            names.append(name)
    return names


def _unset(name: str, env: Mapping[str, str]) -> str | None:
    if name not in env:
        return f"{name} is not set"
    if not env[name].strip():
        return f"{name} is set but empty"
    return None


async def _shell_problems(command: str, env: Mapping[str, str]) -> list[str]:
    messages = [m for name in variables(command) if (m := _unset(name, env))]
    try:
        commands = simple_commands(command)
    except ValueError as exc:
        return [*messages, f"the command does not parse: {exc}"]
    for words in commands:
        program = _expand(words[0], env)
        if program is None:
            continue  # an unset variable in it, already said, or a substitution
        if program not in BUILTINS:
            found = shutil.which(program, path=env.get("PATH", os.defpath))
            if found is None:
                where = "does not exist or is not executable" if "/" in program else (
                    "is not on PATH")  # fmt: skip
                messages.append(f"{program} {where}")
                continue
            if os.path.basename(found) == "systemctl":
                messages += await _unit_problems(found, words[1:], env)
    return messages


def simple_commands(command: str) -> list[list[str]]:
    """The words of each simple command in ``command`` (assignments and redirections left
    out); raises ``ValueError`` if it does not parse (an unclosed quote)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    commands: list[list[str]] = []
    words: list[str] = []
    redirect = False
    for token in lexer:
        if (token in SEPARATORS and not words) or set(token) <= set(";&|()"):
            if words:
                commands.append(words)
            words, redirect = [], False
            continue
        if redirect:
            redirect = False
            continue
        if set(token) <= set("<>&"):
            redirect = True
            continue
        if not words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", token):
            continue  # NAME=value before the program
        words.append(token)
    if words:
        commands.append(words)
    return commands


def _expand(word: str, env: Mapping[str, str]) -> str | None:
    """``word`` with its variables expanded, or None if one is unset or it substitutes a
    command (nothing to look up before it runs)."""
    if "$(" in word or "`" in word:
        return None
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group("braced") or match.group("bare")
        op = match.group("op") or ""
        if env.get(name, "").strip():
            return env[name]
        if op.lstrip(":")[:1] in ("-", "="):
            return op.lstrip(":")[1:]
        missing = True
        return ""

    expanded = VARIABLE.sub(value, word)
    return None if missing or not expanded else expanded


async def _unit_problems(systemctl: str, args: list[str], env: Mapping[str, str]) -> list[str]:
    """Each unit a ``systemctl VERB UNIT...`` names that ``systemctl cat`` does not know."""
    words = [w for w in args if not w.startswith("-")]
    if not words or words[0] not in UNIT_VERBS:
        return []
    messages: list[str] = []
    for word in words[1:]:
        unit = _expand(word, env)
        if unit is None:
            continue
        try:
            process = await asyncio.create_subprocess_exec(
                systemctl, "cat", "--no-pager", "--", unit, env=dict(env),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            async with asyncio.timeout(UNIT_CHECK_TIMEOUT):
                _, error = await process.communicate()
        except TimeoutError:
            process.kill()
            messages.append(f"systemctl did not answer about unit {unit} within "
                            f"{UNIT_CHECK_TIMEOUT:g}s")  # fmt: skip
            continue
        except OSError as exc:
            messages.append(f"systemctl could not be asked about unit {unit}: {exc}")
            continue
        if process.returncode != 0:
            said = (error or b"").decode("utf-8", "replace").strip().splitlines()
            messages.append(f"unit {unit} is not known to systemctl"
                            + (f" ({said[0]})" if said else ""))  # fmt: skip
    return messages


def _probe_problems(step: Any, ctx: ProbeContext | None, registry: ProbeRegistry) -> list[str]:
    name = str(step.probe)
    if name not in registry:
        return [f"probe {name} is not registered"]
    try:
        check_probe_params(registry, name, dict(step.params or {}))
    except ValueError as exc:
        return [str(exc)]
    # What the probe needs of the target when it examines the target; Quarterdeck's own
    # parts are always there.
    own = getattr(step, "scope", None) is Scope.QUARTERDECK
    needs = () if own else registry.get(name).needs
    if ctx is None:
        return ["no target is configured for the probe"] if needs else []
    messages: list[str] = []
    for setting in needs:
        value = getattr(ctx.target, setting, None)
        if value is None or not str(value).strip():
            messages.append(f"target.{setting} is not set")
        elif setting == "base_url" and not str(value).startswith(("http://", "https://")):
            messages.append(f"target.base_url {value!r} is not an http:// or https:// URL")
        elif setting.endswith("_dir") and not os.path.isdir(str(value)):
            messages.append(f"target.{setting} {value} is not a directory")
    return messages
