"""The resolver: normalise → guard → block → compare → score → cluster → keys → golden records.

`resolve` is deterministic (ties broken by record id, seeded sampling) and incremental: with the
previous run's identity map, only pairs that involve a new record are compared, previous
customers stay grouped, and keys carry over (see `incremental.assign_keys`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from crmkit.identity import blocking, guards
from crmkit.identity.cluster import attach_by_unique_name, cluster
from crmkit.identity.compare import FIELDS, compare
from crmkit.identity.features import prepare
from crmkit.identity.incremental import CHANGES_SCHEMA, assign_keys
from crmkit.identity.model import estimate_u, fit
from crmkit.identity.report import build_report
from crmkit.identity.settings import identity_settings
from crmkit.identity.survivorship import golden_records

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


def _previous(feat: pl.DataFrame, previous: pl.DataFrame | None) -> pl.DataFrame:
    """Per rid: previous key, rule and score (nulls for records the previous run never saw)."""
    base = feat.select("rid", "source", "source_record_id")
    if previous is None or previous.height == 0:
        return base.with_columns(
            prev_key=pl.lit(None, pl.String),
            prev_rule=pl.lit(None, pl.String),
            prev_score=pl.lit(None, pl.Float64),
        )
    p = previous.select(
        "source",
        "source_record_id",
        prev_key="customer_key",
        prev_rule=pl.col("match_rule") if "match_rule" in previous.columns else pl.lit(None),
        prev_score=pl.col("match_score").cast(pl.Float64)
        if "match_score" in previous.columns
        else pl.lit(None, pl.Float64),
    ).unique(["source", "source_record_id"], keep="first")
    return base.join(p, on=["source", "source_record_id"], how="left", maintain_order="left")


def resolve(
    records: pl.LazyFrame | pl.DataFrame,
    *,
    previous: pl.DataFrame | None,
    settings: Mapping[str, Any],
    run_id: str,
    previous_links: pl.DataFrame | None = None,
) -> Resolution:
    """Resolve person-records to customers; `previous` is the last run's identity map (or None).

    `settings` is the workspace's `identity` section (defaults fill the rest). `previous_links`,
    when given, is the stored `identity_links` table: it is carried over so `explain` still shows
    how older records were joined.
    """
    s = identity_settings(settings)
    rec = records.collect() if isinstance(records, pl.LazyFrame) else records
    feat = prepare(rec, s)
    rec = rec.sort("source", "source_record_id")
    n = feat.height
    gv = guards.guarded_values(feat, s)
    feat = guards.apply_guards(feat, gv)
    named = feat["name_key"].is_not_null().to_numpy()

    prev = _previous(feat, previous)
    prev_key = prev["prev_key"]
    must = guards.parse_pairs(s["must_link"], feat, "must_link")
    cannot = guards.parse_pairs(s["cannot_link"], feat, "cannot_link")
    # Previous customers that now violate a cannot-link are released and re-resolved.
    anchor = prev.group_by("prev_key").agg(anchor=pl.col("rid").min()).drop_nulls()
    released = pl.Series("k", [], dtype=pl.String)
    if cannot.height and previous is not None:
        kl = prev_key.gather(cannot["rid_l"])
        kr = prev_key.gather(cannot["rid_r"])
        released = kl.filter((kl == kr).fill_null(False))
    group = prev.join(anchor, on="prev_key", how="left", maintain_order="left").with_columns(
        anchor=pl.when(pl.col("prev_key").is_in(released.implode()) | (not s["incremental"]))
        .then(None)
        .otherwise("anchor")
    )
    previous_group = group["anchor"].fill_null(-1).to_numpy().astype(np.int64)
    new_rids = feat.filter(pl.Series(previous_group < 0))["rid"]
    incremental = bool(previous is not None and previous.height and s["incremental"])

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
        (lv["name"] >= 3) | (np.nan_to_num(cmp.name_sim) >= t["name_compatible"]) | cmp.name_partial
    )
    det_email = (lv["email"] == 2) & compatible
    det_phone = (lv["phone"] == 2) & compatible
    det_bridge = is_bridge & compatible & ~det_email & ~det_phone
    det = det_email | det_phone | det_bridge
    u = estimate_u(feat, s)
    n_new = len(new_rids) if incremental else n
    total_pairs = n_new * (n - 1) - (n_new * (n_new - 1) / 2 if incremental else n * (n - 1) / 2)
    model = fit(cmp, u, s, total_pairs=max(total_pairs, 1.0), known_matches=det)
    weight, prob, contrib = model.score(cmp)
    corroborated = (lv["birth"] == 2) | (lv["location"] >= 3)
    conflict = (lv["name"] == 0) & (np.nan_to_num(cmp.name_sim, nan=1.0) < t["name_conflict"])
    veto = conflict & ~corroborated & ~det
    guarded = (cmp.email_guarded | cmp.phone_guarded) & ~det
    rule = np.where(
        det_email, "email", np.where(det_phone, "phone", np.where(det_bridge, "bridge", "fs"))
    )
    cand = det | ((prob >= t["match"]) & ~veto)
    reason = np.where(
        veto & (prob >= t["match"]),
        "name conflict: names differ and nothing corroborates (birth date, address)",
        np.where(
            guarded & ~cand,
            "guarded contact point: shared or placeholder value needs corroboration",
            np.where(~cand, "match probability below threshold", ""),
        ),
    )
    pair_frame = pl.DataFrame(
        {
            "rid_l": cmp.rid_l.astype(np.int64),
            "rid_r": cmp.rid_r.astype(np.int64),
            "rule": rule,
            "probability": prob,
            "weight": weight,
            **{f"w_{f}": contrib[f] for f in FIELDS},
            "block": pairs["block"],
            "_cand": cand,
            "_keep": cand | guarded | (veto & (prob >= t["match"])) | (prob >= 0.5),
            "reason": pl.Series(reason, dtype=pl.String).replace("", None),
        }
    )
    if cannot.height:
        cl = cannot.select("rid_l", "rid_r", _cl=pl.lit(True))
        pair_frame = (
            pair_frame.join(cl, on=["rid_l", "rid_r"], how="left")
            .with_columns(
                _cand=pl.col("_cand") & pl.col("_cl").is_null(),
                reason=pl.when(pl.col("_cl")).then(pl.lit("cannot_link")).otherwise("reason"),
            )
            .drop("_cl")
        )
    if must.height:
        pair_frame = pl.concat(
            [
                pair_frame.join(must, on=["rid_l", "rid_r"], how="anti"),
                must.with_columns(probability=pl.lit(1.0), _cand=pl.lit(True), _keep=pl.lit(True)),
            ],
            how="diagonal_relaxed",
        )
    candidates = pair_frame.filter("_cand").select("rid_l", "rid_r", "rule", "probability")
    refused = pair_frame.filter(~pl.col("_cand") & pl.col("_keep")).with_columns(
        status=pl.lit("refused")
    )
    contacts = pl.concat(
        [
            feat.filter("email_ok").select("rid", kind=pl.lit("email"), value="email_key"),
            feat.filter("phone_ok").select("rid", kind=pl.lit("phone"), value="phone_key"),
        ]
    )
    labels, clinks = cluster(
        n,
        candidates,
        previous_group=previous_group,
        named=named,
        contacts=contacts,
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
            labels, feat.select("rid", "pinyin_key"), contactless, previous_group
        )
        clinks = pl.concat([clinks, by_name], how="diagonal_relaxed")
    detail = pair_frame.drop("rule", "probability", "reason", "_cand", "_keep")
    links_all = pl.concat(
        [
            clinks.join(detail, on=["rid_l", "rid_r"], how="left"),
            refused.drop("_cand", "_keep"),
        ],
        how="diagonal_relaxed",
    )

    # keys, identity map and change log
    accepted = links_all.filter(pl.col("status") == "accepted")
    merge_reasons = _merge_reasons(accepted, labels, prev_key)
    keys, changes = assign_keys(feat, labels, prev_key, run_id, merge_reasons=merge_reasons)
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
    customers = golden_records(
        rec,
        identity_map,
        source_priority=s["source_priority"],
        rules=s["survivorship"],
    )
    report = build_report(
        feat=feat,
        identity_map=identity_map,
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
    )


def _bridges(feat: pl.DataFrame, new: pl.Series | None) -> pl.DataFrame:
    """Named-record pairs joined by a record without a name that carries both contact points:
    the e-mail of one and the phone of the other (a guest order with e-mail and phone)."""
    named = pl.col("name_key").is_not_null()
    nl = feat.filter(~named & pl.col("email_ok") & pl.col("phone_ok"))
    if new is not None:
        nl = nl.filter(pl.col("rid").is_in(new.implode()))
    ea = feat.filter(named & pl.col("email_ok")).group_by("email_key").agg(a=pl.col("rid").min())
    pb = feat.filter(named & pl.col("phone_ok")).group_by("phone_key").agg(b=pl.col("rid").min())
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
    size_of = pl.DataFrame({"rid": feat["rid"], "cl": labels}).with_columns(
        size=pl.len().over("cl")
    )
    m = (
        feat.select("rid", "source", "source_record_id")
        .with_columns(customer_key=keys, origin_table=rec["origin_table"])
        .join(best, on="rid", how="left", maintain_order="left")
        .join(prev.select("rid", "prev_rule", "prev_score"), on="rid", maintain_order="left")
        .join(size_of.select("rid", "size"), on="rid", maintain_order="left")
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


def _link_table(links: pl.DataFrame, feat: pl.DataFrame, run_id: str) -> pl.DataFrame:
    ids = feat.select("rid", "source", "source_record_id")
    out = (
        links.join(
            ids.rename(
                {"rid": "rid_l", "source": "source_l", "source_record_id": "source_record_id_l"}
            ),
            on="rid_l",
        )
        .join(
            ids.rename(
                {"rid": "rid_r", "source": "source_r", "source_record_id": "source_record_id_r"}
            ),
            on="rid_r",
        )
        .with_columns(run_id=pl.lit(run_id))
    )
    for c, t in LINK_SCHEMA.items():
        if c not in out.columns:
            out = out.with_columns(pl.lit(None, t).alias(c))
    return (
        out.select(list(LINK_SCHEMA))
        .cast(dict(LINK_SCHEMA))
        .sort("status", "source_l", "source_record_id_l", "source_r", "source_record_id_r")
    )
