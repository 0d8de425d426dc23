"""The data catalog's one command, as every front end runs it (the API through the
Deck, the CLI directly): only a role that may run jobs adds a dataset, and an added
dataset is audited. Reads and writes the store and files: call it from a thread."""

from __future__ import annotations

from typing import BinaryIO

from core.access import Capability, Principal
from core.guard import permit, record
from core.market.catalog import Catalog, Dataset
from core.store import Store


def add_dataset(
    store: Store, catalog: Catalog, actor: Principal, name: str, data: BinaryIO,
    symbol: str | None = None,
) -> tuple[Dataset, bool]:  # fmt: skip
    """Validate the bar file ``name`` read from ``data`` and keep it in ``catalog``, for
    jobs to run on as ``catalog:ID``: the dataset, and whether it is new (the same bytes
    added again are the same dataset, and not audited again). A ``DataFileError`` names
    the file, row and column of bad data; ``PermissionDenied`` (audited) a role that may
    not run jobs."""
    permit(store, actor, Capability.RUN_JOBS, "dataset.add", name)
    dataset, created = catalog.add(name, data, symbol)
    if created:
        record(store, actor, "dataset.add", f"dataset {dataset.id}",
               {"name": dataset.name, "rows": dataset.rows})  # fmt: skip
    return dataset, created
