"""The `quarterdeck` command as a real process."""

import subprocess
import sys
from pathlib import Path

QUARTERDECK = str(Path(sys.executable).with_name("quarterdeck"))


def run(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([QUARTERDECK, *args], capture_output=True, text=True, env=env, timeout=60)


def test_version_prints_the_package_version() -> None:
    from core import __version__

    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"quarterdeck {__version__}"
    assert __version__ != "0.0.0+unknown"


def test_bad_configuration_exits_2_naming_the_setting() -> None:
    result = run(env_extra={"QD_SIM_TICK_RATE": "fast"})
    assert result.returncode == 2
    assert "QD_SIM_TICK_RATE" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_config_file_exits_2_naming_the_file(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("sim_seed = [\n")
    result = run(env_extra={"QD_CONFIG_FILE": str(config)})
    assert result.returncode == 2
    assert str(config) in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
