"""Incremental state: with the stored features and golden records, an incremental run gives the
same tables as one that starts from the identity map alone, re-normalises only what is new or
changed, and rebuilds only the customers that changed."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crmkit.identity import Resolution, resolve
from crmkit.identity.state import FEATURES_SCHEMA

from .conftest import key_of, records
from .febrl import as_records, febrl_records
from .test_incremental import BASE


def with_state(recs: pl.DataFrame, r1: Resolution, run_id: str = "r2", **kw: Any) -> Resolution:
    return resolve(
        recs,
        previous=r1.identity_map,
        previous_features=r1.features,
        previous_customers=r1.customers,
        settings=kw.pop("settings", {}),
        run_id=run_id,
        **kw,
    )


def assert_same(a: Resolution, b: Resolution) -> None:
    for name in ("identity_map", "customers", "links", "changes", "features"):
        assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


@pytest.fixture(scope="module")
def febrl4() -> tuple[pl.DataFrame, Resolution]:
    """FEBRL 4: file A resolved first; then both files (5,000 new records, most of them
    duplicates of people in A)."""
    recs = as_records(febrl_records("febrl4")[0])
    r1 = resolve(recs.filter(pl.col("source") == "a"), previous=None, settings={}, run_id="r1")
    return recs, r1


def test_features_table_follows_the_identity_map(febrl4) -> None:
    _, r1 = febrl4
    f = r1.features
    assert f.schema == FEATURES_SCHEMA
    assert f.height == r1.identity_map.height
    assert f["source_record_id"].to_list() == r1.identity_map["source_record_id"].to_list()
    assert f["state"].n_unique() == 1


def test_stored_state_gives_the_same_tables_as_starting_from_the_map(febrl4) -> None:
    recs, r1 = febrl4
    plain = resolve(recs, previous=r1.identity_map, settings={}, run_id="r2")
    stateful = with_state(recs, r1)
    assert stateful.report["changes"].get("new", 0) > 0  # the run did real work
    assert_same(plain, stateful)


def test_stored_state_with_removed_records_matches_starting_from_the_map(febrl4) -> None:
    recs, r1 = febrl4
    # drop 50 old records: their customers shrink or disappear
    gone = r1.identity_map["source_record_id"].head(50)
    fewer = recs.filter(~pl.col("source_record_id").is_in(gone.implode()))
    assert_same(
        resolve(fewer, previous=r1.identity_map, settings={}, run_id="r2"), with_state(fewer, r1)
    )


def test_changed_settings_discard_the_stored_features(febrl4) -> None:
    recs, r1 = febrl4
    cfg = {"guards": {"max_names_per_value": 2}}
    plain = resolve(recs, previous=r1.identity_map, settings=cfg, run_id="r2")
    assert_same(plain, with_state(recs, r1, settings=cfg))


def test_features_of_another_run_are_not_used(febrl4) -> None:
    recs, r1 = febrl4
    other = resolve(recs.head(3000), previous=None, settings={}, run_id="x")
    mixed = resolve(
        recs,
        previous=r1.identity_map,
        previous_features=other.features,  # does not describe r1's records
        previous_customers=other.customers,
        settings={},
        run_id="r2",
    )
    assert_same(resolve(recs, previous=r1.identity_map, settings={}, run_id="r2"), mixed)


def test_unchanged_customers_are_reused_and_changed_ones_rebuilt() -> None:
    r1 = resolve(records(BASE), previous=None, settings={}, run_id="r1")
    mary, a = key_of(r1, "crm", "d"), key_of(r1, "crm", "a")
    # mark the stored golden records: a rebuilt one loses the mark, a reused one keeps it
    marked = r1.customers.with_columns(region=pl.lit("stored"))
    new = [{"source": "desk", "id": "t1", "full_name": "zhang wei", "email": "zw@qq.com"}]
    r2 = resolve(
        records(BASE + new),
        previous=r1.identity_map,
        previous_features=r1.features,
        previous_customers=marked,
        settings={},
        run_id="r2",
    )
    region = dict(r2.customers.select("customer_key", "region").iter_rows())
    assert region[mary] == "stored"  # untouched customer
    assert region[a] is None  # gained the ticket record: rebuilt from its records
    assert r2.customers.filter(pl.col("customer_key") == a)["record_count"].item() == 4
    assert r2.customers["customer_key"].is_sorted()


def test_a_record_whose_contact_points_changed_is_matched_again() -> None:
    r1 = resolve(records(BASE), previous=None, settings={}, run_id="r1")
    b, c = key_of(r1, "crm", "b"), key_of(r1, "pos", "c")
    assert b != c
    # the CRM contact 李娜 now also carries the phone of the POS customer 李娜
    changed = [
        {**r, "phone": "+8613952718463"} if (r["source"], r["id"]) == ("crm", "b") else r
        for r in BASE
    ]
    r2 = with_state(records(changed), r1)
    assert key_of(r2, "crm", "b") == key_of(r2, "pos", "c") == b  # the bigger customer's key
    assert r2.changes.select("change", "customer_key", "other_key").rows() == [("merge", b, c)]
    golden = r2.customers.filter(pl.col("customer_key") == b).row(0, named=True)
    assert golden["record_count"] == 3
    assert golden["phones"] == ["+8613952718463"]
    assert c not in r2.customers["customer_key"].to_list()
    # the stored features now hold the new phone
    f = r2.features.filter(pl.col("source_record_id") == "b")
    assert f["phone_key"].item() == "+8613952718463"


def test_a_changed_non_matching_field_only_rebuilds_the_golden_record() -> None:
    r1 = resolve(records(BASE), previous=None, settings={}, run_id="r1")
    changed = [
        {**r, "region": "华东"} if (r["source"], r["id"]) == ("crm", "d") else r for r in BASE
    ]
    r2 = with_state(records(changed), r1)
    mary = key_of(r1, "crm", "d")
    assert key_of(r2, "crm", "d") == mary
    assert r2.changes.height == 0
    assert r2.customers.filter(pl.col("customer_key") == mary)["region"].item() == "华东"
    assert_frame_equal(r1.features.drop("fp_record"), r2.features.drop("fp_record"))
