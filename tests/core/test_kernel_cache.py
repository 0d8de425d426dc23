"""numba's cache folder follows the research kernels' source: an upgrade that changes any
kernel module (the metrics the sweep kernel inlines) never loads a stale compiled kernel."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.research import kernel_cache


def test_a_change_in_any_research_module_is_a_new_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "research"
    (package / "strategies").mkdir(parents=True)
    (package / "metrics.py").write_text("PROFIT_FACTOR_WITHOUT_LOSS = 0\n")
    (package / "strategies" / "trend.py").write_text("x = 1\n")
    monkeypatch.setattr(kernel_cache, "RESEARCH", package)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    before = kernel_cache.cache_folder()
    (package / "metrics.py").write_text("PROFIT_FACTOR_WITHOUT_LOSS = float('inf')\n")
    after = kernel_cache.cache_folder()
    assert before.parent == after.parent == tmp_path / "cache"
    assert before != after


def test_a_worker_process_inheriting_the_folder_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    folder = kernel_cache.cache_folder()
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(folder))
    assert kernel_cache.cache_folder() == folder


def test_numba_compiles_into_the_keyed_folder() -> None:
    from numba.core import config

    assert Path(config.CACHE_DIR).name == kernel_cache.source_key()
