"""The resolution report: counts that add up, guarded values, least-certain merges."""

from __future__ import annotations

import polars as pl

from crmkit.identity import resolve

from .conftest import records
from .febrl import as_records, febrl_records
from .test_incremental import BASE


def test_report_counts_add_up() -> None:
    extra = [{"source": "shop", "id": "z", "full_name": "Wang Fang", "email": "test@test.com"}]
    res = resolve(records(BASE + extra), previous=None, settings={}, run_id="r1")
    rep = res.report
    assert rep["records_in"] == len(BASE) + 1 == res.identity_map.height
    assert rep["customers_out"] == res.customers.height
    sizes = rep["clusters_by_size"]
    assert (sizes["size"] * sizes["customers"]).sum() == rep["records_in"]
    assert sizes["customers"].sum() == rep["customers_out"]
    # the same histogram counted from the identity map's keys
    per_key = res.identity_map.group_by("customer_key").agg(size=pl.len())
    expected = per_key.group_by("size").agg(customers=pl.len()).sort("size")
    assert sizes.rows() == expected.rows()
    assert sum(rep["records_by_source"].values()) == rep["records_in"]
    assert rep["links_by_rule"]["email"] >= 2
    assert rep["guarded_values"]["value"].to_list() == ["test@test.com"]
    assert rep["changes"] == {"new": rep["customers_out"]}


def test_least_certain_merges_are_the_weakest_accepted_links() -> None:
    recs, _ = febrl_records("febrl1")
    res = resolve(as_records(recs), previous=None, settings={}, run_id="r1")
    least = res.report["least_certain"]
    assert least.height == 20
    probs = least["probability"].to_list()
    assert probs == sorted(probs)
    accepted = res.links.filter((pl.col("status") == "accepted") & (pl.col("rule") == "fs"))
    assert probs[0] == accepted["probability"].min()
    model = res.report["model"]
    assert set(model["field"].to_list()) >= {"name", "birth", "location"}
    # agreement on a name is evidence for a match, disagreement against
    name = dict(model.filter(pl.col("field") == "name").select("level", "weight").iter_rows())
    assert name[4] > 0 > name[0]
