"""The data catalog: uploaded bar files, validated once and kept under an id.

A dataset is stored as ``<root>/<id>.<format>`` (the file as uploaded) beside
``<root>/<id>.json`` (its name, rows, first and last bar time and symbol); the
metadata is written last, so a dataset is in the catalog once both exist. The id
is a prefix of the content's SHA-256: uploading the same bytes again finds the
dataset already there and changes nothing. A file that does not load (see
``core.market.loader``) is refused with the loader's ``DataFileError``, which names
the file as it was uploaded, the row and the column, and nothing is kept.

Everything here reads or writes files: call it from a worker thread.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from core.market.history import Bars
from core.market.loader import DataFileError, load_bars

#: How a catalog id looks: 16 hex digits of the content's SHA-256.
ID_PATTERN = re.compile(r"[0-9a-f]{16}")
#: File name endings the loader reads, and the format each is stored as.
FORMATS = {".csv": "csv", ".csv.gz": "csv.gz", ".parquet": "parquet", ".pq": "parquet"}
CHUNK = 1 << 20
log = logging.getLogger(__name__)


class UnknownDataset(ValueError):
    """An id that is not (or cannot be) a dataset in the catalog."""


@dataclass(frozen=True, slots=True)
class Dataset:
    id: str
    name: str  # the file name it was uploaded as
    format: str  # csv, csv.gz or parquet
    rows: int
    first_bar: str  # ISO 8601, UTC
    last_bar: str
    symbol: str | None
    bytes: int
    added_at: str

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def upload_name(name: str) -> str:
    """The file name of an upload (any folders a client sent left out), with an ending
    the loader reads; a ``DataFileError`` names anything else."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if base in ("", ".", "..") or "\x00" in base or len(base.encode()) > 255:
        raise DataFileError(Path("upload"), None, None, f"not a usable file name: {name!r}")
    if _format(base) is None:
        raise DataFileError(
            Path(base), None, None, "unknown format: use .csv, .csv.gz, .parquet or .pq"
        )
    return base


def _format(name: str) -> str | None:
    lower = name.lower()
    return next((fmt for end, fmt in FORMATS.items() if lower.endswith(end)), None)


class Catalog:
    def __init__(self, root: Path) -> None:
        self.root = root

    def add(self, name: str, data: BinaryIO, symbol: str | None = None) -> tuple[Dataset, bool]:
        """Validate and keep the file ``name`` read from ``data``: the dataset, and
        whether it is new (False: the same bytes were uploaded before)."""
        name = upload_name(name)
        fmt = _format(name)
        assert fmt is not None
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.root, prefix=".incoming-") as folder:
            staged = Path(folder) / name  # so the loader's errors name the upload
            digest, size = hashlib.sha256(), 0
            with staged.open("wb") as out:
                while chunk := data.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            dataset_id = digest.hexdigest()[:16]
            known = self._read(dataset_id)
            if known is not None:
                return known, False
            bars = load_bars(staged)
            dataset = Dataset(
                dataset_id, name, fmt, int(bars["ts"].size), _iso(float(bars["ts"][0])),
                _iso(float(bars["ts"][-1])), symbol, size,
                datetime.fromtimestamp(time.time(), UTC).isoformat(timespec="seconds"),
            )  # fmt: skip
            os.replace(staged, self._data_path(dataset_id, fmt))
        meta = self._meta_path(dataset_id)
        partial = meta.with_suffix(".json.partial")
        partial.write_text(json.dumps(dataset.as_json(), indent=2), encoding="utf-8")
        os.replace(partial, meta)
        return dataset, True

    def entries(self) -> list[Dataset]:
        """Every dataset, newest first."""
        if not self.root.is_dir():
            return []
        found = (self._read(path.stem) for path in self.root.glob("*.json"))
        return sorted((d for d in found if d is not None), key=lambda d: d.added_at, reverse=True)

    def get(self, dataset_id: str) -> Dataset:
        dataset = self._read(dataset_id)
        if dataset is None:
            raise UnknownDataset(f"no dataset {dataset_id!r} in the data catalog")
        return dataset

    def bars(self, dataset_id: str) -> Bars:
        """The dataset's bars, as the loader reads them."""
        dataset = self.get(dataset_id)
        return load_bars(self._data_path(dataset.id, dataset.format))

    def _read(self, dataset_id: str) -> Dataset | None:
        if not ID_PATTERN.fullmatch(dataset_id):  # never a path: no folder, no ..
            return None
        path = self._meta_path(dataset_id)
        try:
            return Dataset(**json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:  # edited or damaged by hand
            log.warning("data catalog: %s is not readable, left out: %s", path, exc)
            return None

    def _meta_path(self, dataset_id: str) -> Path:
        return self.root / f"{dataset_id}.json"

    def _data_path(self, dataset_id: str, fmt: str) -> Path:
        return self.root / f"{dataset_id}.{fmt}"
