"""Golden records: a customer with a single record gets, column by column, what the grouped
rules give for that record (the shortcut for single-record customers changes nothing)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from crmkit.identity import resolve
from crmkit.identity.survivorship import _grouped, _prepare, _single, check_rules, golden_records
from crmkit.schema import CUSTOMERS

from .conftest import records

UTC = dt.UTC


def _singles() -> pl.DataFrame:
    rows = [
        {"id": "1", "full_name": "A", "tags": ["b", "a", "b"], "loyalty_member": None},
        {"id": "2", "full_name": "B", "tags": None, "loyalty_member": True, "email": "b@x.com"},
        {"id": "3", "full_name": "C", "tags": [], "loyalty_member": False, "phone": "+861"},
        {"id": "4", "full_name": "D", "tags": ["x", None], "referred_by": "1"},
        {"id": "5", "last_seen_at": dt.datetime(2025, 1, 1, tzinfo=UTC), "gender": "f"},
    ]
    recs = records(rows)
    keys = [f"K{i}" for i in range(recs.height)]
    return recs.with_columns(
        customer_key=pl.Series(keys), _g=pl.int_range(pl.len()), rid=pl.int_range(pl.len())
    )


def test_single_record_customers_match_the_grouped_rules() -> None:
    recs = _singles()
    imap = recs.select("source", "source_record_id", "customer_key")
    for rules in ({}, {"loyalty_member": "any", "tags": "union", "city": "most_frequent"}):
        chosen = check_rules(rules)
        prepared = _prepare(recs, imap, ["crm"])
        cols = [c for c in CUSTOMERS.polars_schema() if c != "customer_key"]
        single = _single(prepared, chosen, cols).sort("customer_key")
        grouped = _grouped(prepared, chosen, cols).sort("customer_key")
        assert_frame_equal(single, grouped)
    golden = golden_records(recs, imap).sort("customer_key")
    assert golden["tags"].to_list() == [["a", "b"], [], [], [None, "x"], []]
    assert golden["loyalty_member"].to_list() == [False, True, False, False, False]
    assert golden["referred_by"][3] == "K0"  # the referrer's customer key
    assert golden["emails"].to_list() == [[], ["b@x.com"], [], [], []]


def test_golden_records_of_a_resolution_are_sorted_by_key() -> None:
    res = resolve(
        records(
            [
                {"id": "a", "full_name": "张伟", "email": "zw@qq.com", "tags": ["vip"]},
                {"source": "shop", "id": "b", "full_name": "Zhang Wei", "email": "zw@qq.com"},
                {"id": "c", "full_name": "Mary Smith"},
            ]
        ),
        previous=None,
        settings={},
        run_id="r",
    )
    c = res.customers
    assert c["customer_key"].is_sorted()
    assert sorted(c["record_count"].to_list()) == [1, 2]
    zw = c.filter(pl.col("record_count") == 2).row(0, named=True)
    assert zw["sources"] == ["crm", "shop"] and zw["tags"] == ["vip"]
