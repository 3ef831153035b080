"""Cohorts on a hand-worked shop.

    c1  2025-01-10 100 | 2025-02-05 50 | 2025-03-01 20
    c2  2025-01-20 30  | 2025-02-01 cancelled 99 (ignored)
    c3  2025-02-02 40  | 2025-02-20 10
    walk-in 2025-01-15 70 (no customer_key, ignored)
As-of 2025-03-15: March is not complete, so every March cell is null.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from crmkit.analysis.cohorts import cohort_matrix, cohort_table

from .helpers import frame, order

ORDERS = frame(
    "orders",
    [
        order("1", "c1", "2025-01-10", 100),
        order("2", "c1", "2025-02-05", 50),
        order("3", "c1", "2025-03-01", 20),
        order("4", "c2", "2025-01-20", 30),
        order("5", "c2", "2025-02-01", 99, status="cancelled"),
        order("6", "c3", "2025-02-02", 40),
        order("7", "c3", "2025-02-20", 10),
        order("8", None, "2025-01-15", 70),
    ],
)
CUSTOMERS = pl.LazyFrame(
    {"customer_key": ["c1", "c2", "c3"], "acquisition_channel": ["social", "social", None]}
)


def cell(df: pl.DataFrame, cohort: str, period: int) -> dict:
    return df.filter((pl.col("cohort") == cohort) & (pl.col("period") == period)).row(0, named=True)


def test_month_cohorts_counts_shares_and_blank_incomplete_cells():
    df = cohort_table(ORDERS, as_of=dt.date(2025, 3, 15), by="month").collect()
    assert df.select("cohort", "period").rows() == [
        ("2025-01", 0),
        ("2025-01", 1),
        ("2025-01", 2),
        ("2025-02", 0),
        ("2025-02", 1),
    ]
    jan0 = cell(df, "2025-01", 0)
    assert (jan0["cohort_size"], jan0["customers"], jan0["orders"]) == (2, 2, 2)
    assert jan0["revenue"] == Decimal("130.00")  # 100 + 30
    assert jan0["retained_share"] == 2 / 2
    jan1 = cell(df, "2025-01", 1)
    assert (jan1["customers"], jan1["orders"], jan1["revenue"]) == (1, 1, Decimal("50.00"))
    assert jan1["retained_share"] == 1 / 2  # c1 of {c1, c2}; c2's cancelled order ignored
    assert jan1["revenue_per_customer"] == 50 / 2
    feb0 = cell(df, "2025-02", 0)
    assert (feb0["customers"], feb0["orders"], feb0["revenue"]) == (1, 2, Decimal("50.00"))
    for cohort, period in (("2025-01", 2), ("2025-02", 1)):  # March: not complete → null
        c = cell(df, cohort, period)
        assert not c["complete"]
        assert c["customers"] is None and c["retained_share"] is None and c["revenue"] is None


def test_month_end_as_of_completes_the_month():
    df = cohort_table(ORDERS, as_of=dt.date(2025, 3, 31), by="month").collect()
    mar = cell(df, "2025-01", 2)
    assert (mar["customers"], mar["retained_share"]) == (1, 1 / 2)
    assert cell(df, "2025-02", 1)["retained_share"] == 0 / 1  # complete, nobody: 0, not null


def test_quarter_cohorts_are_incomplete_until_the_quarter_ends():
    df = cohort_table(ORDERS, as_of=dt.date(2025, 3, 15), by="quarter").collect()
    assert df.select("cohort", "period", "customers").rows() == [("2025Q1", 0, None)]
    df = cohort_table(ORDERS, as_of=dt.date(2025, 3, 31), by="quarter").collect()
    q = cell(df, "2025Q1", 0)
    assert (q["cohort_size"], q["customers"], q["orders"]) == (3, 3, 6)
    assert q["revenue"] == Decimal("250.00")  # 100+50+20+30+40+10


def test_channel_cohorts_count_only_customers_whose_period_is_complete():
    df = cohort_table(
        ORDERS, as_of=dt.date(2025, 3, 15), by="channel", customers=CUSTOMERS
    ).collect()
    social1 = cell(df, "social", 1)  # c1, c2 both started in January: February complete
    assert (social1["eligible"], social1["customers"], social1["retained_share"]) == (2, 1, 1 / 2)
    assert cell(df, "social", 2)["customers"] is None  # March incomplete for both
    unknown = cell(df, "(unknown)", 0)  # c3 has no acquisition channel
    assert (unknown["cohort_size"], unknown["customers"], unknown["orders"]) == (1, 1, 2)
    assert cell(df, "(unknown)", 1)["eligible"] is None


def test_matrix_is_one_row_per_cohort_with_null_cells():
    df = cohort_table(ORDERS, as_of=dt.date(2025, 3, 15), by="month").collect()
    m = cohort_matrix(df)
    assert m.columns == ["cohort", "cohort_size", "0", "1", "2"]
    assert m.rows() == [("2025-01", 2, 1.0, 0.5, None), ("2025-02", 1, 1.0, None, None)]


def test_unknown_grouping_is_a_usage_error():
    from crmkit.errors import UsageError

    with pytest.raises(UsageError):
        cohort_table(ORDERS, as_of=dt.date(2025, 3, 15), by="week")  # type: ignore[arg-type]


def test_repeat_orders_in_a_period_count_the_customer_once():
    """e buys twice on 3 Jan and on 28 Jan, skips February, buys twice in March; f's January
    order is cancelled, so f starts in February (two orders on 14 Feb). As-of 31 March."""
    from crmkit.analysis.common import customer_orders

    orders = frame(
        "orders",
        [
            order("1", "e", "2025-01-03 09:00", 10),
            order("2", "e", "2025-01-03 17:00", 15),
            order("3", "e", "2025-01-28", 5),
            order("4", "e", "2025-03-02", 20),
            order("5", "e", "2025-03-30", 1),
            order("6", "f", "2025-01-20", 99, status="cancelled"),
            order("7", "f", "2025-02-14 10:00", 8),
            order("8", "f", "2025-02-14 11:00", 2),
        ],
    )
    as_of = dt.date(2025, 3, 31)
    expected = [  # cohort, period, cohort_size, customers, orders, revenue
        ("2025-01", 0, 1, 1, 3, Decimal("30.00")),
        ("2025-01", 1, 1, 0, 0, Decimal("0.00")),
        ("2025-01", 2, 1, 1, 2, Decimal("21.00")),
        ("2025-02", 0, 1, 1, 2, Decimal("10.00")),
        ("2025-02", 1, 1, 0, 0, Decimal("0.00")),
    ]
    for source in (orders, customer_orders(orders, as_of).collect()):
        df = cohort_table(source, as_of=as_of, by="month").collect()
        cols = ["cohort", "period", "cohort_size", "customers", "orders", "revenue"]
        assert df.select(cols).rows() == expected
        assert df["retained_share"].to_list() == [1.0, 0.0, 1.0, 1.0, 0.0]
