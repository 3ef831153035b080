"""Benchmark: pair association rules on synthetic order lines (default 10 million), seeded.

Run: python bench/bench_basket.py [--lines 10000000] [--seed 7]
Prints the wall and CPU time of `association_rules` (lines already in memory) and the peak
RSS of the process.
Synthetic data: orders of 1–8 lines (mean ≈ 4), products drawn from a Zipf-like popularity over
5,000 SKUs in 60 categories, with a few planted complementary pairs.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import polars as pl

from crmkit.analysis.basket import association_rules, basket_items


def synthetic_lines(n_lines: int, seed: int) -> pl.DataFrame:
    """Order lines with (source, order_id, product_id, category), about n_lines rows."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 9, size=n_lines // 4 + 1)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n_lines) + 1]
    order_idx = np.repeat(np.arange(sizes.size), sizes)[:n_lines]
    n_products = 5_000
    weights = 1.0 / np.arange(1, n_products + 1) ** 0.8
    weights /= weights.sum()
    product = rng.choice(n_products, size=order_idx.size, p=weights)
    # Plant complements: the line after a product < 50 is often its partner (product + 50).
    partner = np.roll(product, 1) < 50
    product = np.where(
        partner & (rng.random(product.size) < 0.5), np.roll(product, 1) + 50, product
    )
    return pl.DataFrame(
        {
            "source": pl.Series(["shop"] * order_idx.size, dtype=pl.String),
            "order_id": pl.Series(order_idx).cast(pl.String),
            "product_id": pl.Series(product).cast(pl.String),
            "category": (pl.Series(product) % 60).cast(pl.String),
        }
    ).with_columns(product_id="P-" + pl.col("product_id"), category="C" + pl.col("category"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min-support", type=float, default=0.001)
    args = parser.parse_args()
    t0 = time.perf_counter()
    lines = synthetic_lines(args.lines, args.seed)
    t1 = time.perf_counter()
    print(f"generated {lines.height:,} lines in {t1 - t0:.1f} s")
    for level in ("product", "category"):
        t1, c1 = time.perf_counter(), time.process_time()
        rules, n, items = association_rules(
            basket_items(lines.lazy(), level=level), min_support=args.min_support
        )
        t2, c2 = time.perf_counter(), time.process_time()
        print(
            f"{level}: {n:,} orders, {items:,} items, {rules.height:,} rules "
            f"in {t2 - t1:.1f} s wall, {c2 - c1:.1f} s CPU"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
