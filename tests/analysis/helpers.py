"""Fixture builders for the analysis tests: rows on the canonical stored schemas."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from crmkit import schema


def ts(text: str) -> dt.datetime:
    """'2025-04-02' or '2025-04-02 10:00' as a UTC datetime."""
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)


def frame(table: str, rows: list[dict[str, Any]]) -> pl.LazyFrame:
    """Rows on a stored table's schema (plus customer_key and source); missing columns null."""
    sch = pl.Schema({**schema.SOURCE_TABLES[table].polars_schema(), "customer_key": pl.String()})
    if "source" not in sch:
        sch = pl.Schema({**sch, "source": pl.String()})
    data = {c: [r.get(c) for r in rows] for c in sch.names()}
    return pl.DataFrame(data, schema=sch).lazy()


def order(oid: str, key: str | None, day: str, amount: float, status: str = "completed"):
    return {
        "source": "shop",
        "order_id": oid,
        "customer_key": key,
        "ordered_at": ts(day),
        "status": status,
        "net_amount": Decimal(str(amount)).quantize(Decimal("0.01")),
        "gross_amount": Decimal(str(amount)).quantize(Decimal("0.01")),
    }


def line(oid: str, product: str | None, category: str | None = None, no: int = 1):
    return {
        "source": "shop",
        "order_id": oid,
        "line_no": no,
        "product_id": product,
        "category": category,
        "quantity": 1.0,
        "line_amount": Decimal("1.00"),
    }


def workspace(path: Path, tables: dict[str, pl.LazyFrame], config: str = "") -> Path:
    """A workspace folder with the given tables written straight into warehouse/."""
    (path / "warehouse").mkdir(parents=True)
    (path / "crmkit.yaml").write_text(config, encoding="utf-8")
    for name, lf in tables.items():
        lf.collect().write_parquet(path / "warehouse" / f"{name}.parquet")
    return path
