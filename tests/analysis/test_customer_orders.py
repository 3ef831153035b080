"""`customer_orders`: the orders of known customers numbered once, shared by cohorts, the buying
cycle and the report's trends. Hand-worked on five orders, as-of 2025-02-20:

    o1 b 2025-02-01 completed 10   → cid 1 (b sorts after a)
    o2 a 2025-01-20 cancelled 20   → cid 0, not a purchase
    o3 b 2025-01-05 partially_refunded 30
    o4 - 2025-01-06 walk-in (no customer_key): left out
    o5 a 2025-02-21 after as-of: left out
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from crmkit.analysis.common import customer_orders, numbered
from crmkit.errors import UsageError

from .helpers import frame, order

AS_OF = dt.date(2025, 2, 20)
ORDERS = frame(
    "orders",
    [
        order("o1", "b", "2025-02-01", 10),
        order("o2", "a", "2025-01-20", 20, status="cancelled"),
        order("o3", "b", "2025-01-05", 30, status="partially_refunded"),
        order("o4", None, "2025-01-06", 40),
        order("o5", "a", "2025-02-21", 50),
    ],
)


def _assert_hand_worked_rows(rows: pl.DataFrame, a: int, b: int) -> None:
    """The three orders up to as-of, customer `a`'s then `b`'s, each customer's by day."""
    assert rows.select("cid", "day", "status", "purchase").rows() == [
        (a, dt.date(2025, 1, 20), "cancelled", False),
        (b, dt.date(2025, 1, 5), "partially_refunded", True),
        (b, dt.date(2025, 2, 1), "completed", True),
    ]
    assert [float(v) for v in rows["net_amount"]] == [20.0, 30.0, 10.0]
    assert rows["cid"].flags["SORTED_ASC"]


def test_customers_numbered_in_key_order_and_rows_sorted_by_customer_then_day():
    base = customer_orders(ORDERS, AS_OF).collect()
    assert base.keys.collect().rows() == [(0, "a"), (1, "b")]
    _assert_hand_worked_rows(base.rows.collect(), 0, 1)
    assert base.purchases().collect()["cid"].to_list() == [1, 1]


def test_numbered_orders_are_reused_only_for_their_own_as_of():
    base = customer_orders(ORDERS, AS_OF).collect()
    assert numbered(base, AS_OF) is base
    with pytest.raises(UsageError):
        numbered(base, dt.date(2025, 2, 21))


def test_no_orders_of_known_customers():
    walk_ins = ORDERS.filter(pl.col("customer_key").is_null())
    base = customer_orders(walk_ins, AS_OF).collect()
    assert base.keys.collect().height == 0 and base.rows.collect().height == 0


# ---- numbered by the workspace's customer_no ------------------------------------------------
# The customers table here holds "0a" (no orders), "a" and "b": the link step numbers them 0, 1
# and 2 in key order, so a → 1 and b → 2; the walk-in order has neither key nor number.
KEYS = pl.Series("customer_key", ["0a", "a", "b"])
NUMBERED = ORDERS.with_columns(
    pl.col("customer_key").replace_strict({"a": 1, "b": 2}, default=None).alias("customer_no")
)


def test_customer_no_is_the_cid_when_the_numbers_are_given():
    base = customer_orders(NUMBERED, AS_OF, KEYS).collect()
    assert base.keys.collect().rows() == [(1, "a"), (2, "b")]  # "0a" bought nothing: a gap
    _assert_hand_worked_rows(base.rows.collect(), 1, 2)


def test_an_order_whose_key_lacks_its_number_falls_back_to_the_keys():
    partly = NUMBERED.with_columns(
        pl.when(pl.col("order_id") == "o3").then(None).otherwise("customer_no").alias("customer_no")
    )
    base = customer_orders(partly, AS_OF, KEYS).collect()
    assert base.keys.collect().rows() == [(0, "a"), (1, "b")]  # ranked by key, o3 kept
    assert base.rows.collect()["cid"].to_list() == [0, 1, 1]


def test_numbered_and_keyed_orders_give_the_same_cohorts_and_cycle():
    """Seeded orders of 300 of 400 customers (walk-ins and every status among them), through both
    paths: every cohort cell and every per-customer gap agree."""
    import random

    from crmkit.analysis.cohorts import cohort_table
    from crmkit.analysis.cycle import gaps, next_orders

    rng = random.Random(7)
    keys = sorted({f"K{rng.randrange(10**6):06d}" for _ in range(400)})
    buyers = keys[::4] + keys[1::4] + keys[2::4]  # a quarter of the customers never order
    statuses = ["completed", "completed", "partially_refunded", "refunded", "cancelled"]
    rows = []
    for i in range(3000):
        key = None if rng.random() < 0.05 else rng.choice(buyers)
        day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(500))
        rows.append(
            order(f"o{i}", key, day.isoformat(), rng.randrange(1, 500), rng.choice(statuses))
        )
    by_key = frame("orders", rows)
    numbers = {k: i for i, k in enumerate(keys)}
    by_no = by_key.with_columns(
        pl.col("customer_key").replace_strict(numbers, default=None).alias("customer_no")
    )
    as_of = dt.date(2025, 3, 31)
    keyed = customer_orders(by_key, as_of).collect()
    numbered_ = customer_orders(by_no, as_of, pl.Series(keys)).collect()
    assert numbered_.rows.collect()["cid"].max() > keyed.keys.collect().height - 1  # gaps: real
    for by in ("month", "quarter"):
        a = cohort_table(keyed, as_of=as_of, by=by).collect()
        b = cohort_table(numbered_, as_of=as_of, by=by).collect()
        assert a.height > 10 and a.equals(b)
    for f in (gaps, next_orders):
        a = f(keyed, as_of).collect().drop("cid", strict=False)
        b = f(numbered_, as_of).collect().drop("cid", strict=False)
        assert a.height > 100 and a.equals(b)
