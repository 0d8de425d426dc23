from pathlib import Path

import pytest
from pydantic import ValidationError

from core.config import ConfigurationError, LiveStrategy, Settings, load_settings


def test_defaults_put_the_database_in_the_data_directory(isolated_environment: Path) -> None:
    settings = Settings()
    assert settings.data_dir == isolated_environment
    assert settings.resolved_database_url == f"sqlite:///{isolated_environment / 'quarterdeck.db'}"
    assert settings.log_file == isolated_environment / "logs" / "quarterdeck.jsonl"


def test_data_dir_defaults_to_xdg_data_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("QD_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert Settings().data_dir == tmp_path / "share" / "quarterdeck"


def test_environment_variables_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QD_SIM_SYMBOLS", "AAA, BBB")
    monkeypatch.setenv("QD_DATABASE_URL", "sqlite:////tmp/x.db")
    monkeypatch.setenv("QD_LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.sim_symbols == ["AAA", "BBB"]
    assert settings.resolved_database_url == "sqlite:////tmp/x.db"
    assert settings.log_level == "DEBUG"


def test_toml_file_is_read_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config" / "quarterdeck" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('sim_seed = 99\nenvironment = "staging"\n')
    monkeypatch.setenv("QD_ENVIRONMENT", "prod-like")
    settings = Settings()
    assert settings.sim_seed == 99
    assert settings.environment == "prod-like"


def test_bad_values_name_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QD_SIM_TICK_RATE", "-5")
    with pytest.raises(ValidationError, match="sim_tick_rate"):
        Settings()


def test_unknown_keys_in_the_toml_file_are_errors(tmp_path: Path) -> None:
    config = tmp_path / "config" / "quarterdeck" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("sim_sed = 1\n")
    with pytest.raises(ValidationError, match="sim_sed"):
        Settings()


def test_fast_must_be_below_slow() -> None:
    with pytest.raises(ValidationError, match="strategy_fast"):
        Settings(strategy_fast=30, strategy_slow=20)


def test_a_replay_feed_needs_its_file(monkeypatch) -> None:
    monkeypatch.setenv("QD_FEED", "replay")
    with pytest.raises(ConfigurationError, match="replay_file"):
        load_settings()
    monkeypatch.setenv("QD_REPLAY_FILE", "/data/spy.csv")
    monkeypatch.setenv("QD_RISK_MAX_DRAWDOWN", "0.2")
    settings = load_settings()
    assert settings.symbols == ["DATA"] and settings.risk_max_drawdown == 0.2


def test_live_strategies_come_from_the_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "config" / "quarterdeck" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        "starting_cash = 100000\n"
        '[[strategies]]\nid = "ema_cross"\nparams = { fast = 8, slow = 21 }\n'
        'symbols = ["BTCUSD"]\ncash = 40000\n'
        '[[strategies]]\nid = "rsi_reversion"\ndirection = "both"\n'
    )
    settings = load_settings()
    first, second = settings.strategies
    assert (first.id, first.params, first.symbols, first.cash) == (
        "ema_cross", {"fast": 8, "slow": 21}, ["BTCUSD"], 40_000,
    )  # fmt: skip
    assert (second.id, second.direction, second.cash) == ("rsi_reversion", "both", None)


@pytest.mark.parametrize(
    ("strategies", "message"),
    [
        ('[{"id": "nope"}]', "QD_STRATEGIES.0 .*unknown strategy 'nope'"),
        ('[{"id": "sma_cross", "params": {"fast": 50, "slow": 10}}]', "fast < slow"),
        ('[{"id": "sma_cross", "params": {"window": 3}}]', "no parameter 'window'"),
        ('[{"id": "sma_cross", "symbols": ["DOGE"]}]', r"strategies\[0\] \(sma_cross\).*DOGE"),
        ('[{"id": "sma_cross", "leverage": 3}]', "leverage"),
        ('[{"id": "sma_cross", "cash": 2e6}, {"id": "ema_cross"}]', "leaving nothing"),
        ('{"id": "sma_cross"}', "QD_STRATEGIES"),
    ],
)
def test_a_bad_live_strategy_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, strategies: str, message: str
) -> None:
    monkeypatch.setenv("QD_STRATEGIES", strategies)
    with pytest.raises(ConfigurationError, match=message):
        load_settings()


def test_a_websocket_feed_names_its_sources_and_symbols(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QD_FEED", "websocket")
    with pytest.raises(ConfigurationError, match="feed_sources"):
        load_settings()
    monkeypatch.setenv("QD_FEED_SOURCES", "binance=wss://a.example/ws, coinbase=wss://b.example")
    with pytest.raises(ConfigurationError, match="feed_symbols"):
        load_settings()
    monkeypatch.setenv("QD_FEED_SYMBOLS", "btcusdt")
    settings = load_settings()
    assert settings.sources == [("binance", "wss://a.example/ws"), ("coinbase", "wss://b.example")]
    assert settings.symbols == ["btcusdt"]
    monkeypatch.setenv("QD_FEED_SOURCES", "kraken=wss://c.example")
    with pytest.raises(ConfigurationError, match=r"'kraken=wss://c\.example' is not VENUE="):
        load_settings()
    monkeypatch.setenv("QD_FEED_SOURCES", "binance=https://c.example")
    with pytest.raises(ConfigurationError, match="is not VENUE=ws"):
        load_settings()


def test_https_needs_both_the_certificate_and_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QD_HTTP_TLS_CERT_FILE", "/etc/qd/monitor.crt")
    with pytest.raises(ConfigurationError, match="http_tls_cert_file and http_tls_key_file"):
        load_settings()


def test_database_url_falls_back_to_the_plain_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://qd@db.internal:5432/quarterdeck")
    assert Settings().resolved_database_url == "postgresql://qd@db.internal:5432/quarterdeck"
    monkeypatch.setenv("QD_DATABASE_URL", "sqlite:////tmp/x.db")  # Quarterdeck's own wins
    assert Settings().resolved_database_url == "sqlite:////tmp/x.db"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("QD_DATABASE_URL", "nonsense", "QD_DATABASE_URL or database_url in .*not a database URL"),
        ("QD_DATABASE_URL", "mysql://u@h/db", "'mysql' databases are not supported"),
        ("DATABASE_URL", "oracle://u@h/db", "DATABASE_URL: 'oracle' databases are not supported"),
        ("DATABASE_URL", "postgresql://u@h:5432", "DATABASE_URL: .* names no database"),
    ],
)
def test_an_unusable_database_url_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=message):
        load_settings()


def test_a_live_strategys_whole_parameters_stay_whole() -> None:
    """``n = 10`` in the config is a window of 10, shown as ``n=10`` (not ``10.0``)."""
    params = LiveStrategy(id="sma_cross", params={"fast": 10, "slow": 30.0}).params
    assert params == {"fast": 10, "slow": 30}
    assert all(type(v) is int for v in params.values())
    assert LiveStrategy(id="rsi_reversion", params={"lower": 27.5}).params["lower"] == 27.5
