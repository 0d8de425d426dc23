"""Watching a folder, which may not exist yet, for saved changes to some of its files.

``watch_folder`` follows the files directly in the folder (an editor's save, a new
file, a deletion) and the folder itself: while it does not exist, the nearest
existing folder above it is watched (not recursively) for it, or the next folder on
the way to it, to appear; when it is removed, that again. Changes come in batches:
a save that writes a file in several steps (or a checkout that writes many) is one
batch, at most ``DEBOUNCE_MS`` after the first change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from watchfiles import Change, awatch

log = logging.getLogger(__name__)

#: The longest a batch of changes waits for more before it is handed on.
DEBOUNCE_MS = 250
#: How long changes must pause for a batch to be handed on sooner.
STEP_MS = 50
#: Seconds before watching again after the watcher failed (a folder that vanished
#: while the watch began, a refused permission, the system's limit of watches).
RETRY_SECONDS = 5.0


def existing_folder(path: Path) -> Path:
    """``path`` if it is a folder, else the nearest folder above it that exists."""
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return Path(path.anchor or ".")


async def watch_folder(
    folder: Path,
    wanted: Callable[[Path], bool],
    changed: Callable[[], Awaitable[object]],
    stop: asyncio.Event,
) -> None:
    """Await ``changed()`` after each batch of changes to the files directly in
    ``folder`` that ``wanted`` keeps, or to ``folder`` itself (created, removed),
    until ``stop`` is set. A failing watcher is logged and started again."""
    folder = folder.absolute()

    def ours(path: Path) -> bool:
        return path == folder or (path.parent == folder and wanted(path))

    def relevant(_change: Change, name: str) -> bool:
        path = Path(name)
        return ours(path) or path in folder.parents  # a folder on the way to it

    failure = ""
    previous: Path | None = None  # the folder watched before
    reloaded = False  # on the last batch
    while not stop.is_set():
        target = existing_folder(folder)
        if previous is not None and target != previous and (target == folder or not reloaded):
            await changed()  # it came (with files, maybe) or went
        previous, reloaded = target, False
        try:
            async for batch in awatch(target, watch_filter=relevant, debounce=DEBOUNCE_MS,
                                      step=STEP_MS, stop_event=stop, recursive=False):  # fmt: skip
                reloaded = any(ours(Path(name)) for _, name in batch)
                if reloaded:
                    await changed()
                if existing_folder(folder) != target:
                    break  # it, or a folder on the way, came or went: watch from there
            failure = ""
        except (OSError, RuntimeError) as exc:
            if str(exc) != failure:  # said once, not every retry
                log.warning("cannot watch %s for changes (retrying every %.0f s): %s",
                            target, RETRY_SECONDS, exc)  # fmt: skip
            failure = str(exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_SECONDS)
