"""What a probe receives (context, parameters) and what it returns (a result)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine

from core.config import Settings
from core.events import Verdict
from core.health.breaker import BreakerRegistry

#: The verdicts a finished probe may report; PENDING, RUNNING and MANUAL are
#: states of an item, never the outcome of a measurement.
FINAL_VERDICTS = frozenset({Verdict.PASS, Verdict.WARN, Verdict.FAIL, Verdict.ERROR})


#: Why a probe of the deployment could not run, and where the target is given.
NO_TARGET = ("target.base_url is not set: give the deployment's URL on the Readiness screen "
             "(its target field, or the palette's Set readiness target…), with --target or "
             "with QD_CHECK_TARGET")  # fmt: skip


class Scope(StrEnum):
    """What a check examines. An item claims one, and passes only on evidence from it:
    a probe of Quarterdeck's own store is no evidence about the target's database."""

    TARGET = "target"  # the deployment: its URL and API, its tree, its Redis
    TARGET_HOST = "target-host"  # the machine the target runs on
    TARGET_DATABASE = "target-database"  # the target's database and its backups
    QUARTERDECK = "quarterdeck"  # Quarterdeck itself: its store, host and settings
    MANUAL = "manual"  # a person, on the evidence they attach

    @property
    def description(self) -> str:
        """What an item of this scope examines, for a reader of the report."""
        return SCOPE_DESCRIPTIONS[self]


SCOPE_DESCRIPTIONS = {
    Scope.TARGET: "the deployment: its URL and API, its tree, its Redis",
    Scope.TARGET_HOST: "the machine the target runs on",
    Scope.TARGET_DATABASE: "the target's database and its backups",
    Scope.QUARTERDECK: "Quarterdeck's own store, host and settings",
    Scope.MANUAL: "a person, on the evidence they attach",
}


@dataclass(frozen=True, slots=True)
class Target:
    """The deployment the HTTP, TLS and service probes examine, per environment.

    ``base_url`` is the service's root (``https://api.example:8443``);
    ``api_key`` a valid key for its protected routes (authentication probes
    prove the routes refuse everything else); ``ca_file`` the CA that must
    sign its certificate; ``redis_url`` its Redis; ``database_url`` its
    database; ``backup_dir`` where its database backups are written. Probes
    whose part is not configured report ERROR naming the missing setting.
    """

    base_url: str = ""
    environment: str = "paper"
    api_key: str | None = None
    ca_file: Path | None = None
    redis_url: str | None = None
    database_url: str | None = None
    backup_dir: Path | None = None
    project_dir: Path | None = None  # source tree for the static scan and env-file checks
    prometheus_url: str | None = None  # scrapes the target's machines, holds its alert rules
    alertmanager_url: str | None = None  # empty: the one the Prometheus reports
    log_path: Path | None = None  # the target's log file
    reports_dir: Path | None = None  # the release's CI reports
    ci_status_url: str | None = None  # the CI's combined status of the release commit


@dataclass(frozen=True, slots=True)
class ProbeContext:
    """Everything a probe may look at, built by the caller (usually from the Deck).

    Probes depend on this small object rather than on the Deck so that each
    one can be tested with a settings object and a throwaway database.
    """

    settings: Settings
    database_engine: Engine
    engine_mode: str
    target: Target = field(default_factory=Target)
    #: Breakers around the target's hosts: the Deck's own (shown in its health), or a
    #: fresh set for a run from the command line.
    breakers: BreakerRegistry = field(default_factory=BreakerRegistry)
    #: What the item being run claims to examine (the runner sets it per item); a probe
    #: that can examine more than one thing examines this one.
    scope: Scope = Scope.TARGET


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The outcome of one probe run.

    ``evidence`` records what was measured (numbers, paths, modes) so that a
    reviewer can see why the verdict was reached. ``elapsed`` is filled in by
    the runner, not by the probe.
    """

    verdict: Verdict
    reason: str
    evidence: dict[str, object] = field(default_factory=dict)
    elapsed: float | None = None


class ProbeParams(BaseModel):
    """Base for a probe's parameters, written in a checklist item's ``[params]`` table.

    Unknown keys are rejected so that a misspelt threshold is an error when
    the checklist loads, not a silently ignored setting.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


def target_from_settings(settings: Settings, base_url: str, environment: str = "") -> Target:
    """The target at ``base_url``, with the rest of what the probes need from settings."""
    return Target(
        base_url=base_url.rstrip("/"), environment=environment or settings.environment,
        api_key=settings.check_api_key, ca_file=settings.check_ca_file,
        redis_url=settings.check_redis_url, database_url=settings.check_database_url,
        backup_dir=settings.check_backup_dir,
        project_dir=settings.check_project_dir, prometheus_url=settings.check_prometheus_url,
        alertmanager_url=settings.check_alertmanager_url, log_path=settings.check_log_path,
        reports_dir=settings.check_reports_dir, ci_status_url=settings.check_ci_status_url,
    )  # fmt: skip
