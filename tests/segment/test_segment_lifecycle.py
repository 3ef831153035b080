"""Lifecycle: exact stage boundaries and windows derived from inter-purchase gaps."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from crmkit.errors import ConfigError
from crmkit.segment import customer_facts, derive_windows, inter_purchase_days, lifecycle_segments
from crmkit.segment.facts import gaps_of, typical_gaps

from .helpers import AS_OF, orders


def _days_ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)


def test_boundaries_are_exact() -> None:
    w = derive_windows(
        pl.Series([], dtype=pl.Int64), new_window=90, at_risk_after=30, churned_after=60
    )
    rows = [
        ("new_89", _days_ago(89), 1),  # age 89 < 90 → new
        ("age_90", _days_ago(90), 1),  # age 90: no longer new …
        ("age_90", _days_ago(29), 1),  # … and recency 29 < 30 → active
        ("rec_29", _days_ago(200), 1),
        ("rec_29", _days_ago(29), 1),
        ("rec_30", _days_ago(200), 1),
        ("rec_30", _days_ago(30), 1),  # recency 30 = at_risk_after → at risk
        ("rec_59", _days_ago(200), 1),
        ("rec_59", _days_ago(59), 1),  # 59 < 60 → at risk
        ("rec_60", _days_ago(200), 1),
        ("rec_60", _days_ago(60), 1),  # 60 = churned_after → churned
    ]
    facts = customer_facts(orders(rows).lazy(), AS_OF).collect()
    people = pl.DataFrame({"customer_key": [*{r[0] for r in rows}, "nobody"]})
    got = lifecycle_segments(facts, people, w, AS_OF)
    assert dict(got.select("customer_key", "segment").rows()) == {
        "new_89": "new",
        "age_90": "active",
        "rec_29": "active",
        "rec_30": "at_risk",
        "rec_59": "at_risk",
        "rec_60": "churned",
        "nobody": "prospect",
    }


def test_records_created_after_as_of_are_not_prospects() -> None:
    w = derive_windows(pl.Series([], dtype=pl.Int64), at_risk_after=30, churned_after=60)
    facts = customer_facts(orders([("A", AS_OF, 1)]).lazy(), AS_OF).collect()
    people = pl.DataFrame(
        {
            "customer_key": ["A", "later", "before"],
            "signup_at": [
                None,
                dt.datetime(2025, 2, 1, tzinfo=dt.UTC),
                dt.datetime(2025, 1, 31, 23, tzinfo=dt.UTC),
            ],
        }
    )
    got = lifecycle_segments(facts, people, w, AS_OF)
    assert got["customer_key"].to_list() == ["A", "before"]


def test_windows_from_gap_quantiles() -> None:
    # Gaps 1..100: p75 at 99·.75 = 74.25 → 75.25 → 76; p95 at 94.05 → 95.05 → 96.
    gaps = pl.Series(range(1, 101))
    w = derive_windows(gaps, active_window=365)
    assert (w.at_risk_after, w.churned_after) == (76, 96)
    assert "p75 / p95 of the median inter-purchase gap of 100 repeat customers" in w.derived_from
    capped = derive_windows(gaps, active_window=80)  # churned capped at active_window
    assert (capped.at_risk_after, capped.churned_after) == (76, 80)
    partly = derive_windows(gaps, at_risk_after=10)
    assert (partly.at_risk_after, partly.churned_after) == (10, 96)
    assert partly.derived_from.startswith("partly configured")


def test_windows_of_daily_buyers_stay_ordered() -> None:
    # Everyone buys every day: p75 = p95 = 1, yet at risk must come before churned.
    w = derive_windows(pl.Series([1] * 50), active_window=365)
    assert (w.at_risk_after, w.churned_after) == (1, 2)


def test_windows_fallback_with_few_gaps() -> None:
    w = derive_windows(pl.Series([5, 6]), active_window=365)
    assert (w.at_risk_after, w.churned_after) == (183, 365)
    assert "only 2 repeat customers" in w.derived_from


def test_invalid_windows() -> None:
    with pytest.raises(ConfigError):
        derive_windows(pl.Series([], dtype=pl.Int64), at_risk_after=60, churned_after=60)


def test_gaps_count_same_day_orders_once() -> None:
    rows = [
        ("A", "2025-01-01", 1),
        ("A", "2025-01-01", 2),
        ("A", "2025-01-11", 1),
        ("B", "2025-01-05", 1),
        ("A", "2025-01-12", 1, "cancelled"),
    ]
    gaps = inter_purchase_days(orders(rows).lazy(), AS_OF).collect()
    assert gaps.rows() == [("A", 10)]


def test_typical_gap_is_each_customers_median() -> None:
    # A: gaps 1, 2, 30 → median 2; B: gaps 10, 20 → median 15. One value per customer.
    rows = [
        ("A", "2025-01-01", 1),
        ("A", "2025-01-02", 1),
        ("A", "2025-01-04", 1),
        ("A", "2025-02-03", 1),
        ("B", "2025-01-01", 1),
        ("B", "2025-01-11", 1),
        ("B", "2025-01-31", 1),
    ]
    gaps = typical_gaps(inter_purchase_days(orders(rows).lazy(), dt.date(2025, 3, 1))).collect()
    assert gaps.rows() == [("A", 2.0), ("B", 15.0)]


def test_numbered_gaps_pack_customer_and_day() -> None:
    # customer 0: days 1969-12-30 (before the epoch), twice on 1970-01-03, 1970-01-13 → gaps 4, 10;
    # customer 7: one day → none; customer 2: 2025-01-01, 2025-03-02 → 60 (rows out of order)
    purchases = pl.DataFrame(
        {
            "customer_no": [7, 0, 2, 0, 0, 2, 0],
            "day": [
                dt.date(2025, 5, 5),
                dt.date(1970, 1, 3),
                dt.date(2025, 3, 2),
                dt.date(1969, 12, 30),
                dt.date(1970, 1, 13),
                dt.date(2025, 1, 1),
                dt.date(1970, 1, 3),
            ],
        }
    )
    gaps = gaps_of(purchases, key="customer_no").collect()
    assert gaps.rows() == [(0, 4), (0, 10), (2, 60)]
    assert gaps.schema == {"customer_no": pl.Int64, "gap_days": pl.Int64}


def test_numbered_gaps_agree_with_a_plain_python_reading() -> None:
    rng = np.random.default_rng(5)
    n = 3_000
    purchases = pl.DataFrame(
        {
            "customer_no": rng.integers(0, 400, n),
            "day": pl.Series(rng.integers(-400, 20_000, n), dtype=pl.Int32).cast(pl.Date),
        }
    )
    days: dict[int, set[dt.date]] = {}
    for k, d in purchases.iter_rows():
        days.setdefault(k, set()).add(d)
    want = [
        (k, (b - a).days)
        for k in sorted(days)
        for a, b in zip(sorted(days[k]), sorted(days[k])[1:], strict=False)
    ]
    assert gaps_of(purchases, key="customer_no").collect().rows() == want
    # a key that cannot be packed (negative) takes the two-column sort, with the same answer
    shifted = purchases.with_columns(pl.col("customer_no") - 1)
    got = gaps_of(shifted, key="customer_no").collect().rows()
    assert got == [(k - 1, g) for k, g in want]
