"""The resolver: normalise → guard → block → compare → score → cluster → keys → golden records.

`resolve` is deterministic (ties broken by record id, seeded sampling) and incremental: with the
previous run's identity map, only pairs that involve a new (or changed) record are compared,
previous customers stay grouped, and keys carry over (see `incremental.assign_keys`). With the
previous run's stored state (`state.py`) it also skips normalising unchanged records and
rebuilding unchanged customers, so its cost follows the new records, not the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from crmkit.identity import blocking, guards, state
from crmkit.identity.arrays import without_null_columns
from crmkit.identity.cluster import attach_by_unique_name, cluster
from crmkit.identity.compare import (
    BIRTH_SAME,
    FIELDS,
    LOC_SIMILAR,
    NAME_DIFFER,
    NAME_PINYIN,
    compare,
)
from crmkit.identity.incremental import CHANGES_SCHEMA, assign_keys, touched
from crmkit.identity.model import fit, random_pairs, u_from
from crmkit.identity.report import build_report
from crmkit.identity.settings import identity_settings
from crmkit.identity.survivorship import customers_table, reusable

LINK_SCHEMA = pl.Schema(
    {
        "run_id": pl.String(),
        "source_l": pl.String(),
        "source_record_id_l": pl.String(),
        "source_r": pl.String(),
        "source_record_id_r": pl.String(),
        "rule": pl.String(),
        "status": pl.String(),
        "probability": pl.Float64(),
        "weight": pl.Float64(),
        **{f"w_{f}": pl.Float64() for f in FIELDS},
        "block": pl.String(),
        "reason": pl.String(),
    }
)
IDENTITY_MAP_SCHEMA = pl.Schema(
    {
        "source": pl.String(),
        "source_record_id": pl.String(),
        "customer_key": pl.String(),
        "match_rule": pl.String(),
        "match_score": pl.Float64(),
        "origin_table": pl.String(),
        "run_id": pl.String(),
    }
)
_RULE_RANK = {
    "must_link": 0,
    "email": 1,
    "phone": 2,
    "bridge": 3,
    "fs": 4,
    "email_only": 5,
    "phone_only": 6,
    "name_only": 7,
}


@dataclass
class Resolution:
    """Everything one resolution run produces (stored by the ingest step as warehouse tables)."""

    identity_map: pl.DataFrame
    customers: pl.DataFrame
    links: pl.DataFrame
    changes: pl.DataFrame
    report: dict[str, Any] = field(default_factory=dict)
    # `identity_features`: the normalised records, so the next run normalises only new ones
    features: pl.DataFrame = field(default_factory=pl.DataFrame)


def resolve(
    records: pl.LazyFrame | pl.DataFrame,
    *,
    previous: pl.DataFrame | None,
    settings: Mapping[str, Any],
    run_id: str,
    previous_links: pl.DataFrame | None = None,
    previous_features: pl.DataFrame | None = None,
    previous_customers: pl.DataFrame | None = None,
) -> Resolution:
    """Resolve person-records to customers; `previous` is the last run's identity map (or None).

    `settings` is the workspace's `identity` section (defaults fill the rest). `previous_links`,
    when given, is the stored `identity_links` table: it is carried over so `explain` still shows
    how older records were joined. `previous_features` and `previous_customers` (the stored
    `identity_features` and `customers` tables) make an incremental run cheap: unchanged records
    are not normalised again and only customers that changed get new golden records. They also
    show which old records changed: a record whose matching fields changed is matched again
    like a new one. Without them the run is slower and treats old records as unchanged.
    """
    s = identity_settings(settings)
    rec = without_null_columns(records.collect() if isinstance(records, pl.LazyFrame) else records)
    prep = state.load(rec, s, previous=previous, stored=previous_features)
    feat, prev = prep.feat, prep.prev
    n = feat.height
    if prep.stored:  # only values of re-normalised records or guarded before can change status
        gv = guards.guarded_values(
            feat, s, only=guards.values_to_check(feat, pl.Series(~prep.reused))
        )
    else:
        gv = guards.guarded_values(feat, s)
    feat = guards.apply_guards(feat, gv)
    named = feat["name_key"].is_not_null().to_numpy()

    prev_key = prev["prev_key"]
    must = guards.parse_pairs(s["must_link"], feat, "must_link")
    cannot = guards.parse_pairs(s["cannot_link"], feat, "cannot_link")
    # each previous customer as the smallest rid among its records (-1: no previous customer)
    customer = (
        prev.select(
            pl.when(pl.col("prev_key").is_not_null()).then(pl.col("rid").min().over("prev_key"))
        )
        .to_series()
        .fill_null(-1)
        .to_numpy()
        .astype(np.int64)
    )
    # Previous customers that now violate a cannot-link are released and re-resolved.
    released = np.zeros(n, dtype=bool)
    if cannot.height and previous is not None:
        cl, cr = customer[cannot["rid_l"].to_numpy()], customer[cannot["rid_r"].to_numpy()]
        hit = cl[(cl == cr) & (cl >= 0)]
        if len(hit):
            mask = np.zeros(n, dtype=bool)
            mask[hit] = True
            released = (customer >= 0) & mask[np.maximum(customer, 0)]
    previous_group = np.where(released | (not s["incremental"]), -1, customer)
    incremental = bool(previous is not None and previous.height and s["incremental"])
    # records to match against everything: new ones, released ones, and changed ones
    fresh = (previous_group < 0) | prep.changed
    new_rids = pl.Series("rid", np.flatnonzero(fresh), dtype=pl.Int64)

    # candidate pairs and comparisons (named pairs only; records without a name attach later)
    pairs, block_stats = blocking.candidate_pairs(feat, s, new=new_rids if incremental else None)
    pairs = pairs.filter(
        pl.Series(named[pairs["rid_l"].to_numpy()] & named[pairs["rid_r"].to_numpy()])
    )
    bridges = _bridges(feat, new_rids if incremental else None)
    pairs = pl.concat(
        [pairs, bridges.join(pairs, on=["rid_l", "rid_r"], how="anti")], how="vertical_relaxed"
    )
    is_bridge = (
        pairs.join(
            bridges.select("rid_l", "rid_r", _b=pl.lit(True)), on=["rid_l", "rid_r"], how="left"
        )["_b"]
        .fill_null(False)
        .to_numpy()
    )
    cmp = compare(feat, pairs)
    lv = cmp.levels
    t = s["thresholds"]
    compatible = (
        (lv["name"] >= NAME_PINYIN)
        | (np.nan_to_num(cmp.name_sim) >= t["name_compatible"])
        | cmp.name_partial
    )
    det_email = (lv["email"] == 2) & compatible
    det_phone = (lv["phone"] == 2) & compatible
    det_bridge = is_bridge & compatible & ~det_email & ~det_phone
    det = det_email | det_phone | det_bridge
    rand = random_pairs(feat, s)
    u = u_from(rand)
    n_new = len(new_rids) if incremental else n
    total_pairs = n_new * (n - 1) - (n_new * (n_new - 1) / 2 if incremental else n * (n - 1) / 2)
    model = fit(cmp, u, s, total_pairs=max(total_pairs, 1.0), known_matches=det, random=rand)
    weight, prob, contrib = model.score(cmp)
    corroborated = (lv["birth"] == BIRTH_SAME) | (lv["location"] >= LOC_SIMILAR)
    conflict = (lv["name"] == NAME_DIFFER) & (
        np.nan_to_num(cmp.name_sim, nan=1.0) < t["name_conflict"]
    )
    pair_frame = _pair_frame(
        pairs,
        cmp,
        weight=weight,
        prob=prob,
        contrib=contrib,
        det_email=det_email,
        det_phone=det_phone,
        det_bridge=det_bridge,
        veto=conflict & ~corroborated & ~det,
        guarded=(cmp.email_guarded | cmp.phone_guarded) & ~det,
        match=t["match"],
    )
    if cannot.height:
        cl = cannot.select("rid_l", "rid_r", _cl=pl.lit(True))
        pair_frame = (
            pair_frame.join(cl, on=["rid_l", "rid_r"], how="left", maintain_order="left")
            .with_columns(
                _cand=pl.col("_cand") & pl.col("_cl").is_null(),
                reason=pl.when(pl.col("_cl")).then(pl.lit("cannot_link")).otherwise("reason"),
            )
            .drop("_cl")
        )
    if must.height:
        pair_frame = pl.concat(
            [
                pair_frame.join(must, on=["rid_l", "rid_r"], how="anti", maintain_order="left"),
                must.with_columns(probability=pl.lit(1.0), _cand=pl.lit(True), _keep=pl.lit(True)),
            ],
            how="diagonal_relaxed",
        )
    pair_frame = pair_frame.with_row_index("_pi")
    candidates = pair_frame.filter("_cand").select("rid_l", "rid_r", "rule", "probability", "_pi")
    refused = pair_frame.filter(~pl.col("_cand") & pl.col("_keep")).with_columns(
        status=pl.lit("refused")
    )
    todo = ~named & (previous_group < 0)  # records without a name that still need a customer
    labels, clinks = cluster(
        n,
        candidates,
        previous_group=previous_group,
        named=named,
        contacts=_contacts(feat, todo),
        cannot=cannot,
        settings=s,
    )
    if s["thresholds"]["unique_name_attach"]:
        # the name is all there is: no usable contact point (none, or only placeholder / shared
        # ones) and nothing the model could weigh (birth date, address, postcode)
        contactless = (
            named
            & ~feat["email_ok"].to_numpy()
            & ~feat["phone_ok"].to_numpy()
            & feat.select(
                pl.all_horizontal(
                    pl.col(c).is_null() for c in ("birth", "address_key", "postcode_key")
                )
            )
            .to_series()
            .to_numpy()
        )
        labels, by_name = attach_by_unique_name(
            labels, _names(feat, contactless & (previous_group < 0)), contactless, previous_group
        )
        clinks = pl.concat([clinks, by_name], how="diagonal_relaxed")
    links_all = pl.concat(
        [_with_detail(clinks, pair_frame), refused.drop("_cand", "_keep", "_pi")],
        how="diagonal_relaxed",
    )

    # keys: only records whose customer can have changed are looked at
    accepted = links_all.filter(pl.col("status") == "accepted")
    # (a merge needs previous customers)
    merge_reasons = (
        _merge_reasons(accepted, labels, prev_key) if prev_key.null_count() < n else None
    )
    moved = touched(labels, customer) if incremental else np.ones(n, dtype=bool)
    sub = np.flatnonzero(moved)
    sub_keys, changes = assign_keys(
        feat[sub],
        labels[sub],
        prev_key.gather(sub),
        run_id,
        merge_reasons=merge_reasons,
        taken=prev_key.drop_nulls(),
    )
    keys = prev_key.clone().scatter(sub, sub_keys) if len(sub) < n else sub_keys
    identity_map = _identity_map(feat, rec, keys, labels, accepted, prev, run_id)
    links = _link_table(links_all, feat, run_id)
    if previous_links is not None and previous_links.height:
        links = pl.concat(
            [
                previous_links.join(
                    links.select(
                        "source_l", "source_record_id_l", "source_r", "source_record_id_r"
                    ),
                    on=["source_l", "source_record_id_l", "source_r", "source_record_id_r"],
                    how="anti",
                ),
                links,
            ],
            how="diagonal_relaxed",
        ).select(list(LINK_SCHEMA))
    reuse = None
    if incremental and prep.stored:
        n_before = _previous_customers(customer, prev_key, prep.removed)
        reuse = reusable(previous_customers, previous, n_before)
    customers = customers_table(
        rec,
        feat,
        identity_map,
        labels,
        s,
        reuse=reuse,
        dirty=moved | ~prep.reused,
        removed=prep.removed,
        prev_key=prev_key,
    )
    report = build_report(
        feat=feat,
        identity_map=identity_map,
        labels=labels,
        customers=customers,
        links=links.filter(pl.col("run_id") == run_id),
        changes=changes,
        guards=gv,
        block_stats=block_stats,
        model=model,
        settings=s,
        incremental=incremental,
    )
    return Resolution(
        identity_map=identity_map,
        customers=customers,
        links=links,
        changes=changes.cast(dict(CHANGES_SCHEMA)),
        report=report,
        features=state.to_store(feat, s),
    )


_REASONS = {
    "veto": "name conflict: names differ and nothing corroborates (birth date, address)",
    "guarded": "guarded contact point: shared or placeholder value needs corroboration",
    "low": "match probability below threshold",
}


def _pair_frame(
    pairs: pl.DataFrame,
    cmp: Any,
    *,
    weight: np.ndarray,
    prob: np.ndarray,
    contrib: Mapping[str, np.ndarray],
    det_email: np.ndarray,
    det_phone: np.ndarray,
    det_bridge: np.ndarray,
    veto: np.ndarray,
    guarded: np.ndarray,
    match: float,
) -> pl.DataFrame:
    """Every compared pair with its rule, probability, weights and why it was refused."""
    c = pl.col
    above = c("probability") >= match
    cand = c("_det") | (above & ~c("_veto"))
    return pl.DataFrame(
        {
            "rid_l": cmp.rid_l.astype(np.int64),
            "rid_r": cmp.rid_r.astype(np.int64),
            "probability": prob,
            "weight": weight,
            **{f"w_{f}": contrib[f] for f in FIELDS},
            "block": pairs["block"],
            "_email": det_email,
            "_phone": det_phone,
            "_bridge": det_bridge,
            "_det": det_email | det_phone | det_bridge,
            "_veto": veto,
            "_guarded": guarded,
        }
    ).select(
        "rid_l",
        "rid_r",
        rule=pl.when("_email")
        .then(pl.lit("email"))
        .when("_phone")
        .then(pl.lit("phone"))
        .when("_bridge")
        .then(pl.lit("bridge"))
        .otherwise(pl.lit("fs")),
        probability="probability",
        weight="weight",
        **{f"w_{f}": f"w_{f}" for f in FIELDS},
        block="block",
        _cand=cand,
        _keep=cand | c("_guarded") | (c("_veto") & above) | (c("probability") >= 0.5),
        reason=pl.when(c("_veto") & above)
        .then(pl.lit(_REASONS["veto"]))
        .when(c("_guarded") & ~cand)
        .then(pl.lit(_REASONS["guarded"]))
        .when(~cand)
        .then(pl.lit(_REASONS["low"])),
    )


def _contacts(feat: pl.DataFrame, todo: np.ndarray) -> pl.DataFrame:
    """Unguarded contact values (rid, kind, value) of every record that shares one with a
    record in `todo`: all that attaching those records can look at."""
    out = []
    mine = feat.filter(pl.Series(todo))
    for kind, col in (("email", "email_key"), ("phone", "phone_key")):
        wanted = mine.filter(f"{kind}_ok")[col]
        out.append(
            feat.filter(pl.col(col).is_in(wanted.implode()) & pl.col(f"{kind}_ok")).select(
                "rid", kind=pl.lit(kind), value=col
            )
        )
    return pl.concat(out)


def _names(feat: pl.DataFrame, todo: np.ndarray) -> pl.DataFrame:
    """rid, pinyin_key of every record that shares its romanised name with a record in `todo`."""
    nm = feat.select("rid", "pinyin_key")
    wanted = nm.filter(pl.Series(todo))["pinyin_key"].drop_nulls()
    return nm.filter(pl.col("pinyin_key").is_in(wanted.implode()))


def _with_detail(links: pl.DataFrame, pair_frame: pl.DataFrame) -> pl.DataFrame:
    """The links with the weights of their compared pair: by row for the cluster's links; by
    pair for the others (only a name-only link can be a compared pair: the rest join records
    without a name, which are never compared)."""
    detail = pair_frame.drop("rule", "probability", "reason", "_cand", "_keep")
    has = links["_pi"].is_not_null()
    by_row = links.filter(has)
    by_row = pl.concat(
        [by_row, detail.drop("rid_l", "rid_r", "_pi")[by_row["_pi"].to_numpy()]],
        how="horizontal",
    )
    rest = links.filter(~has)
    named = rest.filter(pl.col("rule") == "name_only")
    wanted = detail.filter(pl.col("rid_l").is_in(named["rid_l"].implode())).drop("_pi")
    rest = pl.concat(
        [
            named.join(wanted, on=["rid_l", "rid_r"], how="left"),
            rest.filter(pl.col("rule") != "name_only"),
        ],
        how="diagonal_relaxed",
    )
    return pl.concat([by_row, rest], how="diagonal_relaxed").drop("_pi")


def _bridges(feat: pl.DataFrame, new: pl.Series | None) -> pl.DataFrame:
    """Named-record pairs joined by a record without a name that carries both contact points:
    the e-mail of one and the phone of the other (a guest order with e-mail and phone)."""
    named = pl.col("name_key").is_not_null()
    nl = feat.filter(~named & pl.col("email_ok") & pl.col("phone_ok"))
    if new is not None:
        nl = nl.filter(pl.col("rid").is_in(new.implode()))
    ea = (
        feat.filter(
            named & pl.col("email_ok") & pl.col("email_key").is_in(nl["email_key"].implode())
        )
        .group_by("email_key")
        .agg(a=pl.col("rid").min())
    )
    pb = (
        feat.filter(
            named & pl.col("phone_ok") & pl.col("phone_key").is_in(nl["phone_key"].implode())
        )
        .group_by("phone_key")
        .agg(b=pl.col("rid").min())
    )
    return (
        nl.select("email_key", "phone_key")
        .join(ea, on="email_key")
        .join(pb, on="phone_key")
        .select(rid_l=pl.min_horizontal("a", "b"), rid_r=pl.max_horizontal("a", "b"))
        .filter(pl.col("rid_l") != pl.col("rid_r"))
        .unique()
        .sort("rid_l", "rid_r")
        .with_columns(block=pl.lit("bridge"))
    )


def _merge_reasons(accepted: pl.DataFrame, labels: np.ndarray, prev_key: pl.Series) -> pl.DataFrame:
    """Per final cluster: the rules of accepted links that cross previous customers."""
    if accepted.height == 0:
        return pl.DataFrame(schema={"cl": pl.Int64, "reason": pl.String})
    a = accepted.with_columns(
        cl=pl.Series(labels[accepted["rid_l"].to_numpy()]),
        kl=prev_key.gather(accepted["rid_l"]),
        kr=prev_key.gather(accepted["rid_r"]),
    ).filter((pl.col("kl") != pl.col("kr")).fill_null(True))
    return a.group_by("cl").agg(
        reason=pl.format("linked by {}", pl.col("rule").unique().sort().str.join(", "))
    )


def _identity_map(
    feat: pl.DataFrame,
    rec: pl.DataFrame,
    keys: pl.Series,
    labels: np.ndarray,
    accepted: pl.DataFrame,
    prev: pl.DataFrame,
    run_id: str,
) -> pl.DataFrame:
    """source, source_record_id → customer_key, with the rule and score of the joining link."""
    inc = pl.concat(
        [
            accepted.select(rid="rid_l", rule="rule", score="probability"),
            accepted.select(rid="rid_r", rule="rule", score="probability"),
        ]
    ).with_columns(_r=pl.col("rule").replace_strict(_RULE_RANK, default=9, return_dtype=pl.Int8))
    best = (
        inc.sort(["rid", "_r", "score"], descending=[False, False, True], nulls_last=True)
        .group_by("rid", maintain_order=True)
        .first()
        .select("rid", "rule", "score")
    )
    size = np.bincount(labels, minlength=len(labels))[labels]
    m = (
        feat.select("rid", "source", "source_record_id")
        .with_columns(
            customer_key=keys,
            origin_table=rec["origin_table"].gather(feat["_rec"]),
            prev_rule=prev["prev_rule"],
            prev_score=prev["prev_score"],
            size=pl.Series(size),
        )
        .join(best, on="rid", how="left", maintain_order="left")
        .with_columns(
            match_rule=pl.coalesce(
                "rule",
                "prev_rule",
                pl.when(pl.col("size") == 1).then(pl.lit("single")).otherwise(pl.lit("previous")),
            ),
            match_score=pl.when(pl.col("rule").is_not_null()).then("score").otherwise("prev_score"),
            run_id=pl.lit(run_id),
        )
    )
    return m.select(list(IDENTITY_MAP_SCHEMA)).cast(dict(IDENTITY_MAP_SCHEMA))


def _previous_customers(customer: np.ndarray, prev_key: pl.Series, removed: pl.DataFrame) -> int:
    """How many customers the previous map had: one anchor record (its smallest rid) per
    customer still present, plus those whose records are all gone."""
    present = int((customer == np.arange(len(customer))).sum())
    gone = removed["prev_key"].drop_nulls().unique()
    if gone.len():
        gone = gone.filter(~gone.is_in(prev_key.drop_nulls().implode()))
    return present + gone.len()


def _link_table(links: pl.DataFrame, feat: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """The `identity_links` rows, sorted by status and the two records' (source, id).

    rids number the records in (source, source_record_id) order, so sorting the integers sorts
    the ids: the strings are only looked up, never sorted."""
    ids = feat.select("rid", "source", "source_record_id")
    out = (
        links.sort("status", "rid_l", "rid_r")
        .join(
            ids.rename(
                {"rid": "rid_l", "source": "source_l", "source_record_id": "source_record_id_l"}
            ),
            on="rid_l",
            maintain_order="left",
        )
        .join(
            ids.rename(
                {"rid": "rid_r", "source": "source_r", "source_record_id": "source_record_id_r"}
            ),
            on="rid_r",
            maintain_order="left",
        )
        .with_columns(run_id=pl.lit(run_id))
    )
    for c, t in LINK_SCHEMA.items():
        if c not in out.columns:
            out = out.with_columns(pl.lit(None, t).alias(c))
    return out.select(list(LINK_SCHEMA)).cast(dict(LINK_SCHEMA))
