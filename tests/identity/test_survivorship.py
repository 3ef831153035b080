"""Golden records: a customer with a single record gets, column by column, what the grouped
rules give for that record (the shortcut for single-record customers changes nothing)."""

from __future__ import annotations

import datetime as dt
import random

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


def _oracle_first(rows: list[dict], column: str, key) -> object:
    """The first non-null `column` of `rows` sorted by `key` (plain Python)."""
    for r in sorted(rows, key=key):
        if r[column] is not None:
            return r[column]
    return None


def test_grouped_rules_against_a_plain_python_reading() -> None:
    """Seeded customers of 1-4 records: every grouped rule as the module docstring states it,
    worked out record by record in Python (columns nobody has included)."""
    rng = random.Random(11)
    rows, group = [], []
    for g in range(40):
        for _ in range(rng.randint(1, 4)):
            pick = rng.random
            seen = dt.datetime(2025, 1, 1 + rng.randint(0, 3), tzinfo=UTC) if pick() < 0.8 else None
            rows.append(
                {
                    "id": f"r{len(rows):03d}",
                    "source": rng.choice(["crm", "shop", "pos"]),
                    "origin_table": rng.choice(["customers", "orders"]),
                    "full_name": rng.choice([None, "Ann", "Bo", "Cy"]),
                    "email": rng.choice([None, "a@x.com", "b@x.com", "c@x.com"]),
                    "phone": rng.choice([None, "+8613800000001", "+8613800000002"]),
                    "city": rng.choice([None, "上海", "北京"]),
                    "gender": rng.choice([None, "f", "m"]),
                    "signup_at": seen if pick() < 0.5 else None,
                    "last_seen_at": seen,
                    "tags": rng.choice([None, [], ["vip"], ["b", "a"]]),
                    "loyalty_member": rng.choice([None, True, False]),
                }
            )
            group.append(g)
    recs = records(rows).with_columns(
        customer_key=pl.Series([f"K{g:02d}" for g in group]),
        _g=pl.Series(group),
        rid=pl.int_range(pl.len()),
    )
    prio = ["shop", "crm"]
    imap = recs.select("source", "source_record_id", "customer_key")
    chosen = check_rules({})
    cols = [c for c in CUSTOMERS.polars_schema() if c != "customer_key"]
    got = _grouped(_prepare(recs, imap, prio), chosen, cols).sort("customer_key")

    by_g: dict[int, list[dict]] = {}
    for rid, (r, g) in enumerate(zip(rows, group, strict=True)):
        by_g.setdefault(g, []).append({**r, "rid": rid})
    far = dt.datetime(1, 1, 1, tzinfo=UTC)

    def recent(r):  # descending, nulls last
        t = r["last_seen_at"] or r["signup_at"]
        return (t is None, -(t - far).total_seconds() if t else 0)

    def priority(r):
        rank = prio.index(r["source"]) if r["source"] in prio else len(prio)
        return (rank, 0 if r["origin_table"] == "customers" else 1, *recent(r), r["rid"])

    for g, want in by_g.items():
        row = got.row(g, named=True)
        assert row["record_count"] == len(want)
        for column, listed in (("email", "emails"), ("phone", "phones"), ("source", "sources")):
            assert row[listed] == sorted({r[column] for r in want if r[column] is not None})
        assert row["full_name"] == _oracle_first(want, "full_name", priority)
        assert row["city"] == _oracle_first(
            want, "city", lambda r: (*recent(r), priority(r)[0], r["rid"])
        )
        assert row["email"] == _oracle_first(
            want, "email", lambda r: (*recent(r), priority(r)[0], r["rid"])
        )
        counts: dict[str, int] = {}
        for r in want:
            if r["gender"] is not None:
                counts[r["gender"]] = counts.get(r["gender"], 0) + 1
        assert row["gender"] == min(counts, key=lambda v: (-counts[v], v), default=None)
        times = [r["signup_at"] for r in want if r["signup_at"] is not None]
        assert row["signup_at"] == (min(times) if times else None)
        assert row["tags"] == sorted({t for r in want for t in r["tags"] or []})
        assert row["loyalty_member"] is any(r["loyalty_member"] for r in want)
        # columns no record has: what one empty record gives
        assert row["region"] is None and row["acquisition_channel"] is None
