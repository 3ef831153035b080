"""`order_no`: a workspace-internal Int64 per (source, order_id) on `orders` and `order_lines`.

Segment profiles find each order's and each line's segment by array position through it
instead of joining on strings (docs/schema.md, "Workspace-internal numbers"). An order keeps its
number when a re-export replaces it; new orders take the next free numbers in input order, so
two ingests of the same files number alike. Lines take their order's number by lookup; a line
whose order has not arrived yet keeps null until it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from crmkit.pipeline.link import lookup

if TYPE_CHECKING:
    from crmkit.warehouse import Transaction
    from crmkit.workspace import Workspace

ORDER_NO = "order_no"
_ORDER_KEY = ["source", "order_id"]


@dataclass
class OrderNumbers:
    """The orders' numbers after this run's merge, for their lines.

    `every`: every order's (…, source, order_id, order_no) as a plan (None: not known);
    `run`: this run's new or changed orders; `fresh`: how many orders got a new number;
    `renumbered`: the stored orders had no (complete) numbers, so all were numbered anew and
    numbers stored on lines may be stale.
    """

    every: pl.LazyFrame | None
    run: pl.LazyFrame | None
    fresh: int
    renumbered: bool


def number_orders(
    incoming: pl.LazyFrame, index: pl.DataFrame, rows: int, stored_no: pl.Series | None
) -> tuple[pl.LazyFrame, int]:
    """Give this run's kept orders their `order_no`; returns the plan and how many are new.

    An order that replaces a stored one (a re-export with changes) keeps the stored order's
    number; a new order gets the next free number, in input order (`__row`), so two ingests of
    the same files number the same way. `index` holds the kept rows (`__row`, and `__srow` of
    the stored row replaced, null when new); `rows` is the number of incoming rows. The number
    is put on each row by its `__row` (an array lookup), which keeps the plan streamed and in
    order.
    """
    start = 0 if stored_no is None or stored_no.len() == 0 else int(stored_no.max()) + 1
    kept = index.select(
        "__row",
        pl.col("__srow") if "__srow" in index.columns else pl.lit(None, pl.UInt32).alias("__srow"),
    )
    if not kept["__row"].is_sorted():  # the index keeps the input order already
        kept = kept.sort("__row")
    new = pl.col("__srow").is_null()
    inherited = (
        pl.lit(stored_no).gather(pl.col("__srow")) if stored_no is not None else pl.lit(None)
    )
    numbered = kept.select(
        "__row",
        pl.when(new)
        .then(start + new.cast(pl.Int64).cum_sum() - 1)
        .otherwise(inherited)
        .cast(pl.Int64)
        .alias(ORDER_NO),
        new.alias("__new"),
    )
    by_row = np.full(rows, -1, dtype=np.int64)  # rows not kept are dropped before they are read
    by_row[numbered["__row"].to_numpy()] = numbered[ORDER_NO].to_numpy()
    plan = incoming.with_columns(pl.lit(pl.Series(by_row)).gather(pl.col("__row")).alias(ORDER_NO))
    return plan, int(numbered["__new"].sum())


def stored_order_numbers(tx: Transaction, ws: Workspace) -> OrderNumbers | None:
    """The stored orders' numbers, when orders are not part of this run."""
    if not ws.warehouse.has("orders"):
        return None
    orders = tx.scan("orders")
    if ORDER_NO not in orders.collect_schema().names():
        return None  # written before numbers: the lines get theirs with the next orders
    return OrderNumbers(every=orders, run=None, fresh=0, renumbered=False)


def with_order_no(lines: pl.LazyFrame, orders: pl.LazyFrame | None) -> pl.LazyFrame:
    """`lines` with `order_no` of their order in `orders` (by source and order_id; null when
    the order is not there), streamed in the lines' order."""
    lines = lines.drop(ORDER_NO, strict=False)
    if orders is None:
        return lines.with_columns(pl.lit(None, pl.Int64).alias(ORDER_NO))
    return lookup(lines, orders.select(*_ORDER_KEY, ORDER_NO), _ORDER_KEY)


def lines_order_no(lines: pl.LazyFrame, numbers: OrderNumbers | None) -> pl.LazyFrame | None:
    """Stored `lines` with their `order_no` brought up to date, or None when it already is.

    Orders keep their numbers across runs, so a stored line's number stays right; only lines
    stored before any numbers, lines whose orders were all numbered anew, and lines that came
    before their order (null) and whose order arrived in this run need a lookup.
    """
    names = lines.collect_schema().names()
    if numbers is None:  # no numbered orders (yet)
        if ORDER_NO in names:
            return None
        return lines.with_columns(pl.lit(None, pl.Int64).alias(ORDER_NO))
    if ORDER_NO not in names or numbers.renumbered:
        return with_order_no(lines, numbers.every)
    if not numbers.fresh or numbers.run is None:
        return None
    if not lines.select(pl.col(ORDER_NO).null_count()).collect().item():
        return None  # the usual case: every line already has its order
    waiting = lines.filter(pl.col(ORDER_NO).is_null())
    found = (
        with_order_no(waiting.select(_ORDER_KEY), numbers.run)
        .select(pl.col(ORDER_NO).is_not_null().any())
        .collect()
        .item()
    )
    if not found:
        return None
    filled = with_order_no(lines.rename({ORDER_NO: "__had"}), numbers.run)
    return filled.with_columns(pl.coalesce("__had", ORDER_NO).alias(ORDER_NO)).drop("__had")
