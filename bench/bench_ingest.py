"""Ingest speed and memory: a large orders CSV into an empty warehouse, then a re-ingest.

    python bench/bench_ingest.py --rows 10000000 --shape narrow  # ~390 MB: the issue's file
    python bench/bench_ingest.py --rows 10000000                 # ~1 GB: e-mail + phone per row
    python bench/bench_ingest.py --rows 50000000 --shape narrow  # streaming check (2 GB)

Generates a seeded synthetic export under bench/out/ (reused when present), runs the installed
`crmkit ingest` as a subprocess and prints wall time and peak RSS for each step.

Shapes: `narrow` is an order-system export of the size the issue names (10M rows ≈ 350 MB):
numeric order and customer ids, local order time to the minute, total. `wide` is a POS export
that carries the buyer's e-mail and phone on every row plus discount, status and store (≈ 1 GB),
which makes every row go through contact-point normalisation and identity resolution.
"""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
from common import crmkit, measure

OUT = Path(__file__).parent / "out"


def _narrow_columns() -> list[pl.Expr]:
    return [
        pl.col("i").add(1).cast(pl.String).alias("Order ID"),
        pl.col("cust").add(1).cast(pl.String).alias("Customer ID"),
        (pl.datetime(2024, 1, 1) + pl.duration(minutes=pl.col("minutes")))
        .dt.strftime("%Y-%m-%d %H:%M")
        .alias("Order Date"),
        pl.col("total").round(2).cast(pl.String).alias("Total"),
    ]


def write_orders_csv(
    path: Path, rows: int, chunk: Callable[[int, int], pl.DataFrame], shape: str = "wide"
) -> None:
    """A POS-like export: order id, customer email/phone, local time, money text, status, store
    (`wide`), or order id, customer id, local time, total (`narrow`).

    `chunk(start, n)` gives rows start..start+n as columns `i` (row number), `cust` (customer
    number), `minutes` (since 2024-01-01) and `total`; they are written 2M rows at a time.
    """
    cust = pl.col("cust").cast(pl.String)
    columns = (
        _narrow_columns()
        if shape == "narrow"
        else [
            ("O" + pl.col("i").cast(pl.String).str.zfill(9)).alias("Order ID"),
            ("user" + cust + "@example.com").alias("Email"),
            ("+86 139" + cust.str.zfill(8)).alias("Phone"),
            (pl.datetime(2024, 1, 1) + pl.duration(minutes=pl.col("minutes")))
            .dt.strftime("%Y-%m-%d %H:%M:%S")
            .alias("Order Date"),
            pl.col("total").round(2).cast(pl.String).alias("Total"),
            ((pl.col("i") * 13) % 500 / 100).round(2).cast(pl.String).alias("Discount"),
            pl.when(pl.col("i") % 20 == 0)
            .then(pl.lit("refunded"))
            .otherwise(pl.lit("completed"))
            .alias("Status"),
            ("Store " + (pl.col("i") % 40).cast(pl.String)).alias("Store"),
        ]
    )
    size = 2_000_000
    with path.open("wb") as fh:
        for start in range(0, rows, size):
            frame = chunk(start, min(size, rows - start)).select(columns)
            frame.write_csv(fh, include_header=start == 0)


def make_orders_csv(path: Path, rows: int, seed: int = 7, shape: str = "wide") -> None:
    """Every customer (one per 10 rows) spread evenly over two years."""
    customers = max(rows // 10, 1)

    def chunk(start: int, n: int) -> pl.DataFrame:
        i = pl.int_range(start, start + n, eager=True, dtype=pl.Int64)
        return pl.DataFrame({"i": i}).with_columns(
            cust=(pl.col("i") * 2654435761 + seed) % customers,
            minutes=(pl.col("i") * 7919) % (2 * 365 * 24 * 60),
            total=(pl.col("i") * 31) % 50_000 / 100 + 1,
        )

    write_orders_csv(path, rows, chunk, shape)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--shape", choices=("narrow", "wide"), default="wide")
    ap.add_argument("--keep", action="store_true", help="keep the workspace afterwards")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    suffix = "_narrow" if args.shape == "narrow" else ""
    csv = OUT / f"orders_{args.rows}{suffix}.csv"
    if not csv.exists():
        print(f"generating {csv} …", flush=True)
        make_orders_csv(csv, args.rows, shape=args.shape)
    size_mb = csv.stat().st_size / 1e6
    ws = OUT / f"ws_{args.rows}{suffix}"
    shutil.rmtree(ws, ignore_errors=True)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    first = measure(crmkit("ingest", str(csv), "--table", "orders", "-w", str(ws), "-q"))
    again = measure(crmkit("ingest", str(csv), "--table", "orders", "-w", str(ws), "-q"))
    print("| rows | file MB | step | seconds | CPU s | peak MB | exit |")
    print("|---|---|---|---|---|---|---|")
    for step, m in (("first ingest", first), ("re-ingest (hash only)", again)):
        print(
            f"| {args.rows:,} | {size_mb:,.0f} | {step} | {m.seconds:.1f} | {m.cpu_seconds:.1f} "
            f"| {m.peak_mb:,.0f} "
            f"| {m.returncode} |"
        )
    if not args.keep:
        shutil.rmtree(ws, ignore_errors=True)


if __name__ == "__main__":
    main()
