"""--by: order columns, customer columns, cohort, segment/tier from segment_history, several."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from crmkit.errors import UsageError
from crmkit.metrics import compute_tables

from . import shop


def rows(by, *names, tabs=None, cfg=None):
    df = compute_tables(
        tabs or shop.tables(),
        cfg or shop.config(),
        "2025Q2",
        by=by,
        metrics=list(names),
        as_of=shop.AS_OF,
    )
    return df


def value(df: pl.DataFrame, metric: str, **group):
    sel = df.filter(pl.col("metric") == metric)
    for k, v in group.items():
        sel = sel.filter(pl.col(k).is_null() if v is None else pl.col(k) == v)
    assert sel.height == 1, sel
    return sel.row(0, named=True)


def test_by_order_channel():
    df = rows("channel", "revenue", "net_revenue", "new_customers", "nps")
    assert value(df, "revenue", channel="online")["value"] == pytest.approx(50 + 60)
    assert value(df, "revenue", channel="pos")["value"] == pytest.approx(200 + 100 + 25)
    assert value(df, "net_revenue", channel="pos")["value"] == pytest.approx(200 + 70 + 25)
    # new to the channel: A and D placed their first online orders in Q2, C its first pos order
    assert value(df, "new_customers", channel="online")["value"] == 2
    assert value(df, "new_customers", channel="pos")["value"] == 1
    nps = value(df, "nps", channel=None)
    assert nps["status"] == "unavailable" and "order column" in nps["reason"]


def test_by_acquisition_channel_splits_cac():
    df = rows("acquisition_channel", "cac", "new_customers")
    assert value(df, "cac", acquisition_channel="paid_search")["value"] == pytest.approx(300 / 1)
    social = value(df, "cac", acquisition_channel="social")
    assert social["value"] is None and social["status"] == "undefined"  # 100 spent, 0 new
    assert value(df, "new_customers", acquisition_channel="paid_search")["value"] == 1
    other = rows("gender", "cac")
    assert "acquisition_channel" in other["reason"][0]


def test_by_cohort():
    df = rows("cohort", "net_revenue")
    assert value(df, "net_revenue", cohort="2023-01")["value"] == pytest.approx(60)  # D
    assert value(df, "net_revenue", cohort="2024-05")["value"] == pytest.approx(50)  # A
    assert value(df, "net_revenue", cohort="2025-05")["value"] == pytest.approx(200 + 70)  # C
    assert value(df, "net_revenue", cohort=None)["value"] == pytest.approx(25)  # walk-in


def history() -> pl.LazyFrame:
    d = dt.date
    return pl.LazyFrame(
        {
            "customer_key": ["A", "C", "A", "C", "D", "A", "A"],
            "method": ["rfm", "rfm", "rfm", "rfm", "rfm", "rfm", "tiers"],
            "segment": ["Champions", "New", "Loyal", "New", "At Risk", "Later", "gold"],
            "as_of": [d(2025, 5, 1)] * 2 + [d(2025, 6, 15)] * 3 + [d(2025, 7, 1), d(2025, 6, 1)],
            "run_id": ["r1", "r1", "r2", "r2", "r2", "r3", "t1"],
        }
    )


def test_by_segment_and_gender_uses_the_latest_run_up_to_as_of():
    tabs = shop.tables()
    tabs["segment_history"] = history()
    df = rows(["segment", "gender"], "net_revenue", "retention_rate", tabs=tabs)
    assert value(df, "net_revenue", segment="Loyal", gender="f")["value"] == pytest.approx(50)
    assert value(df, "net_revenue", segment="New", gender="f")["value"] == pytest.approx(270)
    assert value(df, "net_revenue", segment="At Risk", gender="m")["value"] == pytest.approx(60)
    # F (no segment, no gender) and the walk-in share the null group
    assert value(df, "net_revenue", segment=None, gender=None)["value"] == pytest.approx(25)
    assert value(df, "retention_rate", segment="Loyal", gender="f")["value"] == pytest.approx(1)
    undefined = value(df, "retention_rate", segment="New", gender="f")  # C: S = 0
    assert undefined["value"] is None and "S = 0" in undefined["reason"]
    tiers = rows("tier", "revenue", tabs=tabs)
    assert value(tiers, "revenue", tier="gold")["value"] == pytest.approx(50)


def test_segment_without_history_is_unavailable_with_the_reason():
    df = rows("segment", "revenue", "churn_rate")
    assert df["status"].to_list() == ["unavailable", "unavailable"]
    assert "segment_history" in df["reason"][0]


def test_unknown_breakdown_is_a_usage_error():
    with pytest.raises(UsageError, match="cannot break down by 'colour'"):
        rows("colour", "revenue")


def _numbered_tables() -> dict[str, pl.LazyFrame]:
    """The shop as the link step leaves it: customers sorted by key and numbered, each order
    carrying its customer's number (walk-ins: none)."""
    tabs = shop.tables()
    customers = tabs["customers"].sort("customer_key").with_row_index("customer_no")
    numbers = dict(customers.select("customer_key", "customer_no").collect().iter_rows())
    tabs["customers"] = customers.with_columns(pl.col("customer_no").cast(pl.Int64))
    tabs["orders"] = tabs["orders"].with_columns(
        pl.col("customer_key")
        .replace_strict(numbers, default=None, return_dtype=pl.Int64)
        .alias("customer_no")
    )
    return tabs


@pytest.mark.parametrize("by", [None, "channel", "gender", ["channel", "gender"]])
def test_numbered_orders_give_every_metric_as_the_keys_do(by, monkeypatch):
    import crmkit.metrics.context as context

    seen: list[bool] = []
    real = context._keys_by_number

    def spied(shared):
        seen.append(real(shared) is not None)
        return real(shared)

    monkeypatch.setattr(context, "_keys_by_number", spied)
    keyed = rows(by, tabs=shop.tables())
    numbered = rows(by, tabs=_numbered_tables())
    assert seen == [False, True]  # the facts were grouped by number the second time
    sort = ["metric", *([by] if isinstance(by, str) else by or [])]
    assert keyed.height >= 38  # every metric, once per group
    assert numbered.sort(sort, nulls_last=True).equals(keyed.sort(sort, nulls_last=True))


def test_the_customer_number_is_not_a_breakdown():
    with pytest.raises(UsageError, match="customer_no"):
        rows("customer_no", "revenue", tabs=_numbered_tables())
