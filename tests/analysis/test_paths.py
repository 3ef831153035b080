"""Event paths on hand-worked customers, as-of 2025-06-30, active_window 30 days, N = 2.

p  visit, page_view, page_view (collapsed), cart_add, then first order 2025-01-10
   → path "page_view > cart_add", converted
q  visit, page_view; never orders → path "visit > page_view", not converted
r  visit, page_view, then first order 2025-01-05 → "visit > page_view", converted
churn mode: p's last order 2025-01-10 is > 30 days old → churned; anchor 2025-02-09;
   events after the order: email_open 2025-01-20, visit 2025-03-01 (after churn: ignored)
"""

from __future__ import annotations

import datetime as dt

from crmkit.analysis.paths import customer_paths, path_counts

from .helpers import frame, order, ts

AS_OF = dt.date(2025, 6, 30)
EVENTS = frame(
    "events",
    [
        {
            "event_id": "1",
            "customer_key": "p",
            "occurred_at": ts("2025-01-01"),
            "event_type": "visit",
        },
        {
            "event_id": "2",
            "customer_key": "p",
            "occurred_at": ts("2025-01-02"),
            "event_type": "page_view",
        },
        {
            "event_id": "3",
            "customer_key": "p",
            "occurred_at": ts("2025-01-03"),
            "event_type": "page_view",
        },
        {
            "event_id": "4",
            "customer_key": "p",
            "occurred_at": ts("2025-01-04"),
            "event_type": "cart_add",
        },
        {
            "event_id": "5",
            "customer_key": "p",
            "occurred_at": ts("2025-01-20"),
            "event_type": "email_open",
        },
        {
            "event_id": "6",
            "customer_key": "p",
            "occurred_at": ts("2025-03-01"),
            "event_type": "visit",
        },
        {
            "event_id": "7",
            "customer_key": "q",
            "occurred_at": ts("2025-01-01"),
            "event_type": "visit",
        },
        {
            "event_id": "8",
            "customer_key": "q",
            "occurred_at": ts("2025-01-02"),
            "event_type": "page_view",
        },
        {
            "event_id": "9",
            "customer_key": "r",
            "occurred_at": ts("2025-01-01"),
            "event_type": "visit",
        },
        {
            "event_id": "10",
            "customer_key": "r",
            "occurred_at": ts("2025-01-02"),
            "event_type": "page_view",
        },
    ],
)
ORDERS = frame(
    "orders",
    [
        order("1", "p", "2025-01-10", 10),
        order("2", "r", "2025-01-05", 10),
        order("3", "r", "2025-06-20", 10),
    ],
)


def test_paths_before_first_order_with_conversion():
    paths = customer_paths(EVENTS, ORDERS, as_of=AS_OF, steps=2)
    assert paths.collect().select("customer_key", "path", "converted").rows() == [
        ("p", "page_view > cart_add", True),
        ("q", "visit > page_view", False),
        ("r", "visit > page_view", True),
    ]
    counts = path_counts(paths).collect()
    assert counts.select("path", "customers", "converted", "conversion").rows() == [
        ("visit > page_view", 2, 1, 1 / 2),
        ("page_view > cart_add", 1, 1, 1 / 1),
    ]


def test_repeats_are_kept_when_collapse_is_off():
    paths = customer_paths(EVENTS, ORDERS, as_of=AS_OF, steps=2, collapse_repeats=False)
    assert paths.collect()["path"][0] == "page_view > cart_add"
    paths = customer_paths(EVENTS, ORDERS, as_of=AS_OF, steps=3, collapse_repeats=False)
    assert paths.collect()["path"][0] == "page_view > page_view > cart_add"


def test_paths_before_churn():
    paths = customer_paths(EVENTS, ORDERS, as_of=AS_OF, mode="churn", steps=2, active_window=30)
    got = paths.collect().select("customer_key", "path", "converted", "churned").rows()
    assert got == [
        # p churned on 2025-02-09: the visit on 2025-03-01 is after churn and left out; the
        # path began 2025-01-04, before the last order, so p went on to order.
        ("p", "cart_add > email_open", True, True),
        # r is active (last order 2025-06-20); path began 2025-01-01 and r ordered after it.
        ("r", "visit > page_view", True, False),
    ]
    counts = path_counts(paths).collect()
    assert counts.filter(counts["path"] == "cart_add > email_open")["churn_share"].item() == 1.0
