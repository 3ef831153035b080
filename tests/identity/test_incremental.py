"""Stable keys across runs: new records join existing customers, keys survive, merges and splits
are recorded with run id and reason; the same input always gives the same output."""

from __future__ import annotations

import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

from crmkit.identity import resolve
from crmkit.identity.incremental import assign_keys, touched

from .conftest import key_of, records

BASE = [
    {
        "source": "crm",
        "id": "a",
        "full_name": "张伟",
        "email": "zw@qq.com",
        "phone": "+8613800138000",
    },
    {"source": "shop", "id": "a1", "full_name": "Zhang Wei", "email": "zw@qq.com"},
    {"source": "pos", "id": "a2", "full_name": "張偉", "phone": "+8613800138000"},
    {"source": "crm", "id": "b", "full_name": "李娜", "email": "lina@163.com"},
    {"source": "shop", "id": "b1", "full_name": "Li Na", "email": "lina@163.com"},
    {"source": "pos", "id": "c", "full_name": "李娜", "phone": "+8613952718463"},
    {"source": "crm", "id": "d", "full_name": "Mary Smith", "email": "mary@gmail.com"},
]


def test_same_input_gives_identical_output() -> None:
    r1 = resolve(records(BASE), previous=None, settings={}, run_id="r1")
    r2 = resolve(records(BASE), previous=None, settings={}, run_id="r1")
    assert_frame_equal(r1.identity_map, r2.identity_map)
    assert_frame_equal(r1.customers, r2.customers)
    assert_frame_equal(r1.links, r2.links)


def test_rerun_without_new_records_changes_nothing() -> None:
    r1 = resolve(records(BASE), previous=None, settings={}, run_id="r1")
    r2 = resolve(records(BASE), previous=r1.identity_map, settings={}, run_id="r2")
    assert_frame_equal(
        r1.identity_map.drop("run_id", "match_rule", "match_score"),
        r2.identity_map.drop("run_id", "match_rule", "match_score"),
    )
    assert r2.changes.height == 0
    assert r2.report["incremental"] is True


def test_new_records_join_existing_customers_and_keys_stay() -> None:
    r1 = resolve(records(BASE), previous=None, settings={}, run_id="r1")
    a = key_of(r1, "crm", "a")
    new = [
        {"source": "desk", "id": "t1", "full_name": "zhang wei", "email": "ZW@qq.com"},
        {"source": "pos", "id": "n1", "full_name": "刘洋", "phone": "+8618611112222"},
    ]
    r2 = resolve(records(BASE + new), previous=r1.identity_map, settings={}, run_id="r2")
    for src, rid in [("crm", "a"), ("shop", "a1"), ("pos", "a2"), ("crm", "b"), ("crm", "d")]:
        assert key_of(r2, src, rid) == key_of(r1, src, rid)
    assert key_of(r2, "desk", "t1") == a
    new_key = key_of(r2, "pos", "n1")
    assert r2.changes.select("change", "customer_key", "run_id").rows() == [("new", new_key, "r2")]


def test_new_evidence_merges_two_customers_and_records_it() -> None:
    r1 = resolve(records(BASE), previous=None, settings={}, run_id="r1")
    b, c = key_of(r1, "crm", "b"), key_of(r1, "pos", "c")
    assert b != c  # 李娜 by e-mail and 李娜 by phone: no evidence yet that they are one person
    bridge = [
        {
            "source": "crm",
            "id": "e",
            "full_name": "李娜",
            "email": "lina@163.com",
            "phone": "+8613952718463",
        }
    ]
    r2 = resolve(records(BASE + bridge), previous=r1.identity_map, settings={}, run_id="r2")
    assert key_of(r2, "crm", "b") == key_of(r2, "pos", "c") == b  # the bigger customer's key
    merge = r2.changes.filter(pl.col("change") == "merge")
    assert merge.select("customer_key", "other_key").rows() == [(b, c)]
    assert merge["reason"][0].startswith("linked by")


def test_cannot_link_added_later_splits_and_records_it() -> None:
    r1 = resolve(records(BASE), previous=None, settings={}, run_id="r1")
    a = key_of(r1, "crm", "a")
    cfg = {"cannot_link": [["crm:a", "pos:a2"]]}
    r2 = resolve(records(BASE), previous=r1.identity_map, settings=cfg, run_id="r2")
    assert key_of(r2, "crm", "a") == a  # the larger part keeps the key
    assert key_of(r2, "pos", "a2") != a
    split = r2.changes.filter(pl.col("change") == "split")
    assert split.select("customer_key", "other_key").rows() == [(key_of(r2, "pos", "a2"), a)]


def test_assign_keys_carries_keys_by_overlap() -> None:
    feat = pl.DataFrame(
        {"rid": [0, 1, 2, 3, 4], "source": ["s"] * 5, "source_record_id": list("abcde")}
    )
    prev = pl.Series(["K1", "K1", "K2", None, "K3"])
    # clusters: {0,1,2} merges K1 (2 records) and K2 (1); {3} is new; {4} keeps K3
    labels = np.array([0, 0, 0, 3, 4])
    keys, changes = assign_keys(feat, labels, prev, "r9")
    assert keys.to_list()[:3] == ["K1", "K1", "K1"] and keys[4] == "K3"
    assert keys[3] not in ("K1", "K2", "K3") and keys[3].startswith("C")
    assert set(changes.select("change", "other_key").rows()) == {("new", None), ("merge", "K2")}


def test_touched_marks_every_record_whose_key_can_change() -> None:
    # previous customers (by smallest rid): {0, 1}, {2, 3}, {4}, {7}, {8}; 5 and 6 are new
    previous = np.array([0, 0, 2, 2, 4, -1, -1, 7, 8])
    # now: {0, 1} as before; {2} and {3} split; {4, 5} gains a new record; {6} is new;
    # {7, 8} merges two previous customers
    labels = np.array([0, 0, 2, 3, 4, 4, 6, 7, 7])
    assert touched(labels, previous).tolist() == [False, False] + [True] * 7


def test_assign_keys_on_the_touched_records_only_gives_the_same_keys() -> None:
    feat = pl.DataFrame(
        {"rid": list(range(6)), "source": ["s"] * 6, "source_record_id": list("abcdef")}
    )
    prev = pl.Series(["K1", "K1", "K2", "K3", None, "K4"])
    previous = np.array([0, 0, 2, 3, -1, 5])
    labels = np.array([0, 0, 2, 2, 4, 5])  # K2 and K3 merge; e is new; K1 and K4 unchanged
    all_keys, all_changes = assign_keys(feat, labels, prev, "r")
    sub = np.flatnonzero(touched(labels, previous))
    assert sub.tolist() == [2, 3, 4]
    keys, changes = assign_keys(
        feat[sub], labels[sub], prev.gather(sub), "r", taken=prev.drop_nulls()
    )
    assert keys.to_list() == all_keys.gather(sub).to_list()
    assert_frame_equal(changes, all_changes)


def test_a_new_customer_key_is_the_sha256_of_its_smallest_record(monkeypatch) -> None:
    import hashlib

    from crmkit.identity import incremental

    monkeypatch.setattr(incremental, "_CHUNK", 2)  # several chunks for five records
    ids = ["a", "b", "c", "d", "e"]
    feat = pl.DataFrame({"rid": range(5), "source": ["shop"] * 5, "source_record_id": ids})
    labels = np.array([0, 0, 2, 3, 4])  # a and b are one customer
    prev = pl.Series([None] * 5, dtype=pl.String)
    keys, changes = incremental.assign_keys(feat, labels, prev, "r1")

    def key(record: str) -> str:
        return "C" + hashlib.sha256(record.encode()).hexdigest()[:15].upper()

    expected = [key("shop:a"), key("shop:a"), key("shop:c"), key("shop:d"), key("shop:e")]
    assert keys.to_list() == expected
    assert sorted(changes["customer_key"].to_list()) == sorted(set(expected))
    assert set(changes["change"].to_list()) == {"new"}
