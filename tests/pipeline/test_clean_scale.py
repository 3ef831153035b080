"""clean() streams a 1-million-row frame and every row lands in exactly one output."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from crmkit.pipeline.clean import CleanOptions, clean
from crmkit.schema import CUSTOMERS, ORDERS

N = 1_000_000


def synthetic_orders(n: int) -> pl.LazyFrame:
    """Raw-looking orders: Excel-guarded ids, mixed-case emails, local dates, `$` amounts.

    Every 97th discount is garbage (`bad`) and every 10th order is refunded, so the expected
    reject count is known: ceil(n / 97).
    """
    i = pl.col("i")
    return (
        pl.LazyFrame()
        .select(pl.int_range(0, n, dtype=pl.Int64).alias("i"))
        .select(
            pl.format('="{}"', i).alias("order_id"),
            pl.format("User{}@Example.com", i % 50_000).alias("customer_email"),
            pl.format("138{}", (i % 20_000 + 10_000_000).cast(pl.String)).alias("customer_phone"),
            pl.format("2025/{}/{} 14:05", i % 12 + 1, i % 28 + 1).alias("ordered_at"),
            pl.when(i % 10 == 0).then(pl.lit("Refunded")).otherwise(pl.lit("paid")).alias("status"),
            pl.format("${}.{}", i % 1000, i % 90 + 10).alias("gross_amount"),
            pl.when(i % 97 == 0)
            .then(pl.lit("bad"))
            .otherwise(pl.lit("1.00"))
            .alias("discount_amount"),
            (i + 2).alias("__line"),
            pl.lit("pos").alias("source"),
            pl.lit("big.csv").alias("source_file"),
        )
    )


def test_one_million_orders_stream_and_add_up():
    opts = CleanOptions(
        timezone="Asia/Shanghai", phone_region="CN", now=datetime(2026, 1, 1, tzinfo=UTC)
    )
    result = clean(synthetic_orders(N), ORDERS, opts)
    accepted, rejected = pl.collect_all(
        [result.accepted.select(pl.len()), result.rejects.group_by("reason_code").len()],
        engine="streaming",
    )
    expected_bad = -(-N // 97)  # i = 0, 97, 194, … < N
    assert rejected.rows() == [("bad_amount", expected_bad)]
    assert accepted.item() + expected_bad == N


def test_customer_hash_ids_stream():
    n = 50_000
    i = pl.col("i")
    frame = (
        pl.LazyFrame()
        .select(pl.int_range(0, n, dtype=pl.Int64).alias("i"))
        .select(
            pl.format("c{}@x.com", i % 1000).alias("email"),
            pl.format("Name{}", i % 1000).alias("full_name"),
            (i + 2).alias("__line"),
            pl.lit("crm").alias("source"),
            pl.lit("c.csv").alias("source_file"),
        )
    )
    result = clean(frame, CUSTOMERS, CleanOptions())
    ids = result.accepted.select("source_record_id").collect(engine="streaming")["source_record_id"]
    assert ids.len() == n
    assert ids.n_unique() == 1000  # same normalised row → same id, in every batch
    assert ids.str.starts_with("h:").all()
