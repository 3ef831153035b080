"""Summaries: purchase days, statuses, null keys, time units, calibration/holdout split."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from crmkit.models import summarize
from crmkit.models.units import DurationError, parse_duration_days

ROWS = [
    # customer A: three orders on day 1 (two purchases + one refunded), then days 8 and 15
    ("A", "2025-01-01 09:00", "10.00", "completed"),
    ("A", "2025-01-01 18:30", "5.50", "partially_refunded"),
    ("A", "2025-01-01 19:00", "99.00", "refunded"),
    ("A", "2025-01-08 10:00", "20.00", "completed"),
    ("A", "2025-01-15 23:59", "30.00", "completed"),
    # A in the holdout: two orders on one day, one cancelled, one pending
    ("A", "2025-02-10 08:00", "7.00", "completed"),
    ("A", "2025-02-10 09:00", "8.00", "completed"),
    ("A", "2025-02-11 09:00", "50.00", "cancelled"),
    ("A", "2025-02-12 09:00", "50.00", "pending"),
    # customer B: one purchase only; its refunded order does not count
    ("B", "2025-01-22 12:00", "40.00", "completed"),
    ("B", "2025-01-25 12:00", "40.00", "refunded"),
    # customer C: first purchase only in the holdout (a new customer, not scored)
    ("C", "2025-02-03 12:00", "12.00", "completed"),
    # guest order without customer key
    (None, "2025-01-05 12:00", "9.99", "completed"),
]


def test_purchase_days_statuses_and_units(make_orders) -> None:
    s = summarize(make_orders(ROWS), calibration_end="2025-01-31", unit="days")
    a = s.frame.filter(pl.col("customer_key") == "A").row(0, named=True)
    b = s.frame.filter(pl.col("customer_key") == "B").row(0, named=True)
    assert s.frame["customer_key"].to_list() == ["A", "B"]
    # same-day orders are one purchase; refunded excluded; partially refunded included
    assert a["frequency"] == 2
    assert a["recency"] == 14.0
    assert a["T"] == 30.0
    assert a["monetary_value"] == pytest.approx((20.0 + 30.0) / 2)
    assert a["first_purchase"] == dt.date(2025, 1, 1)
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (0, 0.0, 9.0, 0.0)
    assert s.counts["null_customer_key"] == 1
    assert s.counts["non_purchase_status"] == 4
    assert s.counts["customers"] == 2
    assert s.counts["repeat_customers"] == 1


def test_weeks_unit_and_holdout(make_orders) -> None:
    s = summarize(make_orders(ROWS), calibration_end="2025-01-31", unit="weeks", holdout="4w")
    a = s.frame.filter(pl.col("customer_key") == "A").row(0, named=True)
    assert a["recency"] == pytest.approx(2.0)
    assert a["T"] == pytest.approx(30 / 7)
    assert s.holdout_end == dt.date(2025, 2, 28)
    # two same-day holdout orders are one purchase; cancelled and pending ignored
    assert a["holdout_purchases"] == 1
    assert a["holdout_spend"] == pytest.approx(15.0)
    b = s.frame.filter(pl.col("customer_key") == "B").row(0, named=True)
    assert b["holdout_purchases"] == 0
    assert s.counts["new_customers_in_holdout"] == 1


def test_default_calibration_end_is_last_purchase_day(make_orders) -> None:
    s = summarize(make_orders(ROWS).lazy(), unit="days")
    assert s.calibration_end == dt.date(2025, 2, 10)
    assert set(s.frame["customer_key"]) == {"A", "B", "C"}


@pytest.mark.parametrize(
    ("text", "days"),
    [("26w", 182.0), ("180d", 180.0), ("12m", 365.25), ("1y", 365.25), ("1.5m", 45.65625)],
)
def test_durations(text: str, days: float) -> None:
    assert parse_duration_days(text) == pytest.approx(days)


@pytest.mark.parametrize("text", ["", "12", "w", "-3w", "0d", "3 fortnights"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration_days(text)
    assert info.value.hint
    assert info.value.exit_code == 2


def test_unknown_unit_is_refused(make_orders) -> None:
    with pytest.raises(DurationError):
        summarize(make_orders(ROWS), unit="months")


# The customers as the link step numbers them: in key order, with customers who never bought
# ("0", "B2") in between, so the numbers have gaps: A=1, B=2, C=4.
KEYS = pl.Series("customer_key", ["0", "A", "B", "B2", "C"])


def _numbered(orders: pl.DataFrame) -> pl.DataFrame:
    """The orders with the numbers the link step gives them (walk-ins: none)."""
    place = {"A": 1, "B": 2, "C": 4}
    return orders.with_columns(
        pl.col("customer_key")
        .replace_strict(place, default=None, return_dtype=pl.Int64)
        .alias("customer_no")
    )


@pytest.mark.parametrize("holdout", [None, "4w"])
def test_grouped_by_customer_number_the_summary_is_the_same(make_orders, holdout) -> None:
    orders = make_orders(ROWS)
    want = summarize(orders, calibration_end="2025-01-31", unit="days", holdout=holdout)
    got = summarize(
        _numbered(orders),
        calibration_end="2025-01-31",
        unit="days",
        holdout=holdout,
        customer_keys=KEYS,
    )
    assert got.frame.equals(want.frame) and got.counts == want.counts
    assert got.frame.columns == want.frame.columns  # the number is not in the summary
    a = got.frame.row(0, named=True)  # the hand-worked A of the first test
    assert (a["customer_key"], a["frequency"], a["recency"], a["T"]) == ("A", 2, 14.0, 30.0)


def test_an_order_without_its_number_falls_back_to_the_keys(make_orders, monkeypatch) -> None:
    import crmkit.models.summary as summary

    keys_used: list[str] = []
    real = summary._exact_days
    monkeypatch.setattr(
        summary, "_exact_days", lambda o, key: keys_used.append(key) or real(o, key)
    )
    numbered = _numbered(make_orders(ROWS))
    summarize(numbered, calibration_end="2025-01-31", unit="days", customer_keys=KEYS)
    gap = numbered.with_columns(
        pl.when(pl.col("net_amount").cast(pl.Float64) == 20.0)
        .then(None)
        .otherwise(pl.col("customer_no"))
        .alias("customer_no")
    )
    s = summarize(gap, calibration_end="2025-01-31", unit="days", customer_keys=KEYS)
    assert keys_used == ["customer_no", "customer_key"]
    assert s.frame.filter(pl.col("customer_key") == "A")["frequency"].item() == 2


def test_spend_is_summed_exactly_before_the_mean(make_orders) -> None:
    # The repeat days add up to 942.18 + 508.05 + 936.03 + 559.60 + 517.69 = 3463.55, so the
    # mean repeat spend is 3463.55 / 5. Summed as floats, the same orders give
    # 692.7099999999999 (and float sums vary with the order the engine's threads add them in).
    amounts = ["779.56", "942.18", "508.05", "900.00", "559.60", "517.69"]
    rows = [("A", f"2025-01-0{i + 1} 09:00", a, "completed") for i, a in enumerate(amounts)]
    rows.append(("A", "2025-01-04 18:00", "36.03", "completed"))  # day 4: 936.03 in all
    s = summarize(make_orders(rows), calibration_end="2025-01-31", unit="days", holdout="10d")
    a = s.frame.row(0, named=True)
    assert a["frequency"] == 5
    assert a["monetary_value"] == 3463.55 / 5
