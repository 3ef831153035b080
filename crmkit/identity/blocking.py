"""Blocking: candidate record pairs from polars self-joins on several keys, with block-size caps.

Only records that share at least one blocking key are ever compared. A block larger than its cap
(a common name in a big city) is skipped and counted in the report rather than exploding into
millions of pairs; the other keys still catch the true matches inside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from crmkit.identity.arrays import unique


def _cat(*cols: str | pl.Expr) -> pl.Expr:
    exprs = [pl.col(c) if isinstance(c, str) else c for c in cols]
    return pl.concat_str([e.cast(pl.String) for e in exprs], separator="|")


def _initial(col: str) -> pl.Expr:
    return pl.col(col).str.slice(0, 1)


def _either_name(*cols: str) -> pl.Expr:
    """Two keys per record: the sound of the given name, and of the surname, each with `cols`.
    A record shares a block with another when either name part sounds alike and `cols` agree,
    so a typo in one part, or given and surname entered the other way round, still meet."""
    surname = pl.when(pl.col("surname_code").ne_missing(pl.col("given_code"))).then(
        _cat("surname_code", *cols)
    )  # one value when both parts sound alike: a record is in a block once
    return pl.concat_list(_cat("given_code", *cols), surname)


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
    "phonetic_birth": _either_name("birth"),
    "phonetic_postcode": _either_name("postcode_key"),
    "birth_city": _cat("birth", "city_key"),
    "street_city": _cat("street_key", "city_key"),
    "number_street": _cat("street_number", "street_key"),
}
# A column every member of a block shares, with few records per value: in an incremental run
# the records whose value a new record carries are found first, and only their keys are built.
NARROW: dict[str, str] = {
    "email": "email_key",
    "phone": "phone_key",
    "name_postcode": "name_key",
    "name_city": "pinyin_key",
    "name_birth": "pinyin_key",
    "pinyin": "pinyin_key",
    "surname_postcode_given": "postcode_key",
    "given_birth": "birth",
    "surname_birth": "birth",
    "birth_postcode": "birth",
    "address_postcode": "postcode_key",
    "given_postcode": "postcode_key",
    "surname_address": "address_key",
    "given_address": "address_key",
    "phonetic_birth": "birth",
    "phonetic_postcode": "postcode_key",
    "birth_city": "birth",
    "street_city": "street_key",
    "number_street": "street_key",
}
CONTACT_KEYS = ("email", "phone")


def _block_members(
    feat: pl.DataFrame, name: str, cap: int, new: np.ndarray | None, fresh: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rid, key, _new) of the records in blocks of 2..cap records, and the skipped blocks.

    With `new` (a mask per rid) and `fresh` (those records), only the blocks that hold a new
    record are looked at, found through a column all members share (`NARROW`).
    """
    rows = feat
    if new is not None and fresh is not None:
        narrow = pl.col(NARROW[name])
        if name in ("surname_address", "given_address"):
            narrow = narrow.str.slice(0, 10)
        values = fresh.select(narrow.unique()).to_series()
        rows = feat.filter(narrow.is_in(values.implode()))
    # blocks by a 64-bit hash of the key: integer group-bys and joins are several times faster
    # than on strings; two keys sharing a hash (p ≈ 1e-8 per million keys) only add pairs
    k = rows.lazy().select("rid", key=KEYS[name])
    if isinstance(k.collect_schema()["key"], pl.List):  # several (distinct) keys per record
        k = k.explode("key")
    k = k.filter(pl.col("key").is_not_null()).with_columns(pl.col("key").hash(seed=11)).collect()
    if new is not None:
        k = k.with_columns(_new=pl.Series(new[k["rid"].to_numpy()]))
        k = k.filter(pl.col("key").is_in(k.filter("_new")["key"].implode()))
    k = k.with_columns(_n=pl.len().over("key"))
    big = k.filter(pl.col("_n") > cap)
    skipped = pl.DataFrame(
        {
            "key": [name],
            "skipped_blocks": [big["key"].n_unique()],
            "skipped_records": [big.height],
        },
        schema={"key": pl.String, "skipped_blocks": pl.Int64, "skipped_records": pl.Int64},
    )
    return k.filter((pl.col("_n") >= 2) & (pl.col("_n") <= cap)), skipped


def candidate_pairs(
    feat: pl.DataFrame,
    settings: Mapping[str, Any],
    *,
    new: pl.Series | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Distinct candidate pairs `(rid_l < rid_r)` and per-key statistics (pairs, skipped blocks).

    With `new` (a Series of rids), only pairs that involve at least one new record are built:
    the incremental run compares new records with everything, not the history with itself (and
    its skipped-block counts cover the blocks of new records only).
    """
    cfg = settings["blocking"]
    names = [n for n in cfg["keys"] if n in KEYS]
    codes, stats = [], []
    width = np.int64(max(feat.height, 1))
    mask = fresh = None
    if new is not None:
        mask = np.zeros(feat.height, dtype=bool)
        mask[new.to_numpy()] = True
        fresh = feat.filter(pl.Series(mask))
    for order, name in enumerate(names):
        cap = cfg["max_contact_block_size"] if name in CONTACT_KEYS else cfg["max_block_size"]
        members, skipped = _block_members(feat, name, cap, mask, fresh)
        left = members.filter("_new") if new is not None else members
        other = pl.col("rid") < pl.col("rid_r") if new is None else pl.col("rid") != pl.col("rid_r")
        pairs = (
            left.select("rid", "key")
            .join(members.select("rid", "key"), on="key", suffix="_r")
            .filter(other)
            .select(
                # one integer per pair (rid_l * n + rid_r) and the key's position, for sorting
                code=(pl.min_horizontal("rid", "rid_r") * width + pl.max_horizontal("rid", "rid_r"))
                * len(names)
                + order
            )
        )
        codes.append(pairs["code"].to_numpy())
        stats.append(skipped)
    if not names:
        empty = pl.DataFrame(schema={"rid_l": pl.Int64, "rid_r": pl.Int64, "block": pl.String})
        return empty, pl.DataFrame()
    # distinct (pair, key); then per pair the first key in configured order (for explain)
    per_key = unique(np.concatenate(codes))
    pair, order = np.divmod(per_key, len(names))
    first = np.ones(len(pair), dtype=bool)
    first[1:] = pair[1:] != pair[:-1]
    rid_l, rid_r = np.divmod(pair[first], width)
    pairs = pl.DataFrame(
        {
            "rid_l": rid_l.astype(np.int64),
            "rid_r": rid_r.astype(np.int64),
            "block": pl.Series(np.asarray(names, dtype=object)[order[first]], dtype=pl.String),
        }
    )
    by_key = pl.DataFrame(
        {"key": names, "pairs": np.bincount(order, minlength=len(names)).astype(np.uint32)}
    )
    st = pl.concat(stats).join(by_key, on="key", how="full", coalesce=True)
    return pairs, st.fill_null(0).select("key", "skipped_blocks", "skipped_records", "pairs").sort(
        "key"
    )
