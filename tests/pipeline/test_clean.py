"""clean(): exact accepted values, exact reject codes per line, counts that add up."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl

from crmkit.pipeline.clean import REASON_CODES, CleanOptions, clean
from crmkit.schema import (
    CUSTOMERS,
    MARKETING_SPEND,
    ORDER_LINES,
    ORDERS,
    SURVEY_RESPONSES,
    TICKETS,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
OPTS = CleanOptions(timezone="Asia/Shanghai", currency="cny", phone_region="CN", now=NOW)


def raw_frame(rows: dict[str, list[str | None]], first_line: int = 2) -> pl.LazyFrame:
    """A raw frame as the readers produce it: strings, `__line`, `source`, `source_file`."""
    n = len(next(iter(rows.values())))
    return pl.LazyFrame(
        {
            **{k: pl.Series(k, v, dtype=pl.String) for k, v in rows.items()},
            "__line": pl.Series(range(first_line, first_line + n), dtype=pl.Int64),
            "source": ["shop"] * n,
            "source_file": ["orders.csv"] * n,
        }
    )


ORDER_ROWS = {
    #                 line 2      3            4             5             6
    "order_id": ['="1001"', "1002", "1003", "1004", "1005",
                 # 7      8       9       10      11    12      13
                 "1006", "1007", "1008", "1009", "", "1011", "1012"],
    "customer_email": [" A@B.com ", None, "c@d.com", "c@d.com", "c@d.com",
                       "c@d.com", "c@d.com", "c@d.com", "c@d.com", "c@d.com", "c@d.com", "c@d.com"],
    "customer_phone": ["'+86 138 0013 8000", None, None, None, None,
                       None, None, None, None, None, None, None],
    "ordered_at": ["2025年1月3日 14:05", "2025-01-03 10:00:00", "not a date", "2026-01-04",
                   "1980-01-01", "2025-01-03", "2025-01-03", "2025-01-03", "2025-01-03",
                   "2025-01-03", "2025-01-03", "bad"],
    "status": ["Completed", "paid", "completed", "completed", "completed", "completed",
               "completed", "Refunded", "weird", "completed", "completed", "completed"],
    "gross_amount": ["¥1,234.50", "$5.00", "1", "1", "1", "abc", "($5.00)", "-5.00", "1", "1",
                     "1", "abc"],
    "discount_amount": ["4.50", None, None, None, None, None, None, None, None, None, None, None],
    "refund_amount": ["-10", None, None, None, None, None, None, None, None, None, None, None],
    "items_count": ["1.0", None, None, None, None, None, None, None, None, None, "1.5", None],
}  # fmt: skip


def _orders():
    result = clean(raw_frame(ORDER_ROWS), ORDERS, OPTS)
    return result.accepted.collect(), result.rejects.collect()


def test_orders_reject_codes_per_line():
    _, rejects = _orders()
    got = dict(zip(rejects["__line"].to_list(), rejects["reason_code"].to_list(), strict=True))
    assert got == {
        4: "bad_date",  # not a date
        5: "future_date",  # 2026-01-04 > now + 2 days
        6: "bad_date",  # before min_year 1990
        7: "bad_amount",  # gross "abc"
        8: "negative_amount",  # ($5.00) on a completed order
        10: "bad_status",  # weird
        11: "missing_key",  # empty order_id
        12: "bad_number",  # items_count 1.5
        13: "bad_date",  # both ordered_at and gross are bad: column order wins
    }
    assert set(got.values()) <= set(REASON_CODES)
    assert rejects.columns == ["__line", "source", "source_file", "reason_code", "reason"]
    reasons = dict(zip(rejects["__line"].to_list(), rejects["reason"].to_list(), strict=True))
    assert "ordered_at" in reasons[13] and "gross_amount" in reasons[13]  # lists all problems
    assert '"weird"' in reasons[10] and "status_map" in reasons[10]
    assert reasons[11] == "order_id: required but empty"


def test_orders_accepted_values_are_exact():
    accepted, rejects = _orders()
    assert accepted.height + rejects.height == len(ORDER_ROWS["order_id"])
    rows = {r["order_id"]: r for r in accepted.to_dicts()}
    assert sorted(rows) == ["1001", "1002", "1008"]

    first = rows["1001"]
    assert first["customer_email"] == "a@b.com"
    assert first["customer_phone"] == "+8613800138000"
    # Asia/Shanghai (UTC+8) naive 2025-01-03 14:05 → 06:05 UTC
    assert first["ordered_at"] == datetime(2025, 1, 3, 6, 5, tzinfo=UTC)
    assert first["status"] == "completed"
    assert first["currency"] == "CNY"
    assert first["gross_amount"] == Decimal("1234.50")
    assert first["discount_amount"] == Decimal("4.50")
    assert first["refund_amount"] == Decimal("10.00")  # stored as absolute value
    assert first["net_amount"] == Decimal("1220.00")  # 1234.50 - 4.50 - 10.00
    assert first["items_count"] == 1
    assert (first["source"], first["source_file"], first["source_line"]) == (
        "shop",
        "orders.csv",
        2,
    )

    walk_in = rows["1002"]  # no customer reference at all: a POS sale, kept
    assert walk_in["customer_id"] is walk_in["customer_email"] is walk_in["customer_phone"] is None
    assert walk_in["status"] == "completed"  # "paid" through the shared vocabulary
    assert walk_in["ordered_at"] == datetime(2025, 1, 3, 2, 0, tzinfo=UTC)
    assert walk_in["net_amount"] == Decimal("5.00")

    refunded = rows["1008"]  # negative gross is fine on a refunded order
    assert refunded["status"] == "refunded"
    assert refunded["gross_amount"] == Decimal("-5.00")


def test_accepted_schema_is_the_table_schema_plus_line():
    result = clean(raw_frame(ORDER_ROWS), ORDERS, OPTS)
    expected = {k: v for k, v in ORDERS.polars_schema().items() if k != "customer_key"}
    expected["__line"] = pl.Int64()
    assert dict(result.accepted.collect_schema()) == expected
    assert result.accepted.collect_schema()["ordered_at"] == pl.Datetime("us", "UTC")
    assert result.accepted.collect_schema()["gross_amount"] == pl.Decimal(18, 2)


def test_status_map_option_rescues_an_unknown_status():
    opts = CleanOptions(now=NOW, status_map={"Weird": "pending"})
    result = clean(raw_frame({k: v[8:9] for k, v in ORDER_ROWS.items()}), ORDERS, opts)
    assert result.accepted.collect()["status"].to_list() == ["pending"]
    assert result.rejects.collect().height == 0


def test_customers_derived_fields():
    rows = {
        "first_name": ["三", "John", None, "四"],
        "last_name": ["张", "Smith", None, "李"],
        "email": ["Z@Q.com ", None, None, "bad-email"],
        "phone": ["138-0013-8000", None, None, None],
        "gender": ["男", "female", None, None],
        "birth_date": ["1985年3月2日", None, None, "1850-01-01"],
    }
    result = clean(raw_frame(rows), CUSTOMERS, CleanOptions(phone_region="CN", now=NOW))
    accepted = result.accepted.collect().to_dicts()
    rejects = result.rejects.collect()
    assert len(accepted) == 2
    zhang, john = accepted
    assert zhang["full_name"] == "张三"  # CJK: last + first, no space
    assert john["full_name"] == "John Smith"
    assert zhang["email"] == "z@q.com" and zhang["email_raw"] == "Z@Q.com"
    assert zhang["phone"] == "+8613800138000" and zhang["phone_raw"] == "138-0013-8000"
    assert zhang["gender"] == "m" and john["gender"] == "f"
    assert zhang["birth_date"] == date(1985, 3, 2)
    key = "z@q.com|+8613800138000|张三|三|张"
    assert zhang["source_record_id"] == "h:" + hashlib.sha256(key.encode()).hexdigest()[:16]
    john_key = "||John Smith|John|Smith"
    assert john["source_record_id"] == "h:" + hashlib.sha256(john_key.encode()).hexdigest()[:16]
    got = dict(zip(rejects["__line"].to_list(), rejects["reason_code"].to_list(), strict=True))
    # line 4: nothing to identify the customer (no id, so no hash either);
    # line 5: has a name (so a hashed id, an invalid email is just null) but a birth date < 1900
    assert got == {4: "missing_key", 5: "bad_date"}


def test_tickets_without_customer_are_rejected():
    rows = {
        "ticket_id": ["T1", "T2"],
        "customer_email": ["x@y.com", None],
        "created_at": ["2025-03-01 09:00", "2025-03-01 09:00"],
        "status": ["Solved", "open"],
    }
    result = clean(raw_frame(rows), TICKETS, CleanOptions(now=NOW))
    assert result.accepted.collect()["status"].to_list() == ["solved"]
    rejects = result.rejects.collect()
    assert rejects["reason_code"].to_list() == ["missing_customer"]
    assert rejects["__line"].to_list() == [3]


def test_survey_scores():
    rows = {
        "response_id": ["r1", "r2", "r3", "r4"],
        "responded_at": ["2025-03-01"] * 4,
        "nps": ["9", "-99", "11", "abc"],
        "csat": ["4", "-2", None, None],
    }
    result = clean(raw_frame(rows), SURVEY_RESPONSES, CleanOptions(now=NOW))
    accepted = result.accepted.collect()
    assert accepted["nps"].to_list() == [9.0, None]
    assert accepted["csat"].to_list() == [4.0, None]
    rejects = result.rejects.collect()
    got = dict(zip(rejects["__line"].to_list(), rejects["reason_code"].to_list(), strict=True))
    assert got == {4: "bad_score", 5: "bad_number"}


def test_order_lines_derive_line_amount_exactly():
    rows = {
        "order_id": ["1", "1", "2"],
        "quantity": ["1.0", "2.5", "1"],
        "unit_price": ["$19.99", "3.99", "-4.00"],
    }
    result = clean(raw_frame(rows), ORDER_LINES, CleanOptions(now=NOW))
    accepted = result.accepted.collect()
    # 1.0 × 19.99 = 19.99; 2.5 × 3.99 = 9.975 → 9.98 (half to even)
    assert accepted["line_amount"].to_list() == [Decimal("19.99"), Decimal("9.98")]
    assert accepted["quantity"].to_list() == [1.0, 2.5]
    assert result.rejects.collect()["reason_code"].to_list() == ["negative_amount"]


def test_currency_default_and_absent_columns_are_typed_nulls():
    frame = raw_frame({"order_id": ["9"], "ordered_at": ["2025-01-01"], "gross_amount": ["1"]})
    result = clean(frame, ORDERS, CleanOptions(currency="usd", now=NOW))
    row = result.accepted.collect()
    assert row["currency"].to_list() == ["USD"]
    assert row["store"].to_list() == [None]
    assert row.schema["cost_amount"] == pl.Decimal(18, 2)


def test_a_ticket_known_only_by_name_is_kept_for_identity_resolution():
    rows = {
        "ticket_id": ["T1", "T2"],
        "customer_name": ["zhang wei", None],
        "created_at": ["2025-03-01 09:00", "2025-03-01 09:00"],
    }
    result = clean(raw_frame(rows), TICKETS, CleanOptions(now=NOW))
    assert result.accepted.collect()["customer_name"].to_list() == ["zhang wei"]
    assert result.rejects.collect()["__line"].to_list() == [3]


def test_desk_minutes_fill_reply_and_resolution_times_and_negative_ones_are_rejected():
    rows = {
        "ticket_id": ["T1", "T2", "T3"],
        "customer_email": ["a@x.com"] * 3,
        "created_at": ["2025-03-01 09:00:00 +0000"] * 3,
        "resolved_at": [None, "2025-03-02 09:00:00 +0000", None],
        "first_response_minutes": ["90", "1.5", "-12"],
        "resolution_minutes": ["2880", "60", None],
    }
    result = clean(raw_frame(rows), TICKETS, CleanOptions(now=NOW))
    got = result.accepted.collect()
    base = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    # 90 min → 10:30; 1.5 min → 09:01:30; resolved: 2880 min = 2 days, but a given timestamp wins
    assert got["first_response_at"].to_list() == [
        datetime(2025, 3, 1, 10, 30, tzinfo=UTC),
        datetime(2025, 3, 1, 9, 1, 30, tzinfo=UTC),
    ]
    assert got["resolved_at"].to_list() == [
        datetime(2025, 3, 3, 9, 0, tzinfo=UTC),
        datetime(2025, 3, 2, 9, 0, tzinfo=UTC),
    ]
    assert base < got["first_response_at"][0]
    rejects = result.rejects.collect()
    assert rejects["reason_code"].to_list() == ["bad_number"]
    assert "negative duration" in rejects["reason"][0]


def test_negative_marketing_spend_is_rejected():
    rows = {
        "date": ["2025-03-01", "2025-03-02"],
        "channel": ["paid_search", "paid_search"],
        "cost": ["12.50", "-3.00"],
    }
    result = clean(raw_frame(rows), MARKETING_SPEND, CleanOptions(now=NOW))
    assert result.accepted.collect()["cost"].to_list() == [Decimal("12.50")]
    assert result.rejects.collect()["reason_code"].to_list() == ["negative_amount"]
