"""Guards against false merges: placeholder and shared contact points, configured link pairs.

A contact value that is a placeholder (test@test.com, 13800000000, a 400- hotline) or that is
shared by more distinct names than `guards.max_names_per_value` is *guarded*: it never links two
records by itself; such a pair needs corroboration from name, birth date or address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from crmkit.identity import normalize as nz

GUARD_SCHEMA = pl.Schema(
    {
        "kind": pl.String(),
        "value": pl.String(),
        "records": pl.UInt32(),
        "names": pl.UInt32(),
        "reason": pl.String(),
    }
)


def guarded_values(
    feat: pl.DataFrame,
    settings: Mapping[str, Any],
    *,
    only: Mapping[str, pl.Series] | None = None,
) -> pl.DataFrame:
    """Every guarded e-mail and phone value with its record and distinct-name counts and reason.

    `only` (kind -> values): look at these values alone. An incremental run passes the values of
    its new records and the values guarded before: no other value can have changed status.
    """
    bl = settings["blocklist"]
    g = settings["guards"]
    out = []
    for kind, col, blocked in (
        ("email", "email_key", nz.email_blocked(pl.col("value"), bl)),
        ("phone", "phone_key", nz.phone_blocked(pl.col("value"), bl)),
    ):
        lf = feat.lazy().filter(pl.col(col).is_not_null())
        if only is not None:
            lf = lf.filter(pl.col(col).is_in(only[kind].implode()))
        stats = (
            lf.group_by(pl.col(col).alias("value"))
            # distinct names counted by a 64-bit hash of the name: cheaper than the strings
            .agg(records=pl.len(), names=pl.col("pinyin_key").drop_nulls().hash(3).n_unique())
            .with_columns(
                kind=pl.lit(kind),
                reason=pl.when(blocked)
                .then(pl.lit("blocklist"))
                .when(pl.col("names") > g["max_names_per_value"])
                .then(pl.lit("shared by many names"))
                .when(pl.col("records") > g["max_records_per_value"])
                .then(pl.lit("shared by many records")),
            )
            .filter(pl.col("reason").is_not_null())
        )
        out.append(stats)
    return (
        pl.concat(out)
        .select(list(GUARD_SCHEMA))
        .cast(dict(GUARD_SCHEMA))
        .sort("kind", "records", "value", descending=[False, True, False])
        .collect()
    )


def values_to_check(feat: pl.DataFrame, fresh: pl.Series) -> dict[str, pl.Series]:
    """For an incremental run: the contact values whose guard status may have changed (those of
    the records normalised in this run, `fresh`) plus those guarded before (`*_ok` false)."""
    out = {}
    for kind, col in (("email", "email_key"), ("phone", "phone_key")):
        out[kind] = (
            feat.filter(pl.lit(fresh) | ~pl.col(f"{kind}_ok").fill_null(True))
            .get_column(col)
            .drop_nulls()
            .unique()
        )
    return out


def apply_guards(feat: pl.DataFrame, guards: pl.DataFrame) -> pl.DataFrame:
    """Add `email_ok` / `phone_ok`: the record's contact value may act as a key on its own."""
    out = feat
    for kind, col in (("email", "email_key"), ("phone", "phone_key")):
        bad = guards.filter(pl.col("kind") == kind)["value"]
        out = out.with_columns(
            (pl.col(col).is_not_null() & ~pl.col(col).is_in(bad.implode())).alias(f"{kind}_ok")
        )
    return out


def parse_pairs(pairs: list[Any], feat: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Configured must-link / cannot-link pairs ("source:id") as rid pairs (unknown ids skipped)."""
    if not pairs:
        return pl.DataFrame(schema={"rid_l": pl.Int64, "rid_r": pl.Int64, "rule": pl.String})
    rows = []
    for a, b in pairs:
        sa, ia = str(a).split(":", 1)
        sb, ib = str(b).split(":", 1)
        rows.append((sa, ia, sb, ib))
    p = pl.DataFrame(rows, schema=["sa", "ia", "sb", "ib"], orient="row")
    ids = feat.select("rid", "source", "source_record_id")
    p = p.join(
        ids.rename({"rid": "a", "source": "sa", "source_record_id": "ia"}), on=["sa", "ia"]
    ).join(ids.rename({"rid": "b", "source": "sb", "source_record_id": "ib"}), on=["sb", "ib"])
    return p.select(
        rid_l=pl.min_horizontal("a", "b"), rid_r=pl.max_horizontal("a", "b"), rule=pl.lit(kind)
    ).filter(pl.col("rid_l") != pl.col("rid_r"))
