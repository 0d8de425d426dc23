"""`quarterdeck datasets`: the data catalog, as the API's ``/api/v1/datasets`` shows it.

``datasets add FILE`` validates a CSV or Parquet bar file and keeps a copy under an id
(a prefix of its content's hash); jobs then run on it as ``catalog:ID`` (``jobs
submit``, the research screen, the API). Adding needs a role that may run jobs and is
audited, as over the API.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from console.commands.actor import cli_actor
from console.commands.errors import UsageError
from core import jsontext

if TYPE_CHECKING:
    from core.market.catalog import Dataset

EXIT_UNKNOWN = 1


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("datasets", help="the data catalog: add, list and show datasets")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="validate a CSV or Parquet bar file and keep it")
    add.add_argument("file", type=Path, metavar="FILE")
    add.add_argument("--symbol", default=None, metavar="SYMBOL", help="the bars' instrument")
    add.add_argument("--as", dest="who", default=None, metavar="NAME",
                     help="who adds it (default: the logged-in user)")  # fmt: skip
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=add_command)
    listing = actions.add_parser("list", help="every dataset, newest first")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_command)
    show = actions.add_parser("show", help="one dataset")
    show.add_argument("dataset_id", metavar="ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=show_command)


def add_command(args: argparse.Namespace) -> int:
    from core.access import PermissionDenied
    from core.market.catalog import Catalog
    from core.market.catalog_commands import add_dataset
    from core.market.loader import DataFileError
    from core.store import Store

    settings = args.settings
    if args.symbol is not None and not args.symbol.strip():
        raise UsageError("--symbol: empty")
    try:
        data = args.file.open("rb")
    except OSError as exc:
        raise UsageError(f"{args.file}: {exc.strerror or exc}") from None
    store = Store(settings.resolved_database_url)
    store.create_schema()
    try:
        with data:
            dataset, created = add_dataset(store, Catalog(settings.catalog_dir),
                                           cli_actor(args.who, settings), args.file.name, data,
                                           args.symbol)  # fmt: skip
    except (DataFileError, PermissionDenied) as exc:  # a refusal is audited as denied.*
        raise UsageError(str(exc)) from None
    finally:
        store.dispose()
    if args.json:
        print(jsontext.dumps({**dataset.as_json(), "created": created}, indent=2))
    else:
        state = "added" if created else "already in the catalog"
        print(f"{describe(dataset)} ({state}); run jobs on it as catalog:{dataset.id}")
    return 0


def list_command(args: argparse.Namespace) -> int:
    from core.market.catalog import Catalog

    datasets = Catalog(args.settings.catalog_dir).entries()
    if args.json:
        print(jsontext.dumps([d.as_json() for d in datasets], indent=2))  # as the API lists them
    elif not datasets:
        print("the data catalog is empty (quarterdeck datasets add FILE)")
    for dataset in datasets if not args.json else ():
        print(describe(dataset))
    return 0


def show_command(args: argparse.Namespace) -> int:
    from core.market.catalog import Catalog, UnknownDataset

    try:
        dataset = Catalog(args.settings.catalog_dir).get(args.dataset_id)
    except UnknownDataset as exc:
        print(f"quarterdeck datasets: {exc}", file=sys.stderr)
        return EXIT_UNKNOWN
    if args.json:
        print(jsontext.dumps(dataset.as_json(), indent=2))
    else:
        print(describe(dataset))
    return 0


def describe(dataset: Dataset) -> str:
    symbol = f" {dataset.symbol}" if dataset.symbol else ""
    return (f"{dataset.id}  {dataset.name}{symbol}  {dataset.rows:,} bars  "
            f"{dataset.first_bar[:10]} .. {dataset.last_bar[:10]}")  # fmt: skip
