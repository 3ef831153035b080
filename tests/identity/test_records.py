"""Person-records: customer records plus one record per distinct fact reference, with ids that
join facts back to the identity map."""

from __future__ import annotations

import datetime as dt
import hashlib

import polars as pl

from crmkit.identity import build_records, reference_id

UTC = dt.UTC


def _facts() -> dict[str, pl.LazyFrame]:
    crm = pl.DataFrame(
        {
            "source": ["crm", "crm"],
            "source_record_id": ["1", "2"],
            "full_name": ["张伟", "李娜"],
            "email": ["zw@qq.com", None],
            "signup_at": [dt.datetime(2024, 1, 1, tzinfo=UTC)] * 2,
        }
    )
    t = [dt.datetime(2025, 1, d, tzinfo=UTC) for d in range(1, 6)]
    orders = pl.DataFrame(
        {
            "source": ["shop", "shop", "shop", "pos", "crm"],
            "order_id": ["#1", "#2", "#3", "A1", "X1"],
            "customer_id": [None, None, None, None, "2"],
            "customer_email": ["zw@qq.com", "zw@qq.com", "zw@qq.com", None, None],
            "customer_phone": [None, None, None, "+8613800138000", None],
            "customer_name": ["Zhang Wei", "Zhang Wei", "zhang wei", "张伟", None],
            "ordered_at": t,
        }
    )
    tickets = pl.DataFrame(  # no customer_id / customer_phone columns at all
        {
            "source": ["desk"],
            "ticket_id": ["9"],
            "customer_email": ["zw@qq.com"],
            "customer_name": ["Zhang Wei"],
            "created_at": [t[0]],
        }
    )
    return {"customer_records": crm.lazy(), "orders": orders.lazy(), "tickets": tickets.lazy()}


def test_one_record_per_distinct_reference() -> None:
    recs = build_records(_facts()).collect()
    assert recs.select("source", "origin_table").rows() == [
        ("crm", "customers"),
        ("crm", "customers"),
        ("desk", "tickets"),
        ("pos", "orders"),
        ("shop", "orders"),
        ("shop", "orders"),
    ]
    # an order of crm customer 2 is that customer's record, with the order's time as last seen
    li = recs.filter(pl.col("source_record_id") == "2")
    assert li["full_name"].to_list() == ["李娜"]
    assert li["last_seen_at"].to_list() == [dt.datetime(2025, 1, 5, tzinfo=UTC)]
    # fact counts: customer 2 has one order (X1); customer 1 is named by no fact's id
    by_id = dict(
        recs.filter(pl.col("source") == "crm").select("source_record_id", "fact_count").rows()
    )
    assert by_id == {"1": 0, "2": 1}
    zw = recs.filter((pl.col("source") == "shop") & (pl.col("full_name") == "Zhang Wei"))
    assert zw["fact_count"].to_list() == [2]
    assert zw["first_seen_at"].to_list() == [dt.datetime(2025, 1, 1, tzinfo=UTC)]


def test_reference_id_is_a_sha256_of_email_phone_name() -> None:
    recs = build_records(_facts()).collect()
    expected = "ref:" + hashlib.sha256("\x1f+8613800138000\x1f张伟".encode()).hexdigest()[:20]
    assert recs.filter(pl.col("source") == "pos")["source_record_id"].to_list() == [expected]


def test_every_fact_joins_to_a_record() -> None:
    tables = _facts()
    recs = build_records(tables).collect().select("source", "source_record_id")
    for name in ("orders", "tickets"):
        as_frame = reference_id(tables[name]).collect()
        as_expr = (
            tables[name]
            .collect()
            .with_columns(
                pl.lit(None, pl.String).alias(c)
                for c in ("customer_id", "customer_phone")
                if c not in tables[name].collect_schema().names()
            )
            .with_columns(reference_id())
        )
        assert as_frame["ref_record_id"].to_list() == as_expr["ref_record_id"].to_list()
        joined = as_frame.join(
            recs,
            left_on=["source", "ref_record_id"],
            right_on=["source", "source_record_id"],
            how="anti",
        )
        assert joined.height == 0


def test_reference_id_row_by_row_equals_on_distinct_values() -> None:
    frame = pl.DataFrame(
        {
            "customer_id": ["C1", " ", None, None, None, "C2"],
            "customer_email": ["a@x.cn", "a@x.cn", "a@x.cn", None, None, None],
            "customer_phone": [None, None, "+8613800138000", None, None, "+8613800138000"],
            "customer_name": ["张伟", None, "张伟", "李娜", None, None],
        }
    )
    sha = lambda s: "ref:" + hashlib.sha256(s.encode()).hexdigest()[:20]  # noqa: E731
    expected = [
        "C1",
        sha("a@x.cn\x1f\x1f"),
        sha("a@x.cn\x1f+8613800138000\x1f张伟"),
        sha("\x1f\x1f李娜"),
        None,
        "C2",
    ]
    for distinct in (False, True):
        got = frame.select(reference_id(distinct=distinct))["ref_record_id"].to_list()
        assert got == expected
