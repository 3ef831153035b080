"""A hand-worked shop: every expected value in the metric tests is derived from these rows.

Period under test: 2025Q2 = 2025-04-01..2025-06-30, as-of 2025-06-30, active_window 365 days:
active at start = a completed order in 2024-04-01..2025-03-31, active at end = one in
2024-07-01..2025-06-30.

    A  2024-05-10 completed 100 | 2025-04-15 completed 50 (online, cost 20)   active start+end
    B  2024-05-01 completed 80                                                 churned
    C  2025-05-01 completed 200 (pos, cost 120) | 2025-05-20 partially_refunded
       gross 100 refund 30 net 70 (pos, cost 40)                               new in Q2
    D  2023-01-10 completed 40 | 2025-06-01 completed 60 (online, cost 30)     reactivated
    E  2025-04-20 refunded 90                                                  never completed
    F  2024-12-01 completed 30 | 2025-05-05 cancelled 20                       active, no Q2 order
    walk-in 2025-06-10 completed 25 (pos, cost 10)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl

from crmkit import schema
from crmkit.config import DEFAULTS, Config, deep_merge

UTC = dt.UTC


def ts(text: str) -> dt.datetime:
    """'2025-04-02' or '2025-04-02 10:00' as a UTC datetime."""
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    return dt.datetime.strptime(text, fmt).replace(tzinfo=UTC)


def frame(table: str, rows: list[dict[str, Any]]) -> pl.LazyFrame:
    """Rows on the table's stored schema (missing columns null)."""
    sch = schema.SOURCE_TABLES[table].polars_schema()
    if table != "marketing_spend":
        sch = pl.Schema({**sch, "customer_key": pl.String()})
    data = {c: [r.get(c) for r in rows] for c in sch.names()}
    return pl.DataFrame(data, schema=sch).lazy()


def money(x: float | None) -> Decimal | None:
    return None if x is None else Decimal(str(x)).quantize(Decimal("0.01"))


def order(oid, key, day, status, gross, *, net=None, refund=None, cost=None, channel=None):
    return {
        "order_id": oid,
        "customer_key": key,
        "ordered_at": ts(day),
        "status": status,
        "gross_amount": money(gross),
        "refund_amount": money(refund),
        "net_amount": money(gross if net is None else net),
        "cost_amount": money(cost),
        "channel": channel,
        "currency": "USD",
    }


ORDERS = [
    order("o1", "A", "2024-05-10", "completed", 100),
    order("o2", "A", "2025-04-15", "completed", 50, cost=20, channel="online"),
    order("o3", "B", "2024-05-01", "completed", 80),
    order("o4", "C", "2025-05-01", "completed", 200, cost=120, channel="pos"),
    order(
        "o5",
        "C",
        "2025-05-20",
        "partially_refunded",
        100,
        net=70,
        refund=30,
        cost=40,
        channel="pos",
    ),
    order("o6", "D", "2023-01-10", "completed", 40),
    order("o7", "D", "2025-06-01", "completed", 60, cost=30, channel="online"),
    order("o8", "E", "2025-04-20", "refunded", 90, net=0, refund=90),
    order("o9", "F", "2024-12-01", "completed", 30),
    order("o10", "F", "2025-05-05", "cancelled", 20),
    order("o11", None, "2025-06-10", "completed", 25, cost=10, channel="pos"),
]


def customer(key, signup, *, channel=None, loyalty=None, referred_by=None, gender=None):
    return {
        "customer_key": key,
        "signup_at": ts(signup),
        "acquisition_channel": channel,
        "loyalty_member": loyalty,
        "referred_by": referred_by,
        "gender": gender,
    }


CUSTOMERS = [
    customer("A", "2024-05-01", channel="organic", loyalty=True, gender="f"),
    customer("B", "2024-04-20", channel="social", gender="m"),
    customer("C", "2025-04-25", channel="paid_search", loyalty=True, referred_by="A", gender="f"),
    customer("D", "2023-01-01", channel="store", loyalty=False, referred_by="F", gender="m"),
    customer("E", "2025-04-18", channel="paid_search"),
    customer("F", "2024-11-20", channel="organic"),
    customer("G", "2025-05-10", channel="social", referred_by="A"),
]


def response(rid, key, day, *, nps=None, csat=None, ces=None):
    return {
        "response_id": rid,
        "customer_key": key,
        "responded_at": ts(day),
        "nps": nps,
        "csat": csat,
        "ces": ces,
    }


SURVEYS = [
    response("r1", "A", "2025-04-10", nps=10, csat=5, ces=2),
    response("r2", "B", "2025-04-12", nps=10),
    response("r3", "C", "2025-05-12", nps=9, csat=4, ces=6),
    response("r4", "D", "2025-05-15", nps=5, csat=2),
    response("r5", "F", "2025-06-05", nps=7, csat=3),
    response("r6", "G", "2025-06-06", nps=0),
    response("r0", "A", "2025-03-01", nps=0, csat=1),  # before the period
]


def ticket(tid, key, created, *, response=None, resolved=None, status, complaint, cost):
    return {
        "ticket_id": tid,
        "customer_key": key,
        "created_at": ts(created),
        "first_response_at": ts(response) if response else None,
        "resolved_at": ts(resolved) if resolved else None,
        "status": status,
        "is_complaint": complaint,
        "handling_cost": money(cost),
    }


TICKETS = [
    ticket(
        "t1",
        "A",
        "2025-04-02 10:00",
        response="2025-04-02 12:00",
        resolved="2025-04-03 10:00",
        status="solved",
        complaint=True,
        cost=10,
    ),
    ticket(
        "t2",
        "C",
        "2025-05-02 09:00",
        response="2025-05-02 13:00",
        status="open",
        complaint=False,
        cost=5,
    ),
    ticket(
        "t3",
        "D",
        "2025-06-02 00:00",
        response="2025-06-02 06:00",
        resolved="2025-06-04 00:00",
        status="closed",
        complaint=True,
        cost=15,
    ),
    ticket("t0", "B", "2025-03-01 00:00", status="closed", complaint=True, cost=99),  # before
]


def event(eid, key, day, kind):
    return {"event_id": eid, "customer_key": key, "occurred_at": ts(day), "event_type": kind}


EVENTS = [
    event("e1", "A", "2025-04-03", "email_sent"),
    event("e2", "A", "2025-05-03", "email_sent"),
    event("e3", "A", "2025-04-04", "email_open"),
    event("e4", "A", "2025-04-04", "email_click"),
    event("e5", "C", "2025-05-03", "visit"),
    event("e6", "C", "2025-05-04", "referral_sent"),
    event("e7", "G", "2025-06-01", "page_view"),
    event("e8", "B", "2025-03-01", "visit"),  # before the period
]


def spend(day, channel, cost, cost_type):
    return {
        "date": dt.date.fromisoformat(day),
        "channel": channel,
        "cost": money(cost),
        "cost_type": cost_type,
        "currency": "USD",
    }


SPEND = [
    spend("2025-04-05", "paid_search", 300, "marketing"),
    spend("2025-05-01", "social", 100, "sales"),
    spend("2025-03-01", "social", 999, "marketing"),  # before the period
]

AS_OF = dt.date(2025, 6, 30)


def tables(*, without: tuple[str, ...] = ()) -> dict[str, pl.LazyFrame]:
    """The shop's tables as LazyFrames (the customers table keyed by customer_key)."""
    cust_schema = {
        "customer_key": pl.String,
        "signup_at": schema.UTC_DATETIME,
        "acquisition_channel": pl.String,
        "loyalty_member": pl.Boolean,
        "referred_by": pl.String,
        "gender": pl.String,
    }
    out = {
        "orders": frame("orders", ORDERS),
        "customers": pl.DataFrame(CUSTOMERS, schema=cust_schema, orient="row").lazy(),
        "survey_responses": frame("survey_responses", SURVEYS),
        "tickets": frame("tickets", TICKETS),
        "events": frame("events", EVENTS),
        "marketing_spend": frame("marketing_spend", SPEND),
    }
    return {k: v for k, v in out.items() if k not in without}


def config(**data: Any) -> Config:
    """The default config with `data` merged over it."""
    return Config(data=deep_merge(DEFAULTS, data), sources=())


def results(
    *names: str,
    period: str = "2025Q2",
    cfg: Config | None = None,
    tabs: dict[str, pl.LazyFrame] | None = None,
    **kwargs: Any,
) -> dict[str, dict[str, Any]]:
    """Metric rows (no breakdown) keyed by metric name, details parsed."""
    import json

    from crmkit.metrics import compute_tables

    df = compute_tables(
        tables() if tabs is None else tabs,
        cfg or config(),
        period,
        metrics=list(names) or None,
        as_of=kwargs.pop("as_of", AS_OF),
        **kwargs,
    )
    return {r["metric"]: {**r, "details": json.loads(r["details"] or "{}")} for r in df.to_dicts()}
