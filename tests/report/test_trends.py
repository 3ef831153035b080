"""Trends by hand, and the numbered orders shared by trends, cohorts and the buying cycle.

Shanghai time (UTC+8), as-of 2025-03-31, three trend months:

    d  2025-01-15 10:00Z completed   7   → January
    a  2025-01-31 18:00Z completed  10   → 1 Feb 02:00 in Shanghai: February
    b  2025-02-10 10:00Z no status  30   → completed (null status counts)
    b  2025-02-11 10:00Z cancelled  99   → left out
    c  2025-03-05 10:00Z refunded   40   → left out (not a completed status by default)
    a  2025-03-10 10:00Z completed  20
    -  2025-03-20 10:00Z walk-in     5   → revenue and orders, no customer

    month  revenue orders purchasing new
    Jan       7      1        1       1 (d)
    Feb      40      2        2       2 (a, b)
    Mar      25      2        1       0
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from crmkit.report import build_report
from crmkit.workspace import Workspace, table_schema

ROWS = [
    ("o1", "d", dt.datetime(2025, 1, 15, 10), "completed", "7"),
    ("o2", "a", dt.datetime(2025, 1, 31, 18), "completed", "10"),
    ("o3", "b", dt.datetime(2025, 2, 10, 10), None, "30"),
    ("o4", "b", dt.datetime(2025, 2, 11, 10), "cancelled", "99"),
    ("o5", "c", dt.datetime(2025, 3, 5, 10), "refunded", "40"),
    ("o6", "a", dt.datetime(2025, 3, 10, 10), "completed", "20"),
    ("o7", None, dt.datetime(2025, 3, 20, 10), "completed", "5"),
]


def _workspace(path: Path, extra: str = "") -> Workspace:
    (path / "warehouse").mkdir(parents=True)
    config = "timezone: Asia/Shanghai\nreport:\n  trend_months: 3\n" + extra
    (path / "crmkit.yaml").write_text(config, encoding="utf-8")
    sch = table_schema("orders")
    data = {c: [None] * len(ROWS) for c in sch}
    for i, (oid, key, at, status, amount) in enumerate(ROWS):
        data["order_id"][i], data["customer_key"][i], data["status"][i] = oid, key, status
        data["ordered_at"][i] = at.replace(tzinfo=dt.UTC)
        data["net_amount"][i] = data["gross_amount"][i] = Decimal(amount).quantize(Decimal("0.01"))
        data["source"][i] = "shop"
    pl.DataFrame(data, schema=sch).write_parquet(path / "warehouse" / "orders.parquet")
    return Workspace(path)


def _monthly(ws: Workspace) -> list[tuple]:
    sec = build_report(ws, period="2025Q1", as_of=dt.date(2025, 3, 31)).section("trends")
    assert sec.ok, sec.reason
    cols = ["month", "net_revenue", "orders", "active_customers", "new_customers"]
    return sec.table("monthly").frame.select(cols).rows()


def test_trends_by_hand_in_the_workspace_time_zone(tmp_path: Path):
    assert _monthly(_workspace(tmp_path / "ws")) == [
        (dt.date(2025, 1, 1), 7.0, 1, 1, 1),
        (dt.date(2025, 2, 1), 40.0, 2, 2, 2),
        (dt.date(2025, 3, 1), 25.0, 2, 1, 0),
    ]


def test_trends_follow_the_configured_completed_statuses(tmp_path: Path):
    # With refunded orders counted as completed, c's order joins March: +40, and c is new.
    extra = "metrics:\n  completed_statuses: [completed, refunded]\n"
    assert _monthly(_workspace(tmp_path / "ws", extra))[2] == (dt.date(2025, 3, 1), 65.0, 3, 2, 1)


def test_orders_are_numbered_once_per_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Trends, cohorts and the buying cycle share one pass over the orders' customer keys."""
    import crmkit.analysis.common as common

    calls = []
    real = common.customer_orders

    def counted(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(common, "customer_orders", counted)  # cycle and cohorts call it there
    data = build_report(_workspace(tmp_path / "ws"), period="2025Q1")
    assert all(data.section(k).ok for k in ("trends", "cohorts", "cycle"))
    assert calls == [dt.date(2025, 3, 20)]  # the last date in the data
