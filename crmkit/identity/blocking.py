"""Blocking: candidate record pairs from polars self-joins on several keys, with block-size caps.

Only records that share at least one blocking key are ever compared. A block larger than its cap
(a common name in a big city) is skipped and counted in the report rather than exploding into
millions of pairs; the other keys still catch the true matches inside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl


def _cat(*cols: str | pl.Expr) -> pl.Expr:
    exprs = [pl.col(c) if isinstance(c, str) else c for c in cols]
    return pl.concat_str([e.cast(pl.String) for e in exprs], separator="|")


def _initial(col: str) -> pl.Expr:
    return pl.col(col).str.slice(0, 1)


KEYS: dict[str, pl.Expr] = {
    "email": pl.when(pl.col("email_ok")).then(pl.col("email_key")),
    "phone": pl.when(pl.col("phone_ok")).then(pl.col("phone_key")),
    "name_postcode": _cat("name_key", "postcode_key"),
    "name_city": _cat("pinyin_key", "city_key"),
    "name_birth": _cat("pinyin_key", "birth"),
    "pinyin": pl.col("pinyin_key"),
    "surname_postcode_given": _cat("surname_py", "postcode_key", _initial("given_py")),
    "given_birth": _cat("given_py", "birth"),
    "surname_birth": _cat("surname_py", "birth"),
    "birth_postcode": _cat("birth", "postcode_key"),
    "address_postcode": _cat(pl.col("address_key").str.slice(0, 12), "postcode_key"),
    "given_postcode": _cat("given_py", "postcode_key"),
    "surname_address": _cat("surname_py", pl.col("address_key").str.slice(0, 10)),
    "given_address": _cat("given_py", pl.col("address_key").str.slice(0, 10)),
}
CONTACT_KEYS = ("email", "phone")


def candidate_pairs(
    feat: pl.DataFrame,
    settings: Mapping[str, Any],
    *,
    new: pl.Series | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Distinct candidate pairs `(rid_l < rid_r)` and per-key statistics (pairs, skipped blocks).

    With `new` (a Series of rids), only pairs that involve at least one new record are built:
    the incremental run compares new records with everything, not the history with itself.
    """
    cfg = settings["blocking"]
    frames = []
    stats = []
    lf = feat.lazy()
    for name in cfg["keys"]:
        if name not in KEYS:
            continue
        cap = cfg["max_contact_block_size"] if name in CONTACT_KEYS else cfg["max_block_size"]
        k = lf.select("rid", key=KEYS[name]).filter(pl.col("key").is_not_null())
        sizes = k.group_by("key").agg(n=pl.len())
        kept = sizes.filter((pl.col("n") >= 2) & (pl.col("n") <= cap)).select("key")
        skipped = sizes.filter(pl.col("n") > cap)
        k = k.join(kept, on="key", how="semi")
        if new is None:
            pairs = (
                k.join(k, on="key", suffix="_r")
                .filter(pl.col("rid") < pl.col("rid_r"))
                .select(rid_l="rid", rid_r="rid_r")
            )
        else:
            kn = k.filter(pl.col("rid").is_in(new.implode()))
            pairs = (
                kn.join(k, on="key", suffix="_r")
                .filter(pl.col("rid") != pl.col("rid_r"))
                .select(
                    rid_l=pl.min_horizontal("rid", "rid_r"),
                    rid_r=pl.max_horizontal("rid", "rid_r"),
                )
            )
        pairs = pairs.unique()
        frames.append(pairs.with_columns(block=pl.lit(name)))
        stats.append(
            skipped.select(
                key=pl.lit(name),
                skipped_blocks=pl.len().cast(pl.Int64),
                skipped_records=pl.col("n").sum().cast(pl.Int64),
            )
        )
    if not frames:
        empty = pl.DataFrame(schema={"rid_l": pl.Int64, "rid_r": pl.Int64, "block": pl.String})
        return empty, pl.DataFrame()
    allp = pl.concat(frames).collect()
    by_key = allp.group_by("block").agg(pairs=pl.len()).rename({"block": "key"})
    # Keep the first key (in configured order) that produced each pair, for the explain output.
    order = {n: i for i, n in enumerate(cfg["keys"])}
    pairs = (
        allp.with_columns(_o=pl.col("block").replace_strict(order, return_dtype=pl.Int32))
        .sort("rid_l", "rid_r", "_o")
        .unique(["rid_l", "rid_r"], keep="first", maintain_order=True)
        .drop("_o")
    )
    st = pl.concat(stats).collect().join(by_key, on="key", how="full", coalesce=True)
    return pairs, st.fill_null(0).sort("key")
