"""Clustering safety: strong links hold clusters together, weak links cannot chain customers,
records without a name only join an unambiguous customer."""

from __future__ import annotations

import numpy as np
import polars as pl

from crmkit.identity.cluster import cluster, components
from crmkit.identity.settings import identity_settings

SETTINGS = identity_settings({})
NO_CANNOT = pl.DataFrame(schema={"rid_l": pl.Int64, "rid_r": pl.Int64, "rule": pl.String})
NO_CONTACTS = pl.DataFrame(schema={"rid": pl.Int64, "kind": pl.String, "value": pl.String})


def links(rows: list[tuple[int, int, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["rid_l", "rid_r", "rule", "probability"], orient="row").cast(
        {"rid_l": pl.Int64, "rid_r": pl.Int64}
    )


def run(n: int, lk: pl.DataFrame, **kw: object) -> tuple[np.ndarray, pl.DataFrame]:
    return cluster(
        n,
        lk,
        previous_group=kw.get("previous_group", np.full(n, -1)),
        named=kw.get("named", np.ones(n, dtype=bool)),
        contacts=kw.get("contacts", NO_CONTACTS),
        cannot=kw.get("cannot", NO_CANNOT),
        settings=SETTINGS,
    )


def test_components_are_labelled_by_their_smallest_record() -> None:
    lab = components(6, np.array([5, 1]), np.array([3, 2]))
    assert lab.tolist() == [0, 1, 1, 3, 4, 3]


def test_strong_links_cluster_transitively() -> None:
    lab, lk = run(4, links([(0, 1, "email", 0.99), (1, 2, "fs", 0.9999)]))
    assert lab.tolist() == [0, 0, 0, 3]
    assert set(lk["status"].to_list()) == {"accepted"}


def test_a_weak_bridge_cannot_chain_two_customers() -> None:
    # A = {0, 1} and B = {2, 3} are held by strong links; record 4 is weakly similar to both.
    lk = links(
        [
            (0, 1, "email", 1.0),
            (2, 3, "phone", 1.0),
            (0, 4, "fs", 0.97),
            (2, 4, "fs", 0.96),
        ]
    )
    lab, out = run(5, lk)
    assert lab[0] != lab[2]  # A and B stay apart
    assert lab[4] == lab[0]  # the bridge joins its best match only
    refused = out.filter(pl.col("status") == "refused")
    assert refused.select("rid_l", "rid_r").rows() == [(2, 4)]


def test_dense_weak_groups_do_merge() -> None:
    # Three records that all weakly match each other (a typo-ridden person) form one customer.
    lk = links([(0, 1, "fs", 0.97), (1, 2, "fs", 0.98), (0, 2, "fs", 0.96)])
    lab, _ = run(3, lk)
    assert len(set(lab.tolist())) == 1


def test_cannot_link_splits_a_strong_cluster() -> None:
    lk = links([(0, 1, "email", 1.0), (1, 2, "fs", 0.9995), (2, 3, "phone", 1.0)])
    cannot = pl.DataFrame({"rid_l": [0], "rid_r": [3], "rule": ["cannot_link"]}).cast(
        {"rid_l": pl.Int64, "rid_r": pl.Int64}
    )
    lab, out = run(4, lk, cannot=cannot)
    assert lab[0] != lab[3]
    assert lab[0] == lab[1] and lab[2] == lab[3]
    assert out.filter(pl.col("status") == "refused")["rule"].to_list() == ["fs"]


def test_record_without_name_joins_only_an_unambiguous_customer() -> None:
    # 0 and 1 are two customers; 2 shares 0's e-mail; 3 shares a phone owned by both 0 and 1.
    contacts = pl.DataFrame(
        {
            "rid": [0, 0, 1, 2, 3],
            "kind": ["email", "phone", "phone", "email", "phone"],
            "value": ["a@x.cn", "+861", "+861", "a@x.cn", "+861"],
        }
    ).cast({"rid": pl.Int64})
    named = np.array([True, True, False, False])
    lab, out = run(4, links([]), named=named, contacts=contacts)
    assert lab[2] == lab[0]
    assert lab[3] not in (lab[0], lab[1])
    assert "ambiguous contact point: it belongs to 2 customers" in out["reason"].to_list()


def test_a_nameless_records_unique_email_owner_wins_over_an_ambiguous_phone() -> None:
    # Customers 0 and 1 (named). Record 2: e-mail of 0, phone of both → joins 0 by e-mail,
    # through record 0 (the e-mail's first record). Record 3: phone of 1 only → joins 1 by
    # phone. Record 4: e-mail of 0 and phone of 1, no e-mail tie → 0 by e-mail.
    contacts = pl.DataFrame(
        {
            "rid": [0, 0, 1, 1, 2, 2, 3, 4, 4],
            "kind": [
                "email",
                "phone",
                "phone",
                "phone",
                "email",
                "phone",
                "phone",
                "email",
                "phone",
            ],
            "value": ["a@x.cn", "+861", "+861", "+862", "a@x.cn", "+861", "+862", "a@x.cn", "+862"],
        }
    ).cast({"rid": pl.Int64})
    named = np.array([True, True, False, False, False])
    lab, out = run(5, links([]), named=named, contacts=contacts)
    assert lab.tolist() == [0, 1, 0, 1, 0]
    got = out.filter(pl.col("status") == "accepted").select("rid_l", "rid_r", "rule").rows()
    assert sorted(got) == [(0, 2, "email_only"), (0, 4, "email_only"), (1, 3, "phone_only")]
