"""One validated Settings object for the whole process.

Sources, highest priority first: keyword arguments, environment variables with
the ``QD_`` prefix, the TOML file named by ``QD_CONFIG_FILE`` (default
``$XDG_CONFIG_HOME/quarterdeck/config.toml`` when it exists), then defaults.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from core import bounds
from core.access import Role
from core.bounds import DEFAULT_SWEEP_MAX_COMBOS, MAX_COUNT
from core.executor_spec import check_executor_spec


def _xdg_home(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else Path.home() / fallback


def default_data_dir() -> Path:
    return _xdg_home("XDG_DATA_HOME", ".local/share") / "quarterdeck"


def default_config_file() -> Path:
    explicit = os.environ.get("QD_CONFIG_FILE")
    if explicit:
        return Path(explicit)
    return _xdg_home("XDG_CONFIG_HOME", ".config") / "quarterdeck" / "config.toml"


class ConfigurationError(ValueError):
    """Settings that cannot be used; the message names the file or variable and the field."""


def load_settings(**overrides: Any) -> Settings:
    """``Settings`` from the environment and config file, or a ``ConfigurationError``
    naming the file or variable: the one place where reading settings can fail."""
    config_file = default_config_file()
    if os.environ.get("QD_CONFIG_FILE") and not config_file.is_file():
        state = "is a directory" if config_file.is_dir() else "does not exist"
        raise ConfigurationError(f"QD_CONFIG_FILE: {config_file} {state}")
    try:
        return Settings(**overrides)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{config_file}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigurationError(
            f"{config_file}: line {line}: not UTF-8 (byte {exc.object[exc.start]:#04x}); "
            "a config file is UTF-8 TOML"
        ) from None
    except OSError as exc:
        raise ConfigurationError(f"{config_file}: cannot read: {exc.strerror or exc}") from None
    except SettingsError as exc:  # a variable the source could not decode (JSON)
        raise ConfigurationError(_undecodable(exc)) from None
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            if field:
                problems.append(f"QD_{field.upper()} or {field} in {config_file}: {message}")
            else:  # a rule across settings names the settings itself
                problems.append(message)
        if len(problems) == 1:  # one line, as every other error of the command line
            raise ConfigurationError(f"invalid configuration: {problems[0]}") from None
        lines = [f"invalid configuration ({len(problems)} problems):"]
        lines += [f"  {problem}" for problem in problems]
        raise ConfigurationError("\n".join(lines)) from None


def _undecodable(exc: SettingsError) -> str:
    """``QD_STRATEGIES: not valid JSON: ...`` for pydantic-settings' "error parsing value
    for field "strategies" from source ..."."""
    field = re.search(r'field "([^"]+)"', str(exc))
    name = f"QD_{field.group(1).upper()}" if field else "a QD_ variable"
    cause = exc.__cause__
    if isinstance(cause, json.JSONDecodeError):
        return f"{name}: not valid JSON: {cause}"
    return f"{name}: {cause or exc}"


def make_directories(settings: Settings) -> None:
    """Create the data directory, its logs folder and a SQLite store's folder, or a
    ``ConfigurationError`` naming the setting whose path cannot be used (a file where a
    directory belongs, a folder that cannot be created)."""
    wanted = [("QD_DATA_DIR", settings.data_dir), ("QD_DATA_DIR", settings.log_file.parent)]
    database = sqlite_path(settings.resolved_database_url)
    if database is not None:
        setting = "QD_DATABASE_URL" if settings.database_url else "QD_DATA_DIR"
        if database.is_dir():
            raise ConfigurationError(f"{setting}: {database} is a directory, not a database file")
        wanted.append((setting, database.parent))
    for setting, directory in wanted:
        try:
            create_directory(directory)
        except ValueError as exc:
            raise ConfigurationError(f"{setting}: {exc}") from None


def create_directory(directory: Path) -> None:
    """``directory`` and its parents, or a ``ValueError`` saying which path is in the way
    (a file where a directory belongs) or why it cannot be created."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next(p for p in (directory, *directory.parents) if p.exists())
        raise ValueError(f"{blocker} is a file, not a directory") from None
    except OSError as exc:
        raise ValueError(
            f"cannot create the directory {directory}: {exc.strerror or exc}"
        ) from None


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite ``url``; None for another database or an in-memory one."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


DATABASE_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg")


def check_database_url(url: str) -> str:
    """``url`` if the store can open it (SQLite, or PostgreSQL through psycopg), else a
    ``ValueError`` saying what is wrong with it."""
    from sqlalchemy.engine import make_url  # imported here: the CLI starts faster without it
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(
            f"{url!r} is not a database URL (sqlite:///PATH or postgresql://USER@HOST/DB)"
        ) from None
    if parsed.drivername not in DATABASE_DRIVERS:
        raise ValueError(f"{parsed.drivername!r} databases are not supported: "
                         f"use sqlite:///PATH or postgresql://USER@HOST/DB")  # fmt: skip
    if parsed.get_backend_name() == "postgresql" and not parsed.database:
        raise ValueError(f"{parsed.render_as_string(hide_password=True)} names no database")
    return url


FEED_VENUES = ("binance", "coinbase", "generic")


def strategies_folder(strategies_dir: Path | None, data_dir: Path) -> Path:
    """The folder user strategies load from: ``strategies_dir``, else in the data dir."""
    return strategies_dir or data_dir / "strategies"


def _names_user_strategies(value: Any) -> bool:
    """Whether the raw ``strategies`` setting names an id that is not built in."""
    if not isinstance(value, list):
        return False
    from core.research.strategies import BUILTINS

    ids = [item.get("id") if isinstance(item, dict) else getattr(item, "id", None)
           for item in value]  # fmt: skip
    return any(isinstance(i, str) and i not in BUILTINS for i in ids)


def _whole_as_int(value: float) -> int | float:
    return int(value) if value.is_integer() else value


#: A parameter value: a number, a whole one kept whole (``n = 10`` is a window of 10,
#: shown as ``n=10``, not ``n=10.0``).
ParamValue = Annotated[float, AfterValidator(_whole_as_int)]


class LiveStrategy(BaseModel):
    """One strategy the live engine runs (``strategies`` in the config file, or
    ``QD_STRATEGIES`` as a JSON list of these objects)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    id: str
    params: dict[str, ParamValue] = Field(default_factory=dict)
    symbols: list[str] = Field(
        default_factory=list, description="Symbols it trades; empty means every feed symbol."
    )
    cash: float | None = bounds.CASH.field(
        None, description="Its sub-ledger; default an equal share of starting_cash."
    )
    fraction: float | None = bounds.FRACTION.field(
        None, description="Of a symbol's cash per entry; default position_fraction."
    )
    direction: Literal["long", "short", "both"] | None = None

    @model_validator(mode="after")
    def _known_strategy_and_params(self) -> LiveStrategy:
        # Imported here: the strategy kernels pull in numba, which plain settings do not need.
        from core.research.strategy_lookup import find

        strategy = find(self.id)  # unknown: says why (the load error of its file)
        strategy.resolve(self.params)  # a ParameterError (ValueError) names the parameter
        return self


class Settings(BaseSettings):
    """Everything configurable about a Quarterdeck process (see the README's table)."""

    # No NaN or infinity in any number, but for the limits whose documented "off" is inf.
    model_config = SettingsConfigDict(
        env_prefix="QD_", extra="forbid", validate_default=True, allow_inf_nan=False
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = Field(
        default="",
        description="sqlite:///PATH or postgresql://USER@HOST:PORT/DB; empty means the "
        "DATABASE_URL environment variable if set, else SQLite at <data_dir>/quarterdeck.db.",
    )
    environment: str = "paper"
    log_level: str = "INFO"
    log_max_bytes: int = Field(default=5_000_000, gt=0)
    log_backups: int = Field(default=5, ge=0)

    sim_seed: int = bounds.SEED.field(7)
    sim_symbols: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["BTCUSD", "ETHUSD", "SPY", "EURUSD"]
    )
    sim_tick_rate: float = Field(
        default=400.0, gt=0, le=1e6, description="Ticks per second, all symbols."
    )
    sim_tick_seconds: float = Field(default=1.0, gt=0, description="Simulated seconds per tick.")
    sim_bar_seconds: int = Field(default=15, gt=0, description="Simulated seconds per bar.")

    feed: Literal["simulator", "replay", "websocket"] = Field(
        default="simulator", description="Market data: the simulator, a file replay or live."
    )
    replay_file: Path | None = Field(default=None, description="CSV/Parquet OHLCV for the replay.")
    replay_symbol: str = "DATA"
    replay_speed: float = Field(
        default=3600.0, ge=0, description="Replay speed, x real time; 0 is as fast as possible."
    )

    feed_sources: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Live sources in failover order, each VENUE=URL (binance, coinbase, generic).",
    )
    feed_symbols: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Live symbols, in the venue's spelling."
    )
    feed_bar_seconds: float = Field(default=60.0, gt=0, description="Bars built from live trades.")
    feed_latency_threshold: float = Field(default=1.5, gt=0, description="Latency alarm, seconds.")
    feed_stale_after: float = Field(
        default=30.0, gt=0, description="No update for this long: stale."
    )

    risk_max_order_notional: float = Field(default=math.inf, gt=0, allow_inf_nan=True)
    risk_max_position_notional: float = Field(default=math.inf, gt=0, allow_inf_nan=True)
    risk_daily_loss_limit: float | None = Field(
        default=None, gt=0, allow_inf_nan=True,
        description="Money lost in a UTC day before trading only reduces; unset: 2% of "
        "the starting cash (inf: no limit).",
    )  # fmt: skip
    risk_max_drawdown: float = Field(
        default=0.10, gt=0, le=1, description="Drawdown (fraction) that halts trading."
    )
    risk_max_open_orders: int = Field(default=1_000, ge=1)
    risk_max_orders_per_second: int = Field(default=1_000, ge=1)

    account: str = Field(
        default="paper", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$",
        description="The paper account traded: it continues across restarts until reset.",
    )  # fmt: skip
    starting_cash: float = bounds.CASH.field(1_000_000.0, description="A new account's cash.")
    # Before ``strategies``: their user strategy ids are looked up in this folder.
    strategies_dir: Path | None = Field(
        default=None,
        description="The folder of user strategy files; empty means <data_dir>/strategies.",
    )
    strategies: list[LiveStrategy] = Field(
        default_factory=list,
        description="Live strategies; empty means sma_cross(strategy_fast, strategy_slow).",
    )
    strategy_fast: int = Field(default=5, ge=1)
    strategy_slow: int = Field(default=20, ge=2)
    position_fraction: float = bounds.FRACTION.field(
        0.9, description="Fraction of a symbol's allocation put to work."
    )
    commission: float = bounds.COMMISSION.field(
        0.0005, description="Fraction of notional per fill."
    )

    demo_job: bool = Field(default=True, description="Submit one optimizer job on start.")
    job_concurrency: int = Field(default=0, ge=0, description="Jobs at once; 0 is one per core.")
    executor: str = Field(
        default="local",
        description="Where optimization and batch sweeps run: local, or a Dask cluster's "
        "scheduler as dask://HOST:PORT.",
    )
    sweep_max_combos: int = Field(
        default=DEFAULT_SWEEP_MAX_COMBOS, ge=1, le=MAX_COUNT,
        description="Combinations one optimization, walk-forward or batch may evaluate; "
        "a larger one is refused before it starts.",
    )  # fmt: skip
    job_threads: int = Field(
        default=0, ge=0, description="Threads one sweep may use; 0 is every core but one."
    )
    check_target: str = Field(
        default="", description="The deployment the console's probes examine."
    )
    release: str = Field(
        default="",
        description="The release the console and `quarterdeck check` record and read when none "
        "is given; empty means the running version.",
    )
    check_api_key: str | None = Field(default=None, description="A valid key for the target.")
    check_ca_file: Path | None = Field(default=None, description="CA the target's cert needs.")
    check_redis_url: str | None = None
    check_database_url: str | None = Field(
        default=None, description="The target's database (SQLAlchemy URL: sqlite:///..., "
        "postgresql+psycopg://...), which the database items examine.",
    )  # fmt: skip
    check_backup_dir: Path | None = None
    check_project_dir: Path | None = Field(default=None, description="Source tree to scan.")
    check_prometheus_url: str | None = Field(
        default=None, description="The Prometheus that scrapes the target's machines "
        "(node_exporter) and holds its alert rules.",
    )  # fmt: skip
    check_alertmanager_url: str | None = Field(
        default=None, description="The target's Alertmanager; empty means the one its "
        "Prometheus reports.",
    )  # fmt: skip
    check_log_path: Path | None = Field(
        default=None, description="The target's log file, where a request id sent must appear."
    )
    check_reports_dir: Path | None = Field(
        default=None, description="The release's CI reports (JUnit XML, coverage XML, "
        "pip-audit JSON).",
    )  # fmt: skip
    check_ci_status_url: str | None = Field(
        default=None, description="The CI's commit status of the release (a GitHub-style "
        "combined status URL).",
    )  # fmt: skip
    signoff_roles: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "Security", "Infrastructure", "QA", "Development", "Product Owner",
            "Risk Management", "Compliance", "Operations",
        ],
        description="Roles whose sign-off a deployment needs.",
    )  # fmt: skip
    audit_key_file: Path = Field(
        default_factory=lambda: default_config_file().parent / "audit_ed25519.pem",
        description="Ed25519 key that signs audit checkpoints; kept outside the database.",
    )
    export_retention_hours: float = Field(
        default=24.0, gt=0, description="Export files older than this are removed (audited)."
    )
    health_interval: float = Field(default=1.0, gt=0, le=3_600)
    alert_webhook_url: str = Field(
        default="", description="Slack-compatible incoming webhook for alerts; empty: none."
    )
    alert_feed_stale_seconds: float = Field(default=10.0, gt=0)
    alert_drawdown_within_percent: float = Field(default=20.0, gt=0, lt=100)
    alert_job_failures_per_hour: int = Field(default=2, ge=0)
    alert_errors_per_minute: int = Field(default=10, ge=0)
    alert_memory_percent: float = Field(default=80.0, gt=0, le=100)
    alert_loop_lag_ms: float = Field(
        default=250.0, gt=0, description="Alert when the event loop stalls this long."
    )
    alert_repeat_seconds: float = Field(default=900.0, gt=0)
    breaker_failures: int = Field(
        default=5, ge=1, description="Failures in a row that open an outbound call's breaker."
    )
    breaker_cooldown: float = Field(
        default=30.0, gt=0, description="Seconds an open breaker refuses calls before a trial."
    )
    ui_refresh_hz: float = Field(default=10.0, gt=0, le=10)
    console_role: Role = Field(
        default=Role.ADMIN, description="Role of the person at the local console."
    )
    keymap_file: Path = Field(
        default_factory=lambda: default_config_file().parent / "keymap.toml",
        description="TOML of binding id = keys; remaps the console's keys.",
    )
    ssh_host: str = Field(
        default="127.0.0.1", description="Address the SSH server listens on (--ssh-host)."
    )
    http_host: str = Field(
        default="127.0.0.1",
        description="Address /health and /metrics listen on (with --http-port).",
    )
    http_tls_cert_file: Path | None = Field(
        default=None,
        description="PEM certificate chain: with http_tls_key_file, --http-port serves HTTPS.",
    )
    http_tls_key_file: Path | None = Field(
        default=None, description="PEM private key of http_tls_cert_file."
    )
    http_redirect_port: int | None = Field(
        default=None, ge=0, le=65_535,
        description="With TLS, also listen for plain HTTP on this port (on http_host) and "
        "answer every request with a 308 to the same URL on https (0 picks a free port).",
    )  # fmt: skip
    api_token_seconds: int = Field(
        default=900, ge=30, le=900,
        description="Lifetime of an API access token, in seconds (at most 15 minutes).",
    )  # fmt: skip
    api_refresh_seconds: int = Field(
        default=8 * 3600, ge=60, le=30 * 86400,
        description="Lifetime of an API refresh token; each use rotates it.",
    )  # fmt: skip
    api_jwt_key_file: Path | None = Field(
        default=None,
        description="Secret that signs API tokens, created on first start; empty means "
        "<data_dir>/api_jwt.key.",
    )
    api_cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API (comma-separated); none by default.",
    )
    api_public: bool = Field(
        default=False,
        description="Serve the read-only transparency view /api/v1/public/performance.",
    )
    api_max_body_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1024, le=2 * 1024**3,
        description="Largest request body the API reads (a dataset upload); larger is 413.",
    )  # fmt: skip
    api_rate_auth: str = Field(
        default="10/minute",
        description="Rate limit per client on /api/v1/auth (limits notation, e.g. 10/minute).",
    )
    api_rate_writes: str = Field(
        default="60/minute", description="Rate limit per client on the API's writes."
    )
    api_rate_reads: str = Field(
        default="20/second",
        description="Rate limit per client on reads (/health itself is never limited).",
    )
    redis_url: str = Field(
        default="",
        description="Redis for the API's rate limits, shared by every process; empty: in memory.",
    )
    ssh_users_file: Path | None = Field(
        default=None, description="Who may log in over SSH; empty means <data_dir>/users.toml."
    )
    ssh_host_key_file: Path | None = Field(
        default=None,
        description="SSH host key, created on first start; empty means "
        "<data_dir>/ssh_host_ed25519_key.",
    )
    ssh_idle_timeout: float = Field(
        default=900.0, gt=0, description="Seconds without a key press before an SSH session ends."
    )
    ssh_max_sessions: int = Field(
        default=32, ge=1, description="SSH sessions at once; one more is turned away."
    )

    @field_validator(
        "sim_symbols", "feed_symbols", "feed_sources", "signoff_roles", "api_cors_origins",
        mode="before",
    )  # fmt: skip
    @classmethod
    def _split_symbols(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("strategies", mode="before")
    @classmethod
    def _user_strategies_from_this_folder(cls, value: Any, info: ValidationInfo) -> Any:
        """A live strategy that is not built in is a user strategy: have the registry
        load them from this configuration's folder before its id is looked up."""
        if "data_dir" not in info.data or not _names_user_strategies(value):
            return value  # (a data_dir that failed validation is reported on its own)
        from core.research import strategy_sources  # here: as light as the rest of settings

        folder = strategies_folder(info.data.get("strategies_dir"), info.data["data_dir"])
        if strategy_sources.configured()[:2] != (folder, True):
            strategy_sources.use(folder)
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        return check_database_url(value) if value else value

    @field_validator("executor")
    @classmethod
    def _known_executor(cls, value: str) -> str:
        return check_executor_spec(value.strip())

    @field_validator("alert_webhook_url")
    @classmethod
    def _webhook_is_http(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value

    @field_validator("api_rate_auth", "api_rate_writes", "api_rate_reads")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse  # here: as light as the rest of settings

        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate such as 10/minute or 5/second") from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"{value!r} is not a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    @model_validator(mode="after")
    def _database_from_environment(self) -> Settings:
        """An unset ``database_url`` takes ``DATABASE_URL``, the variable hosts and
        PostgreSQL tooling set; ``QD_DATABASE_URL`` and the config file win over it."""
        fallback = os.environ.get("DATABASE_URL", "").strip()
        if not self.database_url and fallback:
            try:
                self.database_url = check_database_url(fallback)
            except ValueError as exc:
                raise ValueError(f"DATABASE_URL: {exc}") from None
        return self

    @model_validator(mode="after")
    def _check_strategy(self) -> Settings:
        if self.strategy_fast >= self.strategy_slow:
            raise ValueError(
                f"strategy_fast ({self.strategy_fast}) must be below "
                f"strategy_slow ({self.strategy_slow})"
            )
        if not self.sim_symbols:
            raise ValueError("sim_symbols must name at least one symbol")
        if self.feed == "replay" and self.replay_file is None:
            raise ValueError("feed=replay needs replay_file (QD_REPLAY_FILE)")
        if self.feed == "websocket":
            self._check_websocket()
        if (self.http_tls_cert_file is None) != (self.http_tls_key_file is None):
            raise ValueError("http_tls_cert_file and http_tls_key_file go together: set both")
        if self.http_redirect_port is not None and self.http_tls_cert_file is None:
            raise ValueError(
                "http_redirect_port redirects plain HTTP to HTTPS: it needs http_tls_cert_file "
                "and http_tls_key_file"
            )
        named = sum(live.cash for live in self.strategies if live.cash is not None)
        if any(live.cash is None for live in self.strategies) and named >= self.starting_cash:
            raise ValueError(
                f"strategies name {named:,.2f} of cash, leaving nothing of starting_cash "
                f"({self.starting_cash:,.2f}) for those that do not name theirs"
            )
        for number, live in enumerate(self.strategies):
            unknown = sorted(set(live.symbols) - set(self.symbols))
            if unknown:
                raise ValueError(
                    f"strategies[{number}] ({live.id}): symbols {', '.join(unknown)} "
                    f"are not fed (the feed has {', '.join(self.symbols)})"
                )
        return self

    def _check_websocket(self) -> None:
        if not self.feed_sources:
            raise ValueError("feed=websocket needs feed_sources (QD_FEED_SOURCES)")
        if not self.feed_symbols:
            raise ValueError("feed=websocket needs feed_symbols (QD_FEED_SYMBOLS)")
        for entry in self.feed_sources:
            venue, _, url = entry.partition("=")
            if venue not in FEED_VENUES or not url.startswith(("ws://", "wss://")):
                raise ValueError(
                    f"feed_sources entry {entry!r} is not VENUE=ws[s]://... "
                    f"with VENUE one of {', '.join(FEED_VENUES)}"
                )

    @property
    def sources(self) -> list[tuple[str, str]]:
        """``feed_sources`` as (venue, url) pairs, in failover order."""
        return [tuple(entry.split("=", 1)) for entry in self.feed_sources]  # type: ignore[misc]

    @property
    def symbols(self) -> list[str]:
        """The symbols the engine trades: the feed's."""
        if self.feed == "replay":
            return [self.replay_symbol]
        if self.feed == "websocket":
            return list(self.feed_symbols)
        return list(self.sim_symbols)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'quarterdeck.db'}"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def catalog_dir(self) -> Path:
        """The data catalog: datasets uploaded through the API (``core.market.catalog``)."""
        return self.data_dir / "catalog"

    @property
    def preferences_dir(self) -> Path:
        return self.data_dir / "preferences"

    @property
    def user_strategies_dir(self) -> Path:
        return strategies_folder(self.strategies_dir, self.data_dir)

    @property
    def users_file(self) -> Path:
        return self.ssh_users_file or self.data_dir / "users.toml"

    @property
    def host_key_file(self) -> Path:
        return self.ssh_host_key_file or self.data_dir / "ssh_host_ed25519_key"

    @property
    def jwt_key_file(self) -> Path:
        return self.api_jwt_key_file or self.data_dir / "api_jwt.key"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / "quarterdeck.jsonl"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = default_config_file()
        if config_file.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)
