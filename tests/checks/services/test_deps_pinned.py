"""deps.pinned on throwaway trees: lock files, pinned and unpinned requirements, stale locks."""

from __future__ import annotations

from pathlib import Path

from checks.probes import REGISTRY, Scope
from checks.probes.deps_pinned import PinnedParams, pinned
from checks.runner import run_probe_named
from core.events import Verdict

from .conftest import MakeContext

PINNED = """\
# runtime dependencies, compiled by pip-compile
httpx==0.28.1 \\
    --hash=sha256:d909fcccc110f8c7faf814ca82a9a4d816bc5a6dbfea25d6591d6985b8ba59ad
idna==3.10 ; python_version >= "3.8" \\
    --hash=sha256:12f65c9b470abda6dc35cf8e63cc574b1c52b11df2c86030af0ac09b01b13ea9
-e .
"""

UNPINNED = """\
--index-url https://pypi.org/simple
httpx==0.28.1
requests>=2.31  # floats
-r requirements.txt
numpy
pandas==2.*
"""

UV_LOCK = """\
version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }

[[package]]
name = "httpx"
version = "0.28.1"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pydantic"
version = "2.9.2"
source = { registry = "https://pypi.org/simple" }
"""

PYPROJECT = """\
[project]
name = "app"
version = "0.1.0"
dependencies = ["httpx>=0.28,<1", "pydantic>=2.7", "tomli>=2; python_version < '3.11'"]
"""


def write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


async def test_a_lock_that_satisfies_pyproject_passes(tmp_path: Path, make_ctx: MakeContext):
    root = write(tmp_path / "p", {"uv.lock": UV_LOCK, "pyproject.toml": PYPROJECT})
    result = await pinned(make_ctx(project_dir=root, scope=Scope.TARGET), PinnedParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.reason == "2 package(s) pinned by uv.lock"  # the project itself left out
    assert result.evidence["pinned_by"] == [str(root / "uv.lock")]


async def test_hashed_pins_pass_and_hashes_are_counted(tmp_path: Path, make_ctx: MakeContext):
    root = write(tmp_path / "p", {"requirements.txt": PINNED})
    params = PinnedParams(require_hashes=True)
    result = await pinned(make_ctx(project_dir=root, scope=Scope.TARGET), params)
    assert result.verdict is Verdict.PASS, result.reason
    assert result.reason.endswith("; 2/2 requirement(s) with hashes")


async def test_each_unpinned_requirement_fails_with_file_and_line(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    root = write(tmp_path / "p", {"uv.lock": UV_LOCK, "requirements.txt": PINNED,
                                  "requirements-dev.txt": UNPINNED})  # fmt: skip
    result = await pinned(make_ctx(project_dir=root, scope=Scope.TARGET), PinnedParams())
    assert result.verdict is Verdict.FAIL
    dev = root / "requirements-dev.txt"
    assert result.evidence["unpinned"] == [f"{dev}:3: requests>=2.31", f"{dev}:5: numpy",
                                           f"{dev}:6: pandas==2.*"]  # fmt: skip
    assert result.reason.startswith(f"3 unpinned requirement(s): {dev}:3: requests>=2.31")


async def test_a_tree_with_nothing_pinning_fails(tmp_path: Path, make_ctx: MakeContext) -> None:
    root = write(tmp_path / "p", {"pyproject.toml": PYPROJECT})
    result = await pinned(make_ctx(project_dir=root, scope=Scope.TARGET), PinnedParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("no lock file (uv.lock, poetry.lock, pdm.lock, Pipfile.lock)")


async def test_a_lock_older_than_pyproject_is_not_current(tmp_path: Path, make_ctx: MakeContext):
    newer = PYPROJECT.replace('"pydantic>=2.7"', '"pydantic>=2.10", "structlog>=24"')
    root = write(tmp_path / "p", {"uv.lock": UV_LOCK, "pyproject.toml": newer})
    result = await pinned(make_ctx(project_dir=root, scope=Scope.TARGET), PinnedParams())
    assert result.verdict is Verdict.FAIL
    assert result.evidence["stale"] == [
        "pyproject.toml requires pydantic>=2.10 but the lock pins 2.9.2",
        "structlog>=24 is declared in pyproject.toml but pinned nowhere",
    ]
    unchecked = await pinned(make_ctx(project_dir=root, scope=Scope.TARGET),
                             PinnedParams(current=False))  # fmt: skip
    assert unchecked.verdict is Verdict.PASS, unchecked.reason


async def test_malformed_files_are_errors_naming_file_and_line(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    root = write(tmp_path / "p", {"requirements.txt": "httpx==0.28.1\nfoo===\n"})
    bad_line = await pinned(make_ctx(project_dir=root, scope=Scope.TARGET), PinnedParams())
    assert bad_line.verdict is Verdict.ERROR
    assert bad_line.reason.startswith(f"{root / 'requirements.txt'}:2: not a requirement: ")
    assert bad_line.evidence["line"] == 2

    root = write(tmp_path / "q", {"poetry.lock": '[[package]]\nname = "httpx"\nversion = \n'})
    bad_lock = await pinned(make_ctx(project_dir=root, scope=Scope.TARGET), PinnedParams())
    assert bad_lock.verdict is Verdict.ERROR
    assert bad_lock.reason.startswith(f"{root / 'poetry.lock'}: not valid TOML: ")
    assert "line 3" in bad_lock.reason


async def test_without_a_tree_it_is_an_error_naming_the_setting(make_ctx: MakeContext) -> None:
    result = await run_probe_named("deps.pinned", {}, make_ctx(), REGISTRY, 10.0)
    assert result.verdict is Verdict.ERROR
    assert "QD_CHECK_PROJECT_DIR" in result.reason
    assert result.evidence["setting"] == "project_dir"
