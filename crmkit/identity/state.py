"""Incremental state: the normalised features of every record, kept between runs.

Each run returns `Resolution.features` (stored by the ingest step as `identity_features`): per
record, in `(source, source_record_id)` order like the identity map, the matching features,
whether its e-mail / phone may act as a key, and two fingerprints of its raw values (the fields
matching reads, and the whole record). The next run takes a stored record's features as they
are when both fingerprints still agree, normalises only new and changed records, and learns
which customers' golden records may have changed.

The stored table is used only when it belongs to the previous identity map (same records in the
same order) and was built with the same settings and versions (`state`); otherwise every record
is normalised again, which gives the same features.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from crmkit.identity.features import FEATURES, INPUTS, prepare
from crmkit.identity.records import RECORD_SCHEMA

# Bump when normalisation or guards change what they produce from the same input.
STATE_VERSION = "2"
# the fields normalisation reads, with the record's id
MATCH_COLUMNS = ("source", "source_record_id", *INPUTS)
FEATURES_SCHEMA = pl.Schema(
    {
        "source": pl.String(),
        "source_record_id": pl.String(),
        "fp_match": pl.UInt64(),
        "fp_record": pl.UInt64(),
        **{
            c: pl.Date() if c == "birth" else pl.String()
            for c in FEATURES
            if c not in ("rid", "source", "source_record_id")
        },
        "email_ok": pl.Boolean(),
        "phone_ok": pl.Boolean(),
        "state": pl.String(),
    }
)
PREV_SCHEMA = pl.Schema(
    {"prev_key": pl.String(), "prev_rule": pl.String(), "prev_score": pl.Float64()}
)


def state_tag(settings: Mapping[str, Any]) -> str:
    """What stored features depend on besides the record: this code, the polars version and
    every identity setting (a changed setting costs one full normalisation, never a wrong one).
    """
    blob = json.dumps(settings, sort_keys=True, default=str)
    digest = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]
    return f"v{STATE_VERSION}|polars {pl.__version__}|{digest}"


def fingerprints(records: pl.DataFrame) -> pl.DataFrame:
    """fp_match (the fields normalisation reads) and fp_record (every field) per record."""
    return pl.DataFrame(
        {
            "fp_match": records.select(MATCH_COLUMNS).hash_rows(seed=23),
            "fp_record": records.select(c for c in RECORD_SCHEMA if c in records.columns).hash_rows(
                seed=29
            ),
        }
    )


@dataclass
class Prepared:
    """The records in rid order with their features, and what changed since the last run.

    `feat`: rid, FEATURES, fp_match, fp_record, email_ok / phone_ok (as stored; null for records
    normalised in this run), `_rec` (the record's row in the input). `prev`: rid, source,
    source_record_id and the previous run's key, rule and score.
    """

    feat: pl.DataFrame
    prev: pl.DataFrame
    reused: np.ndarray  # per rid: features taken from the stored table (record unchanged)
    changed: np.ndarray  # per rid: in the previous map, but its matching fields changed
    removed: pl.DataFrame  # source, source_record_id, prev_key of records no longer there
    stored: bool  # the stored table was used


_REMOVED_NONE = pl.DataFrame(
    schema={"source": pl.String, "source_record_id": pl.String, "prev_key": pl.String}
)


def _previous_columns(previous: pl.DataFrame | None) -> pl.DataFrame | None:
    if previous is None or previous.height == 0:
        return None
    return previous.select(
        "source",
        "source_record_id",
        prev_key=pl.col("customer_key"),
        prev_rule=pl.col("match_rule") if "match_rule" in previous.columns else pl.lit(None),
        prev_score=pl.col("match_score") if "match_score" in previous.columns else pl.lit(None),
    ).cast(dict(PREV_SCHEMA))


def _usable(stored: pl.DataFrame | None, prev: pl.DataFrame | None, tag: str) -> bool:
    """The stored features describe exactly the previous map's records, under these settings."""
    if stored is None or prev is None or stored.height != prev.height or stored.height == 0:
        return False
    if any(c not in stored.columns for c in FEATURES_SCHEMA):
        return False
    return bool(
        (stored["state"] == tag).fill_null(False).all()
        and (stored["source"] == prev["source"]).all()
        and (stored["source_record_id"] == prev["source_record_id"]).all()
    )


def load(
    records: pl.DataFrame,
    settings: Mapping[str, Any],
    *,
    previous: pl.DataFrame | None,
    stored: pl.DataFrame | None,
) -> Prepared:
    """Features of every record (rid order): from the stored table where the record is
    unchanged, else normalised now."""
    prev = _previous_columns(previous)
    recs = records.with_columns(fingerprints(records), _rec=pl.int_range(pl.len(), dtype=pl.Int64))
    if not _usable(stored, prev, state_tag(settings)):
        feat = prepare(recs, settings, keep=("fp_match", "fp_record", "_rec"))
        p = feat.select("rid", "source", "source_record_id")
        if prev is None:
            p = p.with_columns(pl.lit(None, t).alias(c) for c, t in PREV_SCHEMA.items())
        else:
            p = p.join(
                prev.unique(["source", "source_record_id"], keep="first"),
                on=["source", "source_record_id"],
                how="left",
                maintain_order="left",
            )
        none = np.zeros(feat.height, dtype=bool)
        return Prepared(feat, p, none, none, _REMOVED_NONE, False)
    assert stored is not None and prev is not None
    return _from_stored(recs, stored, prev, settings)


def _key(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `_k`: source and record id as one string, ordered like the pair (no NUL in sources)."""
    return frame.with_columns(_k=pl.concat_str("source", pl.lit("\x00"), "source_record_id"))


def _from_stored(
    recs: pl.DataFrame, stored: pl.DataFrame, prev: pl.DataFrame, settings: Mapping[str, Any]
) -> Prepared:
    old = _key(
        pl.concat(
            [stored.select(*FEATURES_SCHEMA).drop("state"), prev.select(*PREV_SCHEMA)],
            how="horizontal",
        ).with_row_index("_srow")
    )
    j = _key(recs.select("source", "source_record_id", "fp_match", "fp_record", "_rec"))
    j = j.select("_k", "fp_match", "fp_record", "_rec").join(
        old.select("_k", "_srow", _m="fp_match", _r="fp_record"), on="_k", how="left"
    )
    same = (pl.col("fp_match") == pl.col("_m")) & (pl.col("fp_record") == pl.col("_r"))
    j = j.with_columns(_same=same.fill_null(False))
    kept = j.filter("_same")
    srow = kept["_srow"].to_numpy()
    keep = np.zeros(old.height, dtype=bool)
    keep[srow] = True
    rec_of = np.zeros(old.height, dtype=np.int64)
    rec_of[srow] = kept["_rec"].to_numpy()
    # stored rows stay in their (sorted) order; their record's row in the input rides along
    reused = (
        old.filter(pl.Series(keep))
        .with_columns(_rec=pl.Series(rec_of[keep]), _reused=pl.lit(True), _changed=pl.lit(False))
        .drop("_srow")
    )
    todo = j.filter(~pl.col("_same"))
    fresh = prepare(recs[todo["_rec"].to_numpy()], settings, keep=("fp_match", "fp_record", "_rec"))
    fresh = (
        _key(fresh.drop("rid"))
        .join(todo.select("_rec", "_srow", "_m"), on="_rec", how="left", maintain_order="left")
        .join(old.select("_srow", *PREV_SCHEMA), on="_srow", how="left", maintain_order="left")
        .with_columns(
            email_ok=pl.lit(None, pl.Boolean),
            phone_ok=pl.lit(None, pl.Boolean),
            _reused=pl.lit(False),
            # an old record whose matching fields changed is matched again like a new one
            _changed=(pl.col("_m") != pl.col("fp_match")).fill_null(False),
        )
        .select(reused.columns)
    )
    seen = np.zeros(old.height, dtype=bool)
    seen[j["_srow"].drop_nulls().to_numpy()] = True
    # both parts are sorted: the sort of their concatenation is cheap
    merged = pl.concat([reused, fresh]).sort("_k").with_row_index("rid")
    feat = merged.select(
        pl.col("rid").cast(pl.Int64),
        *FEATURES[1:],
        "fp_match",
        "fp_record",
        "email_ok",
        "phone_ok",
        "_rec",
    )
    return Prepared(
        feat=feat,
        prev=merged.select(
            pl.col("rid").cast(pl.Int64), "source", "source_record_id", *PREV_SCHEMA
        ),
        reused=merged["_reused"].to_numpy(),
        changed=merged["_changed"].to_numpy(),
        removed=prev.filter(pl.Series(~seen)).select("source", "source_record_id", "prev_key"),
        stored=True,
    )


def to_store(feat: pl.DataFrame, settings: Mapping[str, Any]) -> pl.DataFrame:
    """The `identity_features` table of this run (rid order, like the identity map)."""
    return (
        feat.with_columns(state=pl.lit(state_tag(settings)))
        .select(list(FEATURES_SCHEMA))
        .cast(dict(FEATURES_SCHEMA))
    )
