"""The shape of a runbook: pydantic models validated from runbook TOML files."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)

from checks.catalog.models import SourceRef, StrictModel, Text, require_unique_ids
from checks.probes.base import Scope
from checks.probes.registry import (
    check_probe,
    check_probe_params,
    registry_in,
    resolve_scope,
)

SNAKE_ID_PATTERN = r"^[a-z][a-z0-9_]*$"
SnakeId = Annotated[str, Field(pattern=SNAKE_ID_PATTERN)]


class StepKind(StrEnum):
    MANUAL = "manual"  # a person does it and confirms
    SHELL = "shell"  # a command run with /bin/sh -c
    PROBE = "probe"  # a registered probe decides it


class Step(StrictModel):
    """One step of a runbook. ``command``/``timeout``/``probe``/``params`` depend on ``kind``."""

    id: SnakeId
    title: Text
    kind: StepKind
    instructions: Text
    #: A critical step that fails stops the run until someone retries it, skips it (with
    #: a reason) or abandons the run; a step that is not critical fails, is recorded,
    #: and the run goes on. Unsaid, a step is critical: stopping is the safe default.
    critical: StrictBool = True  # TOML has true and false; "yes" is a mistake
    # After ``kind`` so their validators can see it.
    command: str | None = Field(default=None, validate_default=True)
    timeout: int | None = Field(default=None, validate_default=True)
    probe: str | None = Field(default=None, validate_default=True)
    params: dict[str, Any] = Field(default_factory=dict, validate_default=True)
    #: What a probe step examines (as a checklist item's ``scope``): its probe's default
    #: unless said, e.g. ``"quarterdeck"`` for a runbook run on the target's own machine.
    scope: Scope | None = Field(default=None, validate_default=True)
    sources: tuple[SourceRef, ...] = Field(min_length=1)

    @field_validator("command")
    @classmethod
    def _command_matches_kind(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind is StepKind.SHELL and not (value and value.strip()):
            raise ValueError('a "shell" step needs a command, e.g. command = "systemctl stop qd"')
        if kind is not StepKind.SHELL and value is not None:
            raise ValueError(f'only "shell" steps have a command, not {_kind_text(kind)} steps')
        return value

    @field_validator("timeout")
    @classmethod
    def _timeout_matches_kind(cls, value: int | None, info: ValidationInfo) -> int | None:
        kind = info.data.get("kind")
        if kind in (StepKind.SHELL, StepKind.PROBE):
            if value is None:
                raise ValueError(f'a "{kind}" step needs a timeout in seconds, e.g. timeout = 60')
            if value <= 0:
                raise ValueError(f"timeout must be a positive number of seconds, got {value}")
        elif value is not None:
            raise ValueError(
                f"only shell and probe steps have a timeout, not {_kind_text(kind)} steps"
            )
        return value

    @field_validator("probe")
    @classmethod
    def _probe_matches_kind(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind is StepKind.PROBE:
            if value is None:
                raise ValueError('a "probe" step must name its probe, e.g. probe = "http.health"')
            check_probe(registry_in(info.context), value)
        elif value is not None:
            raise ValueError(f'only "probe" steps name a probe, not {_kind_text(kind)} steps')
        return value

    @field_validator("params")
    @classmethod
    def _params_fit_probe(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if "probe" not in info.data:
            return value  # the probe field itself failed; that error says enough
        name = info.data["probe"]
        if name is None:
            if value:
                raise ValueError("params are only allowed on probe steps")
            return value
        check_probe_params(registry_in(info.context), name, value)
        return value

    @field_validator("scope")
    @classmethod
    def _scope_fits_probe(cls, value: Scope | None, info: ValidationInfo) -> Scope | None:
        name = info.data.get("probe")
        if name is None:
            if value is not None:
                raise ValueError("only probe steps examine something: scope needs a probe")
            return None
        registry = registry_in(info.context)
        return resolve_scope(registry, name, value) if name in registry else value


def _kind_text(kind: object) -> str:
    return f'"{kind}"' if isinstance(kind, StepKind) else "these"


def _at_least_one(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    if not steps:
        raise ValueError("a runbook needs at least one step")
    return steps


Steps = Annotated[tuple[Step, ...], AfterValidator(_at_least_one)]


class RunbookHeader(StrictModel):
    """The ``[runbook]`` table of a runbook file."""

    id: SnakeId
    title: Text
    description: Text
    rto_minutes: int = Field(gt=0)  # recovery time objective


class Runbook(RunbookHeader):
    """An ordered procedure: the header plus the ``[[steps]]`` of one file."""

    steps: Steps

    @model_validator(mode="after")
    def _unique_ids(self) -> Runbook:
        require_unique_ids((step.id for step in self.steps), "step")
        return self

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)
