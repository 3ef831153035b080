"""Clustering accepted links into customers, with protection against chains of weak links.

1. *Strong* links (deterministic rules, must-links, match probability ≥ `thresholds.strict`) and
   the previous run's customers form connected components.
2. A component that is too big (`max_cluster_records`) or holds a cannot-link pair is re-split by
   dropping its links weakest tier first (probabilistic, previous grouping, phone, e-mail).
3. *Weak* links (`match` ≤ p < `strict`) only join two components that are each other's best
   candidate (mutual best match), so weak evidence can never chain A–B–C.
4. Records without a name join the one customer that their (unguarded) e-mail or phone points to;
   a contact point that points to several customers is ambiguous and joins nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from crmkit.identity.arrays import unique

TIERS = ("fs", "previous", "bridge", "phone", "email")


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected-component label (the smallest rid in the component) of every record."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    g = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, lab = connected_components(g, directed=False)
    # Relabel by the smallest member so labels do not depend on scipy's traversal order.
    first = np.full(lab.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, lab, np.arange(n))
    return first[lab]


def _violations(labels: np.ndarray, cannot: pl.DataFrame, cap: int) -> np.ndarray:
    """Mask over labels: the components that are over the size cap or hold a cannot-link pair."""
    bad = np.bincount(labels, minlength=len(labels)) > cap
    if cannot.height:
        cl = labels[cannot["rid_l"].to_numpy()]
        cr = labels[cannot["rid_r"].to_numpy()]
        bad[cl[cl == cr]] = True
    return bad


def cluster(
    n: int,
    links: pl.DataFrame,
    *,
    previous_group: np.ndarray,
    named: np.ndarray,
    contacts: pl.DataFrame,
    cannot: pl.DataFrame,
    settings: Mapping[str, Any],
) -> tuple[np.ndarray, pl.DataFrame]:
    """Final cluster label per rid, and `links` with `status` / `reason` for every candidate link.

    `links`: rid_l, rid_r, rule (email|phone|must_link|fs), probability, for pairs of named records.
    `previous_group`: the previous customer's smallest rid per record (-1 for new records).
    `contacts`: rid, kind, value: unguarded contact values, for attaching records without a name
    (only values that such a record carries matter: a caller may pass just those rows).
    """
    t = settings["thresholds"]
    cap = int(t["max_cluster_records"])
    links = links.with_columns(
        tier=pl.when(pl.col("rule") == "must_link")
        .then(pl.lit("must_link"))
        .when(pl.col("rule") == "fs")
        .then(pl.lit("fs"))
        .otherwise(pl.col("rule")),
        strong=(pl.col("rule") != "fs") | (pl.col("probability") >= t["strict"]),
        status=pl.lit("candidate"),
        reason=pl.lit(None, pl.String),
    )
    prev_rid = np.flatnonzero(previous_group >= 0)
    prev = pl.DataFrame(
        {
            "rid_l": prev_rid.astype(np.int64),
            "rid_r": previous_group[prev_rid].astype(np.int64),
            "tier": ["previous"] * len(prev_rid),
        }
    ).filter(pl.col("rid_l") != pl.col("rid_r"))
    strong = pl.concat(
        [links.filter("strong").select("rid_l", "rid_r", "tier"), prev], how="vertical"
    )
    labels = components(n, strong["rid_l"].to_numpy(), strong["rid_r"].to_numpy())

    # 2. re-split oversized or cannot-link components, weakest tier first
    dropped = []
    for tier in TIERS:
        bad = _violations(labels, cannot, cap)
        if not bad.any():
            break
        inside = bad[labels[strong["rid_l"].to_numpy()]]
        drop = inside & (strong["tier"] == tier).to_numpy()
        dropped.append(strong.filter(pl.Series(drop)).select("rid_l", "rid_r"))
        strong = strong.filter(pl.Series(~drop))
        labels = components(n, strong["rid_l"].to_numpy(), strong["rid_r"].to_numpy())
    if dropped:
        d = pl.concat(dropped).with_columns(_drop=pl.lit(True))
        links = (
            links.join(d, on=["rid_l", "rid_r"], how="left")
            .with_columns(
                status=pl.when(pl.col("_drop")).then(pl.lit("refused")).otherwise("status"),
                reason=pl.when(pl.col("_drop"))
                .then(pl.lit("cluster safety: re-split an oversized or cannot-link cluster"))
                .otherwise("reason"),
            )
            .drop("_drop")
        )
    links = links.with_columns(
        status=pl.when((pl.col("status") == "candidate") & pl.col("strong"))
        .then(pl.lit("accepted"))
        .otherwise("status")
    )

    # 3. weak links: mutual best match between components, within the cap and cannot-links
    labels, links = _weak_merge(labels, links, cannot, cap, float(t["min_density"]))

    # 4. records without a name
    labels, attach = _attach_nameless(labels, named, previous_group, contacts, cannot)
    links = pl.concat([links.drop("tier", "strong"), attach], how="diagonal_relaxed")
    return labels, links


def _weak_merge(
    labels: np.ndarray, links: pl.DataFrame, cannot: pl.DataFrame, cap: int, min_density: float
) -> tuple[np.ndarray, pl.DataFrame]:
    n = len(labels)
    weak = links.filter(pl.col("status") == "candidate")
    if weak.height == 0:
        return labels, links
    weak = weak.with_columns(
        ca=pl.Series(labels[weak["rid_l"].to_numpy()]),
        cb=pl.Series(labels[weak["rid_r"].to_numpy()]),
    )
    inner = weak.filter(pl.col("ca") == pl.col("cb"))
    cross = weak.filter(pl.col("ca") != pl.col("cb"))
    size = np.bincount(labels, minlength=n)
    best = cross.group_by("ca", "cb").agg(p=pl.col("probability").max())
    best = best.filter(pl.Series(size[best["ca"].to_numpy()] + size[best["cb"].to_numpy()] <= cap))
    if cannot.height:
        cc = pl.DataFrame(
            {"a": labels[cannot["rid_l"].to_numpy()], "b": labels[cannot["rid_r"].to_numpy()]}
        ).select(ca=pl.min_horizontal("a", "b"), cb=pl.max_horizontal("a", "b"))
        best = best.with_columns(
            ca2=pl.min_horizontal("ca", "cb"), cb2=pl.max_horizontal("ca", "cb")
        ).join(cc.rename({"ca": "ca2", "cb": "cb2"}), on=["ca2", "cb2"], how="anti")
        best = best.drop("ca2", "cb2")
    both = pl.concat(
        [best.select(src="ca", dst="cb", p="p"), best.select(src="cb", dst="ca", p="p")]
    )
    top = (
        both.sort(["src", "p", "dst"], descending=[False, True, False])
        .group_by("src", maintain_order=True)
        .first()
    )
    mutual = top.join(
        top.rename({"src": "dst", "dst": "src", "p": "p2"}), on=["src", "dst"]
    ).filter(pl.col("src") < pl.col("dst"))
    # Each component proposes its best partner; a proposed set of more than two components is
    # kept only if it is dense (most of its components link to each other), else only its
    # mutual-best pairs merge. A bridge record links to two groups that do not link to each other.
    tent = components(
        n,
        np.concatenate([np.arange(n), top["src"].to_numpy()]),
        np.concatenate([np.arange(n), top["dst"].to_numpy()]),
    )
    # the components that propose or are proposed to (all others stay on their own)
    proposed = unique(np.concatenate([top["src"].to_numpy(), top["dst"].to_numpy()]))
    gstat = (
        pl.DataFrame({"s": tent[proposed], "size": size[proposed]})
        .group_by("s")
        .agg(k=pl.len(), size=pl.col("size").sum())
    )
    links_in = (
        best.with_columns(s=pl.Series(tent[best["ca"].to_numpy()])).group_by("s").agg(e=pl.len())
    )
    dense = (
        gstat.join(links_in, on="s", how="left")
        .with_columns(density=pl.col("e").fill_null(0) / (pl.col("k") * (pl.col("k") - 1) / 2))
        .filter((pl.col("k") <= 2) | (pl.col("density") >= min_density) & (pl.col("size") <= cap))[
            "s"
        ]
    )
    star = top.filter(pl.Series(tent[top["src"].to_numpy()]).is_in(dense.implode())).select(
        src=pl.min_horizontal("src", "dst"), dst=pl.max_horizontal("src", "dst")
    )
    mutual = pl.concat([mutual.select("src", "dst"), star]).unique()
    merged = components(
        n,
        np.concatenate([np.arange(n), mutual["src"].to_numpy()]),
        np.concatenate([np.arange(n), mutual["dst"].to_numpy()]),
    )
    new_labels = merged[labels]
    acc = (
        cross.join(mutual.select(ca="src", cb="dst"), on=["ca", "cb"], how="semi")
        .vstack(cross.join(mutual.select(cb="src", ca="dst"), on=["ca", "cb"], how="semi"))
        .select("rid_l", "rid_r", _acc=pl.lit(True))
    )
    inner_ids = inner.select("rid_l", "rid_r", _inner=pl.lit(True))
    links = (
        links.join(acc, on=["rid_l", "rid_r"], how="left")
        .join(inner_ids, on=["rid_l", "rid_r"], how="left")
        .with_columns(
            status=pl.when(pl.col("_acc") | pl.col("_inner"))
            .then(pl.lit("accepted"))
            .when(pl.col("status") == "candidate")
            .then(pl.lit("refused"))
            .otherwise("status"),
            reason=pl.when(pl.col("_acc").is_null() & pl.col("_inner").is_null())
            .then(
                pl.when(pl.col("status") == "candidate")
                .then(pl.lit("weak link: would chain customers that do not link to each other"))
                .otherwise("reason")
            )
            .otherwise("reason"),
        )
        .drop("_acc", "_inner")
    )
    return new_labels, links


def _attach_nameless(
    labels: np.ndarray,
    named: np.ndarray,
    previous_group: np.ndarray,
    contacts: pl.DataFrame,
    cannot: pl.DataFrame,
) -> tuple[np.ndarray, pl.DataFrame]:
    """Attach records without a name to the single customer their contact points name."""
    n = len(labels)
    todo = ~named & (previous_group < 0)
    labels = labels.copy()
    out = []
    crid = contacts["rid"].to_numpy()
    for _ in range(2):  # a second pass lets records attach through ones attached in the first
        c = contacts.with_columns(cl=pl.Series(labels[crid]), settled=pl.Series(~todo[crid]))
        # distinct (contact point, customer) pairs: flat rows, not lists, are cheap to group
        owners = (
            c.filter("settled")
            .group_by("kind", "value", "cl")
            .agg(via=pl.col("rid").min())  # the owner's first record with this contact point
        )
        cand = (
            c.filter(~pl.col("settled"))
            .select("rid", "kind", "value")
            .join(owners, on=["kind", "value"])
        )
        if cand.height == 0:
            break
        email = pl.col("kind") == "email"
        per = cand.group_by("rid").agg(
            n_owners=pl.col("cl").n_unique(),
            owner=pl.col("cl").min(),
            n_email_owners=pl.col("cl").filter(email).n_unique(),
            email_owner=pl.col("cl").filter(email).min(),
            via_email=pl.col("via").filter(email).min(),
            via_any=pl.col("via").min(),
        )
        per = per.with_columns(
            target=pl.when(pl.col("n_owners") == 1)
            .then("owner")
            .when(pl.col("n_email_owners") == 1)
            .then("email_owner"),
            via=pl.when(pl.col("n_email_owners") == 1).then("via_email").otherwise("via_any"),
            rule=pl.when(pl.col("n_email_owners") >= 1)
            .then(pl.lit("email_only"))
            .otherwise(pl.lit("phone_only")),
        )
        if cannot.height:
            cl_pairs = pl.concat(
                [
                    cannot.select(rid="rid_l", other="rid_r"),
                    cannot.select(rid="rid_r", other="rid_l"),
                ]
            )
            cl_pairs = cl_pairs.with_columns(
                other_cl=pl.Series(labels[cl_pairs["other"].to_numpy()])
            )
            per = per.join(
                cl_pairs.select("rid", target="other_cl", _cl=pl.lit(True)),
                on=["rid", "target"],
                how="left",
            )
        else:
            per = per.with_columns(_cl=pl.lit(None, pl.Boolean))
        ok = per.filter(pl.col("target").is_not_null() & pl.col("_cl").is_null())
        refused = per.filter(pl.col("target").is_null() | pl.col("_cl").is_not_null())
        rids = ok["rid"].to_numpy()
        labels[rids] = ok["target"].to_numpy()
        todo[rids] = False
        out.append(
            ok.select(
                rid_l=pl.min_horizontal("rid", "via"),
                rid_r=pl.max_horizontal("rid", "via"),
                rule="rule",
                probability=pl.lit(None, pl.Float64),
                status=pl.lit("accepted"),
                reason=pl.lit(None, pl.String),
            )
        )
        out.append(
            refused.select(
                rid_l=pl.min_horizontal("rid", "via"),
                rid_r=pl.max_horizontal("rid", "via"),
                rule="rule",
                probability=pl.lit(None, pl.Float64),
                status=pl.lit("refused"),
                reason=pl.when(pl.col("_cl").is_not_null())
                .then(pl.lit("cannot_link"))
                .otherwise(
                    pl.format(
                        "ambiguous contact point: it belongs to {} customers",
                        pl.col("n_owners"),
                    )
                ),
            )
        )
        if len(rids) == 0:
            break
    # Remaining records without a name group with each other through shared contact points.
    rest = np.flatnonzero(todo)
    if len(rest):
        # ... but never through a value that a customer already owns (an ambiguous one).
        owned = contacts.filter(pl.Series(~todo[crid])).select("kind", "value").unique()
        rc = contacts.filter(pl.col("rid").is_in(pl.Series(rest).implode())).join(
            owned, on=["kind", "value"], how="anti"
        )
        e = rc.join(rc, on=["kind", "value"], suffix="_r").filter(pl.col("rid") < pl.col("rid_r"))
        sub = components(
            n,
            np.concatenate([np.arange(n), e["rid"].to_numpy()]),
            np.concatenate([np.arange(n), e["rid_r"].to_numpy()]),
        )
        labels[rest] = sub[rest]
        if e.height:
            out.append(
                e.unique(["rid", "rid_r"]).select(
                    rid_l="rid",
                    rid_r="rid_r",
                    rule=pl.format("{}_only", pl.col("kind")),
                    probability=pl.lit(None, pl.Float64),
                    status=pl.lit("accepted"),
                    reason=pl.lit(None, pl.String),
                )
            )
    frame = (
        pl.concat(out, how="vertical_relaxed")
        if out
        else pl.DataFrame(
            schema={
                "rid_l": pl.Int64,
                "rid_r": pl.Int64,
                "rule": pl.String,
                "probability": pl.Float64,
                "status": pl.String,
                "reason": pl.String,
            }
        )
    )
    # Make every label the smallest rid of its final cluster.
    frame = frame.sort("rid_l", "rid_r", "status", "rule").unique(
        ["rid_l", "rid_r"], keep="first", maintain_order=True
    )
    return components(n, np.arange(n), labels), frame


def attach_by_unique_name(
    labels: np.ndarray, names: pl.DataFrame, contactless: np.ndarray, previous_group: np.ndarray
) -> tuple[np.ndarray, pl.DataFrame]:
    """Attach a record that has a name but no contact point (a support ticket signed "zhang wei")
    to the one customer with that romanised name, when exactly one customer has it.

    `names`: rid, pinyin_key (at least every record sharing a name with a `contactless` one). A
    name that several customers share stays unattached.
    """
    n = len(labels)
    size = np.bincount(labels, minlength=n)
    todo = contactless & (size[labels] == 1) & (previous_group < 0)
    nm = names.filter(pl.col("pinyin_key").is_not_null()).with_columns(
        cl=pl.Series(labels[names.filter(pl.col("pinyin_key").is_not_null())["rid"].to_numpy()]),
        todo=pl.Series(todo[names.filter(pl.col("pinyin_key").is_not_null())["rid"].to_numpy()]),
    )
    owners = (
        nm.filter(~pl.col("todo"))
        .group_by("pinyin_key")
        .agg(owners=pl.col("cl").unique(), via=pl.col("rid").min())
        .filter(pl.col("owners").list.len() == 1)
        .with_columns(target=pl.col("owners").list.first())
    )
    hit = nm.filter("todo").join(owners, on="pinyin_key")
    labels = labels.copy()
    labels[hit["rid"].to_numpy()] = hit["target"].to_numpy()
    frame = hit.select(
        rid_l=pl.min_horizontal("rid", "via"),
        rid_r=pl.max_horizontal("rid", "via"),
        rule=pl.lit("name_only"),
        probability=pl.lit(None, pl.Float64),
        status=pl.lit("accepted"),
        reason=pl.lit("the only customer with this name; the record has no contact point"),
    )
    return components(n, np.arange(n), labels), frame
