"""The data catalog: uploads validated by the loader, kept by content id, read by jobs."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from core.jobs.datasets import dataset_bars
from core.market.catalog import Catalog, UnknownDataset
from core.market.loader import DataFileError, load_bars
from tests.bar_files import bars_csv, bars_parquet, broken_csv


def test_an_upload_is_kept_under_its_content_id_with_its_extent(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog")
    dataset, created = catalog.add("spy.csv", io.BytesIO(bars_csv(300)), "SPY")
    assert created
    assert len(dataset.id) == 16
    assert (dataset.name, dataset.format, dataset.rows, dataset.symbol) == ("spy.csv", "csv",
                                                                            300, "SPY")  # fmt: skip
    assert dataset.first_bar == "2023-11-14T22:13:20+00:00"
    assert dataset.last_bar > dataset.first_bar
    assert catalog.entries() == [dataset]
    assert sorted(p.name for p in catalog.root.iterdir()) == [f"{dataset.id}.csv",
                                                              f"{dataset.id}.json"]  # fmt: skip


def test_the_same_bytes_again_are_the_same_dataset_and_nothing_new(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    first, _ = catalog.add("a.csv", io.BytesIO(bars_csv(200)))
    again, created = catalog.add("renamed.csv", io.BytesIO(bars_csv(200)))
    assert not created
    assert again == first
    other, created = catalog.add("a.csv", io.BytesIO(bars_csv(200, seed=2)))
    assert created and other.id != first.id
    assert len(catalog.entries()) == 2


def test_a_bad_file_names_the_upload_row_and_column_and_nothing_is_kept(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog")
    with pytest.raises(DataFileError) as caught:
        catalog.add("prices.csv", io.BytesIO(broken_csv()))
    assert str(caught.value) == "prices.csv:4 [close]: not a number: 'oops'"
    assert list(catalog.root.iterdir()) == []
    assert catalog.entries() == []


def test_folders_in_an_upload_name_are_dropped_and_unknown_formats_refused(
    tmp_path: Path,
) -> None:
    catalog = Catalog(tmp_path / "catalog")
    dataset, _ = catalog.add("../../etc/spy.csv", io.BytesIO(bars_csv(150)))
    assert dataset.name == "spy.csv"
    assert not (tmp_path / "etc").exists()
    with pytest.raises(DataFileError, match=r"notes.txt: unknown format"):
        catalog.add("notes.txt", io.BytesIO(b"hello"))
    with pytest.raises(DataFileError, match="not a usable file name"):
        catalog.add("..", io.BytesIO(bars_csv(150)))


def test_jobs_read_a_catalog_dataset_as_the_loader_reads_its_file(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog")
    dataset, _ = catalog.add("spy.parquet", io.BytesIO(bars_parquet(250)))
    bars = dataset_bars(f"catalog:{dataset.id}", catalog=catalog)
    source = tmp_path / "spy.parquet"
    source.write_bytes(bars_parquet(250))
    expected = load_bars(source)
    assert set(bars) == set(expected)
    for column, values in expected.items():
        np.testing.assert_array_equal(bars[column], values)


@pytest.mark.parametrize("spec", ["catalog:0123456789abcdef", "catalog:../quarterdeck.db",
                                  "catalog:/etc/passwd"])  # fmt: skip
def test_an_unknown_or_pathlike_catalog_id_is_refused(tmp_path: Path, spec: str) -> None:
    with pytest.raises(UnknownDataset, match="no dataset"):
        dataset_bars(spec, catalog=Catalog(tmp_path))


def test_a_process_without_a_catalog_says_so() -> None:
    with pytest.raises(UnknownDataset, match="no data catalog"):
        dataset_bars("catalog:0123456789abcdef")
