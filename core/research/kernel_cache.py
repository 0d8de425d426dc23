"""Where numba keeps the compiled kernels: a folder per version of their source.

numba checks a cached kernel against the timestamp of the file the kernel is
defined in, not of the files whose functions it compiled in. The sweep kernel
inlines the metrics kernel from another module, so after an upgrade that
changed only the metrics, it kept computing the old figures (a profit factor of
0 where the new code says infinite). Keying the folder by a hash of every
research module's source makes any change of any kernel start from a fresh
cache; earlier folders are left for earlier versions.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

RESEARCH = Path(__file__).resolve().parent


def source_key() -> str:
    """A short hash of the research package's Python sources."""
    digest = hashlib.sha256()
    for path in sorted(RESEARCH.rglob("*.py")):
        digest.update(path.relative_to(RESEARCH).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_folder() -> Path:
    """``NUMBA_CACHE_DIR`` (else the user's cache folder), then this source's key; as is
    when it already ends with the key (a worker process inherits the setting)."""
    key = source_key()
    configured = os.environ.get("NUMBA_CACHE_DIR")
    if configured:
        base = Path(configured)
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "quarterdeck"
        base = base / "numba"
    return base if base.name == key else base / key


def key_the_cache() -> None:
    """Point numba at this source's folder before any kernel is decorated, without
    importing numba (the light modules of this package are imported by the console's
    first frame)."""
    folder = str(cache_folder())
    os.environ["NUMBA_CACHE_DIR"] = folder
    if "numba" in sys.modules:
        from numba.core import config

        config.CACHE_DIR = folder
