"""When the workspace-internal integer keys can stand for the string keys.

The link step numbers the customers (`customers.customer_no`, the customer's row in `customers`,
which is sorted by `customer_key`) and writes each order's customer number next to its key
(`orders.customer_no`). Grouping 10M orders by a dense integer is several times cheaper than
hashing 10M strings, so the analyses use the numbers when they are there and trustworthy, and
the keys otherwise: a workspace ingested before the numbers existed, or tables written by
another tool, may lack them or hold nulls. Both paths give the same results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from crmkit.workspace import Workspace


def customer_keys_by_number(customers: pl.DataFrame | None) -> pl.Series | None:
    """The customers' keys in `customer_no` order (the key of number i at position i), or None
    unless `customer_no` numbers the rows 0..n-1 in strictly increasing key order, as the link
    step writes it: then sorting by number is sorting by key, and a number finds its key by
    array lookup."""
    if customers is None or "customer_no" not in customers.columns:
        return None
    keys, n = customers["customer_key"], customers.height
    dense = customers["customer_no"].equals(pl.int_range(n, eager=True, dtype=pl.Int64))
    increasing = n < 2 or bool((keys.slice(1) > keys.slice(0, n - 1)).all())
    if keys.null_count() or not dense or not increasing:
        return None
    return keys


def orders_numbered(orders: pl.LazyFrame | pl.DataFrame) -> bool:
    """Whether every order with a customer_key has the number the link step gives it, and
    only those do: then grouping by `customer_no` forms the same groups as by `customer_key`
    (walk-ins, with neither, form the null group either way)."""
    lf = orders.lazy()
    if "customer_no" not in lf.collect_schema().names():
        return False
    mismatched = pl.col("customer_key").is_null() != pl.col("customer_no").is_null()
    return not lf.select(mismatched.any()).collect().item()


def customer_keys_of(customers: pl.LazyFrame) -> pl.Series | None:
    """`customer_keys_by_number` of a stored `customers` table (only its two key columns read)."""
    if "customer_no" not in customers.collect_schema().names():
        return None
    return customer_keys_by_number(customers.select("customer_key", "customer_no").collect())


def workspace_customer_keys(ws: Workspace) -> pl.Series | None:
    """`customer_keys_of` the workspace's `customers`, if it has them."""
    return customer_keys_of(ws.table("customers")) if ws.has_table("customers") else None


CUSTOMER_DAY_LIMIT = 1 << 31
"""Customer numbers below this fit `customer_day_order`."""


def customer_day_order(number: pl.Expr, day: pl.Expr) -> pl.Expr:
    """One Int64 that sorts like (customer number, day): number * 2^32 + the day (days since
    1970, an Int32) shifted to be non-negative. Sorting it is several times faster than sorting
    the two columns (10M purchases: 0.3 s against 1.9 s eager, 4.8 s on the streaming engine).
    Needs numbers in 0 .. `CUSTOMER_DAY_LIMIT` - 1."""
    return number.cast(pl.Int64) * (1 << 32) + day.cast(pl.Int32).cast(pl.Int64) + (1 << 31)
