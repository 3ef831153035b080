"""Stable customer keys across runs: carry keys over by overlap, record merges and splits.

Every run ends with clusters of records. A previous key goes to the cluster holding most of its
records (ties: the smaller cluster label); a cluster that wins several previous keys keeps the
one with most records (ties: the smaller key) and the others are recorded as merged into it; the
other parts of a previous customer become new customers, recorded as split from it. A cluster
with no previous records gets a new key derived from its smallest record id, so a first run on
the same data always gives the same keys.
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

CHANGES_SCHEMA = pl.Schema(
    {
        "run_id": pl.String(),
        "customer_key": pl.String(),
        "change": pl.String(),
        "other_key": pl.String(),
        "reason": pl.String(),
    }
)


def _new_key(record: str, salt: str = "") -> str:
    return "C" + hashlib.sha256((record + salt).encode("utf-8")).hexdigest()[:15].upper()


def assign_keys(
    feat: pl.DataFrame,
    labels: np.ndarray,
    prev_key: pl.Series,
    run_id: str,
    *,
    merge_reasons: pl.DataFrame | None = None,
    split_reason: str = "records no longer linked after re-resolution",
) -> tuple[pl.Series, pl.DataFrame]:
    """Customer key per rid and the change log (new / merge / split) of this run."""
    df = feat.select(
        "rid", rec=pl.concat_str([pl.col("source"), pl.col("source_record_id")], separator=":")
    ).with_columns(cl=pl.Series(labels), prev=prev_key)
    overlap = (
        df.filter(pl.col("prev").is_not_null())
        .group_by("prev", "cl")
        .agg(n=pl.len())
        .sort(["prev", "n", "cl"], descending=[False, True, False])
    )
    won = overlap.group_by("prev", maintain_order=True).first()  # prev -> winning cluster
    survivor = (
        won.sort(["cl", "n", "prev"], descending=[False, True, False])
        .group_by("cl", maintain_order=True)
        .agg(key=pl.col("prev").first(), absorbed=pl.col("prev").slice(1))
    )
    clusters = (
        df.group_by("cl")
        .agg(minrec=pl.col("rec").min(), prevs=pl.col("prev").drop_nulls().unique().sort())
        .join(survivor, on="cl", how="left")
    )
    taken = set(prev_key.drop_nulls().unique().to_list())
    fresh = clusters.filter(pl.col("key").is_null())
    cand = fresh["minrec"].map_elements(_new_key, return_dtype=pl.String)
    clash = cand.is_in(pl.Series(sorted(taken), dtype=pl.String).implode()) | cand.is_duplicated()
    if clash.any():
        salted = fresh["minrec"].map_elements(
            lambda r: _new_key(r, "|" + run_id), return_dtype=pl.String
        )
        cand = pl.select(pl.when(clash).then(salted).otherwise(cand)).to_series()
    fresh = fresh.with_columns(key=cand)
    clusters = pl.concat([clusters.filter(pl.col("key").is_not_null()), fresh]).sort("cl")

    changes = []
    new = fresh.filter(pl.col("prevs").list.len() == 0).select(
        customer_key="key",
        change=pl.lit("new"),
        other_key=pl.lit(None, pl.String),
        reason=pl.lit("new records"),
    )
    changes.append(new)
    merged = survivor.explode("absorbed").filter(pl.col("absorbed").is_not_null())
    if merged.height:
        m = merged.select("cl", customer_key="key", other_key="absorbed", change=pl.lit("merge"))
        if merge_reasons is not None and merge_reasons.height:
            m = m.join(merge_reasons, on="cl", how="left")
        else:
            m = m.with_columns(reason=pl.lit(None, pl.String))
        changes.append(
            m.select(
                "customer_key",
                "change",
                "other_key",
                reason=pl.col("reason").fill_null("linked by new evidence"),
            )
        )
    split = fresh.filter(pl.col("prevs").list.len() > 0).explode("prevs")
    if split.height:
        changes.append(
            split.select(
                customer_key="key",
                change=pl.lit("split"),
                other_key="prevs",
                reason=pl.lit(split_reason),
            )
        )
    ch = (
        pl.concat(changes, how="vertical_relaxed")
        .with_columns(run_id=pl.lit(run_id))
        .select(list(CHANGES_SCHEMA))
        .cast(dict(CHANGES_SCHEMA))
        .sort("change", "customer_key", "other_key", nulls_last=True)
    )
    keys = df["cl"].replace_strict(clusters["cl"], clusters["key"], return_dtype=pl.String)
    return keys.alias("customer_key"), ch
