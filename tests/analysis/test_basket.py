"""Pair rules on five hand-worked baskets (o6 is cancelled and must not count).

o1 A B | o2 A B C | o3 A C | o4 B | o5 A B (A twice)     N = 5
support: A 4/5, B 4/5, C 2/5, AB 3/5, AC 2/5, BC 1/5
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from crmkit.analysis.basket import association_rules, basket_items

from .helpers import frame, line, order

LINES = frame(
    "order_lines",
    [
        line("o1", "A-1", "tea"),
        line("o1", "B-1", "cup"),
        line("o2", "A-1", "tea"),
        line("o2", "B-1", "cup"),
        line("o2", "C-1", None),
        line("o3", "A-1", "tea"),
        line("o3", "C-1", None),
        line("o4", "B-1", "cup"),
        line("o5", "A-1", "tea"),
        line("o5", "A-1", "tea", no=2),
        line("o5", "B-1", "cup"),
        line("o6", "B-1", "cup"),
        line("o6", "C-1", None),
    ],
)
ORDERS = frame(
    "orders",
    [order(f"o{i}", "k", "2025-01-01", 1) for i in range(1, 6)]
    + [order("o6", "k", "2025-01-01", 1, status="cancelled")],
)


def rules(**kw) -> pl.DataFrame:
    items = basket_items(LINES, ORDERS, level="product", as_of=dt.date(2025, 1, 1))
    out, n, n_items = association_rules(items, **kw)
    assert (n, n_items) == (5, 3)
    return out


def test_support_confidence_lift_by_hand():
    r = rules(min_support=0.3)
    got = {(a, b): row for a, b, *row in r.rows()}
    assert set(got) == {("A-1", "B-1"), ("B-1", "A-1"), ("A-1", "C-1"), ("C-1", "A-1")}
    orders, support, sa, sb, conf, lift = got[("A-1", "B-1")]
    assert orders == 3
    assert support == pytest.approx(3 / 5)
    assert (sa, sb) == (pytest.approx(4 / 5), pytest.approx(4 / 5))
    assert conf == pytest.approx((3 / 5) / (4 / 5))  # 3/4
    assert lift == pytest.approx((3 / 4) / (4 / 5))  # 15/16
    _, support, _, _, conf, lift = got[("C-1", "A-1")]
    assert (support, conf, lift) == (
        pytest.approx(2 / 5),
        pytest.approx((2 / 5) / (2 / 5)),
        pytest.approx(1 / (4 / 5)),
    )
    _, _, _, _, conf, lift = got[("A-1", "C-1")]
    assert (conf, lift) == (pytest.approx(2 / 4), pytest.approx((2 / 4) / (2 / 5)))
    # Sorted by lift (5/4 before 15/16), then support, then names.
    assert r.select("antecedent", "consequent").rows() == [
        ("A-1", "C-1"),
        ("C-1", "A-1"),
        ("A-1", "B-1"),
        ("B-1", "A-1"),
    ]


def test_thresholds_filter_rules():
    assert len(rules(min_support=0.1)) == 6  # BC (1/5) joins in both directions
    assert rules(min_support=0.3, min_lift=1.0)["lift"].min() == pytest.approx(5 / 4)
    conf = rules(min_support=0.1, min_confidence=0.7)
    assert sorted(conf.select("antecedent", "consequent").rows()) == [
        ("A-1", "B-1"),  # 3/4
        ("B-1", "A-1"),  # 3/4
        ("C-1", "A-1"),  # 2/2
    ]


def test_category_level_ignores_lines_without_a_category():
    items = basket_items(LINES, ORDERS, level="category")
    _, n, n_items = association_rules(items, min_support=0.1)
    assert (n, n_items) == (5, 2)  # lines without a category are ignored


def test_no_orders_gives_empty_rules():
    r, n, _ = association_rules(
        LINES.head(0).select("source", "order_id", item=pl.col("product_id"))
    )
    assert n == 0 and r.height == 0
