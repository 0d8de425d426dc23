"""`quarterdeck jobs` against the store, with real worker processes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.cli import main

QUARTERDECK = str(Path(sys.executable).with_name("quarterdeck"))
LONG = {"strategy": "rsi_reversion", "dataset": "sim:SPY", "bars": 20_000,
        "grid": {"window": [5, 60, 1], "lower": [10, 45, 1], "upper": [55, 90, 1]}}  # fmt: skip


def quarterdeck(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_submit_list_show_and_cancel_a_job_nobody_runs(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = quarterdeck(capsys, "jobs", "submit", "optimize", json.dumps(LONG),
                               "--priority", "low")  # fmt: skip
    assert (code, out.strip()) == (0, "1")
    code, out, _ = quarterdeck(capsys, "jobs", "list")
    assert code == 0 and "queued" in out and "low" in out and "rsi_reversion sim:SPY" in out
    code, out, _ = quarterdeck(capsys, "jobs", "show", "1", "--json")
    shown = json.loads(out)
    assert (shown["state"], shown["priority"], shown["params"]) == ("queued", "low", LONG)
    code, out, _ = quarterdeck(capsys, "jobs", "cancel", "1", "--by", "alice")
    assert (code, out.strip()) == (0, "job 1 cancelled (no process was running it)")
    code, out, _ = quarterdeck(capsys, "jobs", "show", "1", "--json")
    assert json.loads(out)["state"] == "cancelled"
    assert json.loads(out)["note"] == "cancelled by cli:alice"
    code, out, _ = quarterdeck(capsys, "jobs", "cancel", "1")
    assert (code, out.strip()) == (1, "job 1 is already cancelled")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["jobs", "show", "7"], "no job 7"),
        (["jobs", "cancel", "7"], "no job 7"),
        (["jobs", "submit", "sweep", "{}"], "unknown job kind 'sweep'"),
        (["jobs", "submit", "optimize", "[1]"], "expected an object"),
        (["jobs", "submit", "optimize", "{nope"], "JSON: Expecting property name"),
        (
            ["jobs", "submit", "batch", '{"strategies": ["sma_cross"], "datasets": []}'],
            "needs at least one strategy and one dataset",
        ),
    ],
)
def test_bad_requests_exit_2_naming_the_problem(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str], args: list[str],
    message: str,
) -> None:  # fmt: skip
    code, _, err = quarterdeck(capsys, *args)
    assert code == 2 and message in err


def test_cancel_reaches_a_job_running_in_another_process(isolated_environment: Path) -> None:
    environment = {**os.environ, "QD_JOB_CONCURRENCY": "1"}
    submit = [QUARTERDECK, "jobs", "submit", "optimize", json.dumps(LONG)]
    assert subprocess.run(submit, env=environment, capture_output=True, text=True).stdout == "1\n"
    worker = subprocess.Popen(
        [QUARTERDECK, "jobs", "work"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            listing = subprocess.run(
                [QUARTERDECK, "jobs", "show", "1", "--json"],
                env=environment,
                capture_output=True,
                text=True,
            )
            shown = json.loads(listing.stdout)
            if shown["state"] == "running" and shown["done"] > 0:
                break
            time.sleep(0.1)
        cancel = subprocess.run(
            [QUARTERDECK, "jobs", "cancel", "1"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert (cancel.returncode, cancel.stdout.strip()) == (0, "job 1 cancelled")
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=30)
    assert worker.returncode == 0, errors  # SIGTERM: a clean stop


def test_pause_resume_and_priority_of_a_job_nobody_runs(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quarterdeck(capsys, "jobs", "submit", "optimize", json.dumps(LONG))
    assert quarterdeck(capsys, "jobs", "priority", "1", "high")[:2] == (0, "job 1: priority high\n")
    assert quarterdeck(capsys, "jobs", "pause", "1")[:2] == (0, "job 1: pause\n")
    shown = json.loads(quarterdeck(capsys, "jobs", "show", "1", "--json")[1])
    assert (shown["state"], shown["priority"]) == ("paused", "high")
    assert quarterdeck(capsys, "jobs", "resume", "1")[:2] == (0, "job 1: resume\n")
    assert json.loads(quarterdeck(capsys, "jobs", "show", "1", "--json")[1])["state"] == "queued"
    assert quarterdeck(capsys, "jobs", "pause", "9")[0] == 2


def test_a_job_submitted_on_a_catalog_dataset_runs_in_a_worker(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.config import Settings
    from core.market.catalog import Catalog
    from tests.bar_files import bars_csv

    catalog = Catalog(Settings().catalog_dir)
    dataset, _ = catalog.add("spy.csv", io.BytesIO(bars_csv(400)))
    request = {"strategy": "sma_cross", "dataset": f"catalog:{dataset.id}", "min_trades": 0,
               "grid": {"fast": [5, 10, 5], "slow": [20, 30, 10]}}  # fmt: skip
    code, out, _ = quarterdeck(capsys, "jobs", "submit", "optimize", json.dumps(request))
    assert code == 0
    assert quarterdeck(capsys, "jobs", "work", "--until-idle")[0] == 0
    code, out, _ = quarterdeck(capsys, "jobs", "show", out.strip(), "--json")
    shown = json.loads(out)
    assert shown["state"] == "done", shown["error"]
    assert shown["result"]["evaluations"] == 4
