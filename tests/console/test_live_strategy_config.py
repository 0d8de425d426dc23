"""A config whose ``[[strategies]]`` names a user strategy, as a real process: a file of
the strategies folder that does not load, or an id nobody defines, is one line on
stderr naming the config file and the load error, exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

from tests.console.test_strategies_command import env, put, quarterdeck  # noqa: F401
from tests.core.test_live_user_strategies import HOLDER


def test_a_broken_or_unknown_user_strategy_in_the_config_exits_2_on_one_line(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    env = {**env, "QD_CONFIG_FILE": str(config)}
    broken = put(
        env, "desk_rule.py", 'from core.sdk import strategy\nraise ValueError("half done")\n'
    )
    put(env, "holder.py", HOLDER)
    for strategy_id, why in [
        ("desk_rule", f"its file did not load: {broken}:2: ValueError: half done"),
        ("nope", "unknown strategy 'nope' (not built in, nor in "),
    ]:
        config.write_text(f'[[strategies]]\nid = "{strategy_id}"\n')
        result = quarterdeck(env, "account")
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert result.stderr.startswith(f"quarterdeck: invalid configuration: QD_STRATEGIES.0 "
                                        f"or strategies.0 in {config}: ")  # fmt: skip
        assert why in result.stderr

    config.write_text('[[strategies]]\nid = "holder"\n')
    accepted = quarterdeck(env, "account")
    assert accepted.returncode == 1 and "no account 'paper' yet" in accepted.stderr
