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


_CHUNK = 250_000  # records hashed per Python list


def _new_keys(records: pl.Series, salt: str = "") -> pl.Series:
    """`_new_key` of each record (a first run computes one per customer: millions).

    Only the sha256 runs in Python, over chunks, so the Python objects alive at once stay few.
    """
    sha = hashlib.sha256
    data = (records + salt if salt else records).cast(pl.Binary)
    hexes = [
        pl.Series([sha(b).hexdigest() for b in data.slice(at, _CHUNK).to_list()], dtype=pl.String)
        for at in range(0, data.len(), _CHUNK)
    ]
    digest = pl.concat(hexes) if hexes else pl.Series(dtype=pl.String)
    return ("C" + digest.str.slice(0, 15).str.to_uppercase()).rename("key")


def touched(labels: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Records whose key can change in this run (mask per rid).

    `previous`: an integer id of each record's previous customer (-1: a new record). A cluster
    made of exactly one whole previous customer keeps that key and records no change; every
    other cluster, and every previous customer spread over several clusters, is touched.
    """
    n = len(labels)
    if n == 0:
        return np.zeros(0, dtype=bool)
    big = np.int64(n + 1)
    prev = np.where(previous < 0, -1, previous).astype(np.int64)
    lo = np.full(n, big)
    hi = np.full(n, -big)
    np.minimum.at(lo, labels, prev)
    np.maximum.at(hi, labels, prev)
    mixed_cluster = (lo < 0) | (lo != hi)  # holds a new record or several previous customers
    old = prev >= 0
    first = np.full(n, big)
    last = np.full(n, -big)
    np.minimum.at(first, prev[old], labels[old])
    np.maximum.at(last, prev[old], labels[old])
    spread = first != last  # a previous customer whose records are now in several clusters
    out = mixed_cluster[labels]
    out[old] |= spread[prev[old]]
    return out


def assign_keys(
    feat: pl.DataFrame,
    labels: np.ndarray,
    prev_key: pl.Series,
    run_id: str,
    *,
    merge_reasons: pl.DataFrame | None = None,
    split_reason: str = "records no longer linked after re-resolution",
    taken: pl.Series | None = None,
) -> tuple[pl.Series, pl.DataFrame]:
    """Customer key per rid and the change log (new / merge / split) of this run.

    `feat` may be a subset of the records, as long as it holds every record of each of its
    clusters and previous customers (see `touched`); `taken` then lists every previous key, so
    that a new key never repeats an old one.
    """
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
    fresh = df.join(survivor.select("cl"), on="cl", how="anti") if survivor.height else df
    fresh = _cluster_ids(fresh, labels)
    cand = _new_keys(fresh["minrec"])
    taken = prev_key.drop_nulls() if taken is None else taken
    # (probe the many old keys against the few new ones, not the other way round)
    hit = taken.filter(taken.is_in(cand.implode()))
    clash = cand.is_in(hit.implode()) | cand.is_duplicated()
    if clash.any():
        salted = _new_keys(fresh["minrec"], "|" + run_id)
        cand = pl.select(pl.when(clash).then(salted).otherwise(cand)).to_series()
    fresh = fresh.with_columns(key=cand)
    clusters = pl.concat([survivor.select("cl", "key"), fresh.select("cl", "key")])

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
    # sorted by change, key and other key: each kind of change sorted on its own, in order
    ch = pl.concat(
        [
            c.sort("customer_key", "other_key", nulls_last=True)
            for c in sorted(changes, key=lambda c: str(c["change"][0]) if c.height else "")
        ],
        how="vertical_relaxed",
    )
    ch = (
        ch.with_columns(run_id=pl.lit(run_id))
        .select(list(CHANGES_SCHEMA))
        .cast(dict(CHANGES_SCHEMA))
    )
    # each record's key by its cluster's row in `clusters` (every cluster is in it once)
    slot = np.empty(int(labels.max()) + 1 if len(labels) else 0, dtype=np.int64)
    slot[clusters["cl"].to_numpy()] = np.arange(clusters.height)
    keys = clusters["key"].gather(slot[labels]).alias("customer_key")
    return keys, ch


def _cluster_ids(fresh: pl.DataFrame, labels: np.ndarray) -> pl.DataFrame:
    """Per cluster of `fresh` (records: rec, cl, prev): its smallest record id `minrec` and its
    previous keys `prevs` (sorted). A record alone in its cluster (most of them) is that
    cluster's row as it is; only the others are grouped."""
    size = np.bincount(labels)
    alone = pl.Series(size[fresh["cl"].to_numpy()] == 1)
    singles = fresh.filter(alone).select(
        "cl", minrec="rec", prevs=pl.concat_list("prev").list.drop_nulls()
    )
    many = fresh.filter(~alone)
    if many.height and many["prev"].null_count() < many.height:
        prevs = pl.col("prev").drop_nulls().unique().sort()
    else:  # (no previous keys to list: a first run)
        prevs = pl.lit([], pl.List(pl.String))
    grouped = many.group_by("cl").agg(minrec=pl.col("rec").min(), prevs=prevs)
    return pl.concat([singles, grouped])
