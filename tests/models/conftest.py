"""Fixtures for the CLV model tests: the CDNOW sample shipped in the `lifetimes` package and a
small builder for warehouse-shaped order frames."""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

ORDER_SCHEMA = {
    "customer_key": pl.String(),
    "ordered_at": pl.Datetime("us", "UTC"),
    "net_amount": pl.Decimal(18, 2),
    "status": pl.String(),
}


def cdnow_path() -> Path:
    """Locate CDNOW_sample.txt inside the installed `lifetimes` package without importing it."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(
            "the CDNOW reference data ship in the `lifetimes` package: pip install lifetimes "
            "(it is a test dependency; this test must not be skipped)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "CDNOW_sample.txt"
    if not path.exists():
        pytest.fail(f"CDNOW_sample.txt not found at {path}")
    return path


def load_cdnow_orders(path: Path) -> pl.DataFrame:
    """CDNOW sample rows (master id, customer id, yyyymmdd, cds, dollars) as warehouse orders."""
    lines = pl.read_csv(
        path, has_header=False, separator="\t", new_columns=["line"], schema={"line": pl.String}
    )
    parts = lines.select(
        pl.col("line")
        .str.extract_groups(r"^\s*(\d+)\s+(\d+)\s+(\d{8})\s+(\d+)\s+([\d.]+)\s*$")
        .alias("g")
    ).unnest("g")
    return parts.select(
        customer_key=pl.col("2"),
        ordered_at=pl.col("3")
        .str.strptime(pl.Date, "%Y%m%d")
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC"),
        net_amount=pl.col("5").cast(pl.Decimal(18, 2)),
        status=pl.lit("completed"),
    )


@pytest.fixture(scope="session")
def cdnow_orders() -> pl.DataFrame:
    """The 6,919 CDNOW sample transactions of 2,357 customers (Jan 1997 - Jun 1998)."""
    return load_cdnow_orders(cdnow_path())


@pytest.fixture
def make_orders() -> Callable[[list[tuple[str | None, str, str, str]]], pl.DataFrame]:
    """Builder of warehouse-shaped orders from tuples."""
    return build_orders


def build_orders(rows: list[tuple[str | None, str, str, str]]) -> pl.DataFrame:
    """Orders from (customer_key, 'YYYY-MM-DD[ HH:MM]', amount, status) tuples."""
    return pl.DataFrame(
        {
            "customer_key": [r[0] for r in rows],
            "ordered_at": [dt.datetime.fromisoformat(r[1]).replace(tzinfo=dt.UTC) for r in rows],
            "net_amount": [r[2] for r in rows],
            "status": [r[3] for r in rows],
        },
        schema={**ORDER_SCHEMA, "net_amount": pl.String()},
    ).with_columns(pl.col("net_amount").cast(pl.Decimal(18, 2)))
