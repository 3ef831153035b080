"""Builders for segmentation tests: small in-memory orders and throwaway workspaces."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl

from crmkit.schema import MONEY
from crmkit.warehouse import Warehouse

AS_OF = dt.date(2025, 1, 31)


def at(day: str | dt.date, hour: int = 12) -> dt.datetime:
    d = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return dt.datetime(d.year, d.month, d.day, hour, tzinfo=dt.UTC)


def orders(rows: list[tuple]) -> pl.DataFrame:
    """Rows (customer_key, day, net, status='completed', channel='pos', cost=None)."""
    recs = []
    for i, row in enumerate(rows):
        key, day, net, *rest = row
        status = rest[0] if len(rest) > 0 else "completed"
        channel = rest[1] if len(rest) > 1 else "pos"
        cost = rest[2] if len(rest) > 2 else None
        recs.append(
            {
                "order_id": f"O{i:04d}",
                "customer_key": key,
                "ordered_at": at(day),
                "status": status,
                "net_amount": Decimal(str(net)),
                "cost_amount": None if cost is None else Decimal(str(cost)),
                "channel": channel,
                "store": None,
                "source": "pos",
            }
        )
    return pl.DataFrame(
        recs,
        schema={
            "order_id": pl.String,
            "customer_key": pl.String,
            "ordered_at": pl.Datetime("us", "UTC"),
            "status": pl.String,
            "net_amount": MONEY,
            "cost_amount": MONEY,
            "channel": pl.String,
            "store": pl.String,
            "source": pl.String,
        },
    )


# The hand-worked RFM fixture (as of 2025-01-31). Most customers have exactly one order.
RFM_ROWS = [
    ("A", "2025-01-31", 100),
    ("A", "2025-01-20", 50),
    ("A", "2025-01-10", 50),
    ("A", "2024-12-01", 100),
    ("A", "2024-11-01", 100),
    ("A", "2024-10-01", 100),
    ("B", "2025-01-30", 40),
    ("B", "2025-01-29", 1000, "cancelled"),  # not a purchase
    ("C", "2025-01-25", 10),
    ("C", "2024-06-01", 10, "partially_refunded"),  # a purchase, with its net amount
    ("D", "2025-01-01", 200),
    ("E", "2024-12-31", 20),
    ("E", "2025-01-15", 80, "refunded"),  # not a purchase
    ("F", "2024-10-01", 60),
    ("G", "2024-08-01", 60),
    ("H", "2024-05-01", 30),
    ("I", "2024-02-01", 30),
    ("J", "2024-01-31", 5),
    ("J", "2025-02-01", 999),  # after the as-of date
    (None, "2025-01-31", 500),  # walk-in
]


def make_workspace(path: Path, tables: dict[str, pl.DataFrame], config: str = "") -> Path:
    """A workspace folder with `crmkit.yaml` and the given warehouse tables."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "crmkit.yaml").write_text(config or "timezone: UTC\n", encoding="utf-8")
    wh = Warehouse(path)
    with wh.lock(), wh.transaction("test-setup") as tx:
        for name, frame in tables.items():
            tx.write(name, frame)
    return path


def customers(keys: list[str], **cols: list) -> pl.DataFrame:
    """A golden customers table with contact details derived from the key."""
    df = pl.DataFrame({"customer_key": keys})
    df = df.with_columns(
        pl.concat_str(pl.lit("Name "), pl.col("customer_key")).alias("full_name"),
        (pl.col("customer_key").str.to_lowercase() + "@example.com").alias("email"),
        pl.lit("+8613800138000").alias("phone"),
        pl.lit(None, pl.Datetime("us", "UTC")).alias("signup_at"),
        pl.lit(None, pl.String).alias("referred_by"),
    )
    return df.with_columns(pl.Series(k, v) for k, v in cols.items())
