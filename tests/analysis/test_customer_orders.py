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


def test_customers_numbered_in_key_order_and_rows_sorted_by_customer_then_day():
    base = customer_orders(ORDERS, AS_OF).collect()
    assert base.keys.collect().rows() == [(0, "a"), (1, "b")]
    rows = base.rows.collect()
    assert rows.select("cid", "day", "status", "purchase").rows() == [
        (0, dt.date(2025, 1, 20), "cancelled", False),
        (1, dt.date(2025, 1, 5), "partially_refunded", True),
        (1, dt.date(2025, 2, 1), "completed", True),
    ]
    assert [float(v) for v in rows["net_amount"]] == [20.0, 30.0, 10.0]
    assert rows["cid"].flags["SORTED_ASC"]
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
