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


RULE_KEYS = ("antecedent", "consequent", "orders")


def test_workspace_levels_share_one_read_of_the_lines(tmp_path):
    """Both levels from one `basket_lines`: o6 (cancelled) is left out; C-1 has no category,
    so at category level the two purchase lines of C-1 (o2, o3) have no item."""
    from crmkit.analysis.basket import basket_lines, basket_workspace
    from crmkit.errors import UsageError
    from crmkit.workspace import Workspace

    from .helpers import workspace

    ws = Workspace(workspace(tmp_path, {"orders": ORDERS, "order_lines": LINES}))
    day = dt.date(2025, 1, 1)
    lines = basket_lines(ws, day)
    assert lines.frame.height == 11  # 13 lines less o6's two
    kw = {"as_of": day, "min_support": 0.3, "min_confidence": 0.0, "min_lift": 0.0}
    for shared in (lines, None):
        product = basket_workspace(ws, level="product", lines=shared, **kw)
        assert (product.transactions, product.items, product.lines_without_item) == (5, 3, 0)
        pairs = {(a, b): n for a, b, n in product.rules.select(RULE_KEYS).rows()}
        assert pairs == {("A-1", "B-1"): 3, ("B-1", "A-1"): 3, ("A-1", "C-1"): 2, ("C-1", "A-1"): 2}
        category = basket_workspace(ws, level="category", lines=shared, **kw)
        assert (category.transactions, category.items, category.lines_without_item) == (5, 2, 2)
        rows = category.rules.select(*RULE_KEYS, "confidence", "lift").rows()
        assert rows == [  # tea in 4 of 5 orders, cup in 4, both in 3: 3/4 and (3/4) / (4/5)
            ("cup", "tea", 3, pytest.approx(3 / 4), pytest.approx(15 / 16)),
            ("tea", "cup", 3, pytest.approx(3 / 4), pytest.approx(15 / 16)),
        ]
    with pytest.raises(UsageError):
        basket_workspace(ws, level="product", lines=basket_lines(ws, dt.date(2024, 12, 31)), **kw)
