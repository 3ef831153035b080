"""Guards against false merges: placeholder and shared contact points, family phones, configured
must-link / cannot-link pairs, and the cluster size cap."""

from __future__ import annotations

import polars as pl

from crmkit.identity import resolve

from .conftest import key_of, records

NAMES = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "黄敏", "赵强", "吴艳", "周杰"]


def test_placeholder_email_never_links_different_people() -> None:
    recs = records(
        [
            {"source": "shop", "id": i, "full_name": n, "email": "test@test.com"}
            for i, n in enumerate(["Li Na", "Zhang Wei", "Wang Fang"])
        ]
    )
    res = resolve(recs, previous=None, settings={}, run_id="r1")
    assert res.identity_map["customer_key"].n_unique() == 3
    guarded = res.report["guarded_values"]
    assert guarded.filter(pl.col("value") == "test@test.com")["reason"].to_list() == ["blocklist"]


def test_placeholder_email_with_same_name_still_needs_more_than_the_email() -> None:
    recs = records(
        [
            {"source": "shop", "id": 1, "full_name": "Li Na", "email": "test@test.com"},
            {"source": "shop", "id": 2, "full_name": "Li Na", "email": "none@none.com"},
            {"source": "crm", "id": 3, "full_name": "Li Na", "email": "test@test.com"},
        ]
    )
    res = resolve(recs, previous=None, settings={}, run_id="r1")
    rules = set(res.identity_map["match_rule"].to_list())
    assert "email" not in rules  # the deterministic e-mail rule never fires on a placeholder


def test_shared_placeholder_phone_cannot_build_a_giant_cluster() -> None:
    named = [
        {
            "source": "pos",
            "id": f"n{i}",
            "full_name": NAMES[i % 10] + str(i),
            "phone": "+8613800000000",
        }
        for i in range(150)
    ]
    nameless = [{"source": "pos", "id": f"x{i}", "phone": "+8613800000000"} for i in range(150)]
    res = resolve(records(named + nameless), previous=None, settings={}, run_id="r1")
    assert res.report["largest_cluster"] == 1
    assert res.customers.height == 300


def test_value_shared_by_many_names_is_guarded() -> None:
    recs = records(
        [
            {"source": "pos", "id": i, "full_name": n, "phone": "+8613952718463"}
            for i, n in enumerate(NAMES[:5])
        ]
    )
    res = resolve(recs, previous=None, settings={}, run_id="r1")
    g = res.report["guarded_values"]
    assert g.filter(pl.col("value") == "+8613952718463")["reason"].to_list() == [
        "shared by many names"
    ]
    assert res.customers.height == 5
    # The frequency cap is a setting: with a higher cap the value is no longer guarded, and
    # the different names still keep the five apart.
    res2 = resolve(
        recs, previous=None, settings={"guards": {"max_names_per_value": 10}}, run_id="r1"
    )
    assert res2.report["guarded_values"].height == 0
    assert res2.customers.height == 5


def test_family_phone_links_each_name_but_not_the_family() -> None:
    phone = "+8613552718469"
    recs = records(
        [
            {"source": "crm", "id": "a", "full_name": "王芳", "phone": phone, "email": "wf@qq.com"},
            {"source": "pos", "id": "a2", "full_name": "王芳", "phone": phone},
            {"source": "crm", "id": "b", "full_name": "李强", "phone": phone, "email": "lq@qq.com"},
            {"source": "pos", "id": "b2", "full_name": "Li Qiang", "phone": phone},
            {"source": "pos", "id": "x", "phone": phone},  # receipt without a name: whose?
        ]
    )
    res = resolve(recs, previous=None, settings={}, run_id="r1")
    assert key_of(res, "crm", "a") == key_of(res, "pos", "a2")
    assert key_of(res, "crm", "b") == key_of(res, "pos", "b2")
    assert key_of(res, "crm", "a") != key_of(res, "crm", "b")
    x = key_of(res, "pos", "x")
    assert x not in (key_of(res, "crm", "a"), key_of(res, "crm", "b"))
    refused = res.links.filter(pl.col("status") == "refused")
    assert refused.filter(pl.col("reason").str.starts_with("ambiguous")).height == 1


def test_must_link_and_cannot_link() -> None:
    recs = records(
        [
            {"source": "crm", "id": 1, "full_name": "Zhang Wei", "email": "zw@qq.com"},
            {"source": "shop", "id": 2, "full_name": "张伟", "email": "zw@qq.com"},
            {"source": "desk", "id": 3, "full_name": "W. Z.", "email": "other@163.com"},
        ]
    )
    base = resolve(recs, previous=None, settings={}, run_id="r1")
    assert key_of(base, "crm", "1") == key_of(base, "shop", "2")
    assert key_of(base, "crm", "1") != key_of(base, "desk", "3")
    cfg = {"must_link": [["crm:1", "desk:3"]], "cannot_link": [["crm:1", "shop:2"]]}
    res = resolve(recs, previous=None, settings=cfg, run_id="r1")
    assert key_of(res, "crm", "1") == key_of(res, "desk", "3")
    assert key_of(res, "crm", "1") != key_of(res, "shop", "2")
    refused = res.links.filter(pl.col("status") == "refused")
    assert "cannot_link" in refused["reason"].to_list()
    assert res.identity_map.filter(pl.col("source") == "desk")["match_rule"][0] == "must_link"


def test_oversized_cluster_is_resplit() -> None:
    recs = records(
        [
            {"source": "shop", "id": i, "full_name": "Li Na", "email": "lina@qq.com"}
            for i in range(8)
        ]
    )
    res = resolve(
        recs, previous=None, settings={"thresholds": {"max_cluster_records": 5}}, run_id="r1"
    )
    assert res.report["largest_cluster"] <= 5
    assert "cluster safety" in " ".join(
        res.links.filter(pl.col("status") == "refused")["reason"].to_list()
    )


def test_name_only_record_joins_the_only_customer_with_that_name() -> None:
    recs = records(
        [
            {"source": "crm", "id": 1, "full_name": "张伟", "email": "zw@qq.com"},
            {"source": "crm", "id": 2, "full_name": "王芳", "email": "wf1@qq.com"},
            {"source": "crm", "id": 3, "full_name": "王芳", "email": "wf2@163.com"},
            {"source": "desk", "id": "t1", "full_name": "zhang wei"},  # ticket: name only
            {"source": "desk", "id": "t2", "full_name": "wang fang"},  # two 王芳: whose?
            {"source": "pos", "id": "p1", "full_name": "張偉", "phone": "+8613800000000"},
        ]
    )
    res = resolve(recs, previous=None, settings={}, run_id="r1")
    zw = key_of(res, "crm", "1")
    assert key_of(res, "desk", "t1") == zw
    assert key_of(res, "pos", "p1") == zw  # the placeholder phone is no contact point
    assert key_of(res, "desk", "t2") not in (key_of(res, "crm", "2"), key_of(res, "crm", "3"))
    assert key_of(res, "crm", "2") != key_of(res, "crm", "3")
    off = resolve(
        recs, previous=None, settings={"thresholds": {"unique_name_attach": False}}, run_id="r1"
    )
    assert key_of(off, "desk", "t1") != key_of(off, "crm", "1")
