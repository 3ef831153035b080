"""Buying cycle on a hand-worked shop, as-of 2025-02-20.

a  2025-01-01 10 | 2025-01-11 20 + 5 (same day: one purchase) | 2025-01-31 30
   gaps 10, 20 → own median 15 → expected 2025-02-15 → 5 days overdue; revenue 65
b  2025-01-05 100 | 2025-01-08 100 → gap 3 → expected 2025-01-11 → 40 days overdue; 200
c  2025-02-01 50 (one purchase) → population median of gaps {10, 20, 3} = 10
   → expected 2025-02-11 → 9 days overdue; 50
d  2025-02-18 1 | 2025-02-19 1 → gap 1 → expected 2025-02-20 → not overdue (0 days)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from crmkit.analysis.cycle import gap_distribution, next_orders, overdue_valuable

from .helpers import frame, order

AS_OF = dt.date(2025, 2, 20)
ORDERS = frame(
    "orders",
    [
        order("1", "a", "2025-01-01", 10),
        order("2", "a", "2025-01-11 09:00", 20),
        order("3", "a", "2025-01-11 18:00", 5),
        order("4", "a", "2025-01-31", 30),
        order("5", "b", "2025-01-05", 100),
        order("6", "b", "2025-01-08", 100),
        order("7", "c", "2025-02-01", 50),
        order("8", "d", "2025-02-18", 1),
        order("9", "d", "2025-02-19", 1),
        order("10", "d", "2025-02-21", 500),  # after as-of: ignored
    ],
)


def test_next_order_dates_own_or_population_gap():
    df = next_orders(ORDERS, AS_OF).collect()
    got = {r["customer_key"]: r for r in df.to_dicts()}
    assert (got["a"]["gap_days"], got["a"]["gap_source"]) == (15.0, "own")
    assert got["a"]["expected_next"] == dt.date(2025, 2, 15)
    assert got["a"]["days_overdue"] == 5 and got["a"]["overdue"]
    assert got["a"]["net_revenue"] == Decimal("65.00")
    assert got["a"]["purchase_days"] == 3
    assert got["b"]["expected_next"] == dt.date(2025, 1, 11) and got["b"]["days_overdue"] == 40
    # Population median gap: all gaps {10, 20, 3, 1} → median (3 + 10) / 2 = 6.5 → rounds to 6
    # days (round half to even), so c is expected 2025-02-07, 13 days overdue.
    assert (got["c"]["gap_days"], got["c"]["gap_source"]) == (6.5, "population")
    assert got["c"]["expected_next"] == dt.date(2025, 2, 7)
    assert got["d"]["days_overdue"] == 0 and not got["d"]["overdue"]


def test_overdue_valuable_sorted_by_revenue_and_drops_churned():
    nxt = next_orders(ORDERS, AS_OF)
    top = overdue_valuable(nxt, 2).collect()
    assert top["customer_key"].to_list() == ["b", "a"]  # 200 > 65 > 50; d not overdue
    recent = overdue_valuable(nxt, 5, as_of=AS_OF, active_window=30).collect()
    assert recent["customer_key"].to_list() == ["a", "c"]  # b's last purchase is 43 days old


def test_gap_distribution_overall_and_by_segment():
    segs = pl.LazyFrame({"customer_key": ["a", "b"], "segment": ["Champions", "At Risk"]})
    df = gap_distribution(ORDERS, AS_OF, segs).collect()
    assert df["segment"].to_list() == ["(all)", "(no segment)", "At Risk", "Champions"]
    overall = df.row(0, named=True)
    assert (overall["customers"], overall["gaps"]) == (3, 4)
    assert overall["mean"] == (10 + 20 + 3 + 1) / 4
    assert overall["median"] == (3 + 10) / 2
    champ = df.filter(pl.col("segment") == "Champions").row(0, named=True)
    assert (champ["gaps"], champ["median"]) == (2, 15.0)


def test_gap_histogram_buckets():
    from crmkit.analysis.cycle import gap_histogram

    h = gap_histogram(ORDERS, AS_OF).collect()
    # gaps 10, 20, 3, 1 → "1-7": 3 and 1; "8-14": 10; "15-30": 20
    assert h.rows() == [("1-7", 2, 2 / 4), ("8-14", 1, 1 / 4), ("15-30", 1, 1 / 4)]


def test_gaps_per_customer_in_key_and_day_order():
    from crmkit.analysis.cycle import gaps

    got = gaps(ORDERS, AS_OF).collect()
    assert got.rows() == [
        ("a", dt.date(2025, 1, 11), 10),
        ("a", dt.date(2025, 1, 31), 20),
        ("b", dt.date(2025, 1, 8), 3),
        ("d", dt.date(2025, 2, 19), 1),
    ]


SEGMENTS = pl.LazyFrame(
    {
        "customer_key": ["a", "b", "a"],
        "method": ["rfm", "rfm", "rfm"],
        "segment": ["At Risk", "At Risk", "Champions"],
        "as_of": [dt.date(2025, 1, 31), dt.date(2025, 2, 15), dt.date(2025, 2, 15)],
        "run_id": ["r1", "r2", "r2"],
    }
)


def test_cycle_workspace_by_hand_with_or_without_numbered_orders(tmp_path):
    from crmkit.analysis.common import customer_orders
    from crmkit.analysis.cycle import cycle_workspace
    from crmkit.workspace import Workspace

    from .helpers import workspace

    ws = Workspace(workspace(tmp_path, {"orders": ORDERS, "segment_history": SEGMENTS}))
    shared = customer_orders(ws.table("orders"), AS_OF).collect()
    for res in (
        cycle_workspace(ws, as_of=AS_OF, top=2),
        cycle_workspace(ws, as_of=AS_OF, top=2, numbered_orders=shared),
    ):
        assert res.population_gap == 6.5 and res.by_segment
        dist = {r["segment"]: r for r in res.distribution.to_dicts()}
        assert list(dist) == ["(all)", "(no segment)", "At Risk", "Champions"]
        assert (dist["(all)"]["customers"], dist["(all)"]["gaps"]) == (3, 4)
        assert dist["(all)"]["mean"] == 34 / 4 and dist["(all)"]["median"] == 6.5
        assert (dist["Champions"]["gaps"], dist["Champions"]["median"]) == (2, 15.0)  # a: 10, 20
        assert (dist["At Risk"]["gaps"], dist["At Risk"]["p90"]) == (1, 3.0)  # b
        assert (dist["(no segment)"]["customers"], dist["(no segment)"]["mean"]) == (1, 1.0)
        assert res.histogram.rows() == [("1-7", 2, 0.5), ("8-14", 1, 0.25), ("15-30", 1, 0.25)]
        # overdue: b 40 days (200), c 13 days (50), a 5 days (65); d is not: top 2 by revenue
        assert res.overdue["customer_key"].to_list() == ["b", "a"]
        assert res.customers["customer_key"].to_list() == ["a", "b", "c", "d"]
        assert res.customers["days_overdue"].to_list() == [5, 40, 13, 0]


def test_no_second_purchase_day_means_no_cycle(tmp_path):
    from crmkit.analysis.cycle import cycle_workspace
    from crmkit.errors import DataError
    from crmkit.workspace import Workspace

    from .helpers import workspace

    once = ORDERS.filter(pl.col("order_id").is_in(["1", "5", "7", "8"]))  # a, b, c, d once each
    assert gap_distribution(once, AS_OF).collect().height == 0
    ws = Workspace(workspace(tmp_path, {"orders": once}))
    with pytest.raises(DataError, match="no customer has two purchase days"):
        cycle_workspace(ws, as_of=AS_OF)
