"""Per-customer purchase facts (recency, frequency, monetary, tenure, profit) as of a date.

Every segmentation starts here. A purchase is an order with a customer key and status
`completed` or `partially_refunded` (`metrics.completed_statuses`; no status counts as
completed); walk-in orders (null key) are ignored. Days are whole calendar days in the
workspace time zone: an order placed on the as-of date has recency 0.

A workspace ingested by this version also numbers its customers (`customer_no`, the row of the
customer in `customers`, which is sorted by key) and orders (`order_no`). Given the customers'
keys in number order, the facts group orders by the integer number instead of the string key
and put the key back by array lookup: the same rows in the same order, at a fraction of the
cost of hashing 10M strings.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import numpy as np
import polars as pl

from crmkit.errors import UsageError
from crmkit.numbers import CUSTOMER_DAY_LIMIT, customer_day_order
from crmkit.schema import MONEY

PURCHASE_STATUSES = ("completed", "partially_refunded")
_ONE_CENT = pl.Series([Decimal("0.01")], dtype=pl.Decimal(38, 2))

_WINDOW = re.compile(r"^\s*(\d+)\s*(d|w|m|mo|y)\s*$", re.IGNORECASE)


def parse_window(text: str | int | None) -> str | None:
    """Normalise a window such as `365d`, `52w`, `12m`, `2y` (or a number of days) to a
    polars duration string (`365d`, `12mo`); None or `all` means all history."""
    if text is None:
        return None
    if isinstance(text, int):
        if text <= 0:
            raise UsageError(f"window {text} must be positive")
        return f"{text}d"
    if text.strip().lower() in ("", "all"):
        return None
    m = _WINDOW.match(text)
    if not m or int(m.group(1)) <= 0:
        raise UsageError(f"window {text!r} is not understood", hint="use e.g. 365d, 52w, 12m, 2y")
    unit = m.group(2).lower()
    return f"{m.group(1)}{'mo' if unit in ('m', 'mo') else unit}"


def window_start(as_of: dt.date, window: str | None) -> dt.date | None:
    """First date inside the window: purchases on days `start..as_of` count (None = all)."""
    if window is None:
        return None
    first_out = (
        pl.select(pl.lit(as_of).dt.offset_by(f"-{window}")).item()  # as_of - window is outside
    )
    return first_out + dt.timedelta(days=1)


def purchases(
    orders: pl.LazyFrame,
    as_of: dt.date,
    timezone: str = "UTC",
    statuses: tuple[str, ...] = PURCHASE_STATUSES,
    *,
    key: str = "customer_key",
    order: tuple[str, ...] = ("order_id", "source"),
) -> pl.LazyFrame:
    """Purchases up to and including `as_of`: customer_key, order_id, source, channel, day, net,
    cost.

    An order without a status counts as completed (as in the metrics). `key` and `order` name
    the columns that identify the customer and the order: by default the strings
    (`customer_key`; `order_id` and `source`), or the workspace's integers (`customer_no`,
    `order_no`)."""
    cols = orders.collect_schema().names()
    cost = pl.col("cost_amount") if "cost_amount" in cols else pl.lit(None, dtype=MONEY)
    channel = pl.col("channel") if "channel" in cols else pl.lit(None, dtype=pl.String)
    ids = [
        pl.col(c) if c in cols or c != "source" else pl.lit(None, dtype=pl.String).alias(c)
        for c in order
    ]
    return (
        orders.filter(
            pl.col(key).is_not_null()
            & (pl.col("status").is_in(list(statuses)) | pl.col("status").is_null())
            & pl.col("ordered_at").is_not_null()
        )
        .select(
            pl.col(key),
            *ids,
            channel.alias("channel"),
            (
                pl.col("ordered_at")
                if timezone == "UTC"
                else pl.col("ordered_at").dt.convert_time_zone(timezone)
            )
            .dt.date()
            .alias("day"),
            pl.col("net_amount").cast(MONEY).fill_null(0).alias("net"),
            cost.cast(MONEY).alias("cost"),
        )
        .filter(pl.col("day") <= as_of)
    )


def customer_facts(
    orders: pl.LazyFrame,
    as_of: dt.date,
    *,
    window: str | None = None,
    timezone: str = "UTC",
    statuses: tuple[str, ...] = PURCHASE_STATUSES,
    customer_keys: pl.Series | None = None,
) -> pl.LazyFrame:
    """One row per purchasing customer with R, F, M in the window plus all-history facts.

    Columns: customer_key, recency_days, frequency, monetary (Decimal), profit (Decimal, null when
    no cost is known), first_order, last_order, tenure_days, orders_all, in_window (bool).
    A customer without a purchase in the window keeps `in_window = False` (RFM skips them).

    `customer_keys`: the keys of `customers` in `customer_no` order (strictly increasing, see
    `crmkit.pipeline.link.number_customers`); with it, orders are grouped by `customer_no`.
    """
    key = "customer_no" if customer_keys is not None else "customer_key"
    p = purchases(orders, as_of, timezone, statuses, key=key, order=())
    return facts_of(p, as_of, window=window, customer_keys=customer_keys)


def facts_of(
    purchases: pl.LazyFrame | pl.DataFrame,
    as_of: dt.date,
    *,
    window: str | None = None,
    customer_keys: pl.Series | None = None,
) -> pl.LazyFrame:
    """`customer_facts` from `purchases` (keyed by customer_key, or by customer_no when
    `customer_keys` gives the key of each number).

    Collected purchases keyed by number are aggregated with numpy (`_numbered_facts`): one
    indexed pass per fact over dense integers, several times cheaper than a hash group-by.
    """
    start = window_start(as_of, window)
    facts: pl.LazyFrame | None = None
    if customer_keys is not None and isinstance(purchases, pl.DataFrame):
        numbered = _numbered_facts(purchases, start, customer_keys.len())
        facts = None if numbered is None else numbered.lazy()
    if facts is None:
        facts = _grouped_facts(purchases.lazy(), start, customer_keys is not None)
    if start is None:  # all history: the window facts are the all-history ones (aggregated once)
        facts = facts.with_columns(
            pl.col("last_order_all").alias("last_order"),
            pl.col("orders_all").alias("frequency"),
            pl.col("revenue_all").alias("monetary"),
        )
    if customer_keys is not None:
        # numbers follow the keys' order, so sorted by number is sorted by key
        facts = facts.sort("customer_no").with_columns(
            pl.lit(customer_keys).gather(pl.col("customer_no")).set_sorted().alias("customer_key")
        )
    else:
        facts = facts.sort("customer_key")
    return facts.select(
        "customer_key",
        (pl.lit(as_of) - pl.col("last_order_all")).dt.total_days().alias("recency_days"),
        "frequency",
        "monetary",
        pl.when(pl.col("_no_cost")).then(None).otherwise(pl.col("profit_all")).alias("profit"),
        "first_order",
        pl.col("last_order_all").alias("last_order"),
        (pl.lit(as_of) - pl.col("first_order")).dt.total_days().alias("tenure_days"),
        "orders_all",
        "revenue_all",
        pl.col("last_order").is_not_null().alias("in_window"),
    )


def _grouped_facts(purchases: pl.LazyFrame, start: dt.date | None, numbered: bool) -> pl.LazyFrame:
    """The per-customer aggregates as one polars group-by (any key)."""
    in_window: list[pl.Expr] = []
    if start is not None:
        inside = pl.col("day") >= start
        in_window = [
            pl.col("day").filter(inside).max().alias("last_order"),
            inside.sum().cast(pl.Int64).alias("frequency"),
            pl.col("net").filter(inside).sum().alias("monetary"),
        ]
    return purchases.group_by("customer_no" if numbered else "customer_key").agg(
        *in_window,
        pl.col("day").min().alias("first_order"),
        pl.col("day").max().alias("last_order_all"),
        pl.len().cast(pl.Int64).alias("orders_all"),
        pl.col("net").sum().alias("revenue_all"),
        (pl.col("net") - pl.col("cost")).sum().alias("profit_all"),
        (pl.col("cost").null_count() == pl.len()).alias("_no_cost"),
    )


def _numbered_facts(p: pl.DataFrame, start: dt.date | None, n: int) -> pl.DataFrame | None:
    """`_grouped_facts` of purchases keyed by `customer_no` in 0..n-1, computed with numpy.

    Money is summed exactly, as integer cents (`np.add.at` on int64); None (use the group-by)
    when the amounts are too large for int64 sums. Rows come out sorted by customer_no, one per
    customer with a purchase, with the group-by's columns and types.
    """
    no = p["customer_no"].to_numpy()
    day = p["day"].to_physical().to_numpy()
    has_cost = p["cost"].is_not_null().to_numpy()
    net, cost = _cents(p["net"]), _cents(p["cost"].fill_null(0))
    if max(np.abs(net).sum(dtype=np.float64), np.abs(cost).sum(dtype=np.float64)) >= 2.0**62:
        return None

    def total(values: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        out = np.zeros(n, np.int64)
        np.add.at(out, no if rows is None else no[rows], values if rows is None else values[rows])
        return out

    def extreme(ufunc: np.ufunc, fill: int, rows: np.ndarray | None = None) -> np.ndarray:
        out = np.full(n, fill, day.dtype)
        ufunc.at(out, no if rows is None else no[rows], day if rows is None else day[rows])
        return out

    big, small = np.iinfo(day.dtype).max, np.iinfo(day.dtype).min
    orders = np.bincount(no, minlength=n)
    at = np.flatnonzero(orders)  # the customers with a purchase, in number order
    cols: dict[str, pl.Series] = {"customer_no": pl.Series(at, dtype=pl.Int64)}
    if start is not None:
        inside = day >= (start - dt.date(1970, 1, 1)).days
        frequency = np.bincount(no[inside], minlength=n)[at]
        last = extreme(np.maximum, small, inside)[at]
        cols["last_order"] = _days(last).set(pl.Series(frequency == 0), None)
        cols["frequency"] = pl.Series(frequency, dtype=pl.Int64)
        cols["monetary"] = _money(total(net, inside)[at])
    cols["first_order"] = _days(extreme(np.minimum, big)[at])
    cols["last_order_all"] = _days(extreme(np.maximum, small)[at])
    cols["orders_all"] = pl.Series(orders[at], dtype=pl.Int64)
    cols["revenue_all"] = _money(total(net)[at])
    costed = None if has_cost.all() else has_cost  # the usual export: no row to mask out
    cols["profit_all"] = _money(total(net - cost, costed)[at])
    no_cost = (
        np.zeros(at.size, bool) if costed is None else np.bincount(no[costed], minlength=n)[at] == 0
    )
    cols["_no_cost"] = pl.Series(no_cost)
    return pl.DataFrame(cols).with_columns(pl.col("customer_no").set_sorted())


def _cents(money: pl.Series) -> np.ndarray:
    """Non-null amounts with two decimals as int64 cents (exact)."""
    return money.cast(MONEY).to_physical().cast(pl.Int64).to_numpy()


def _money(cents: np.ndarray) -> pl.Series:
    """Int64 cents back to Decimal(38, 2), the type of a polars sum of amounts (exact)."""
    return pl.Series(cents).cast(pl.Decimal(38, 0)) * _ONE_CENT


def _days(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int32)).cast(pl.Date)


def inter_purchase_days(
    orders: pl.LazyFrame,
    as_of: dt.date,
    timezone: str = "UTC",
    statuses: tuple[str, ...] = PURCHASE_STATUSES,
) -> pl.LazyFrame:
    """Days between consecutive purchase days of the same customer (same-day orders are one).

    Returns customer_key, gap_days. Sorted by (customer, day), a gap is the day difference to
    the previous row of the same customer; zero gaps (another order the same day) are dropped.
    """
    return gaps_of(purchases(orders, as_of, timezone, statuses))


def gaps_of(purchases: pl.LazyFrame | pl.DataFrame, key: str = "customer_key") -> pl.LazyFrame:
    """`inter_purchase_days` from `purchases` keyed by `key` (customer_key, or customer_no).

    Collected purchases keyed by customer numbers are sorted by one packed integer
    (`crmkit.numbers.customer_day_order`): on 10M purchases 7.0 → 2 s for the gaps."""
    if isinstance(purchases, pl.DataFrame) and _packable(purchases[key]):
        ordered = purchases.select(key, "day").sort(customer_day_order(pl.col(key), pl.col("day")))
    else:
        ordered = purchases.lazy().select(key, "day").sort(key, "day")
    return (
        ordered.lazy()
        .select(
            key,
            (pl.col("day") - pl.col("day").shift(1)).dt.total_days().alias("gap_days"),
            (pl.col(key) == pl.col(key).shift(1)).alias("_same"),
        )
        .filter(pl.col("_same") & (pl.col("gap_days") > 0))
        .select(key, "gap_days")
    )


def _packable(numbers: pl.Series) -> bool:
    """Whether `numbers` can go into `customer_day_order`: integers, none null, in range."""
    if numbers.is_empty() or not numbers.dtype.is_integer() or numbers.null_count():
        return False
    return int(numbers.min()) >= 0 and int(numbers.max()) < CUSTOMER_DAY_LIMIT


def typical_gaps(gaps: pl.LazyFrame, key: str = "customer_key") -> pl.LazyFrame:
    """Each repeat customer's median gap (`key`, gap_days): one value per customer, so the
    frequent buyers who make most of the gaps do not dominate the lifecycle windows."""
    return gaps.group_by(key).agg(pl.col("gap_days").median()).sort(key)
