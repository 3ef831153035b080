"""Matching features of person-records: the normalised keys every later step compares.

`prepare` turns the records frame into one row per record with an integer `rid` (the order of
`(source, source_record_id)`, so ties are broken by value) and the normalised fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from crmkit.identity import normalize as nz

FEATURES = (
    "rid",
    "source",
    "source_record_id",
    "name_norm",
    "name_key",
    "given",
    "surname",
    "given_py",
    "surname_py",
    "pinyin_key",
    "given_code",
    "surname_code",
    "email_key",
    "phone_key",
    "birth",
    "postcode_key",
    "city_key",
    "address_key",
    "street_number",
    "street_key",
    "gender",
)


def _full_name(fb: list[str]) -> pl.Expr:
    """Full name from `full_name`, else first + last (Chinese: surname first, no space)."""
    first = pl.col("first_name").cast(pl.String).str.strip_chars()
    last = pl.col("last_name").cast(pl.String).str.strip_chars()
    both_han = first.str.contains(nz.HAN) | last.str.contains(nz.HAN)
    joined = (
        pl.when(both_han)
        .then(pl.concat_str(last.fill_null(""), first.fill_null("")))
        .otherwise(pl.concat_str(first.fill_null(""), pl.lit(" "), last.fill_null("")))
        .str.strip_chars()
    )
    full = pl.col("full_name").cast(pl.String)
    return (
        pl.when(full.is_not_null() & (full.str.strip_chars() != ""))
        .then(full)
        .otherwise(pl.when(joined != "").then(joined))
    )


def _on_values(df: pl.DataFrame, col: str, expr: pl.Expr, name: str) -> pl.Series:
    """`expr` (over `pl.col(col)`) for every row, evaluated once per distinct value when values
    repeat a lot (cities, shared street names), else row by row."""
    uniq = df.get_column(col).unique()
    if 4 * len(uniq) > df.height:
        return df.select(expr.alias(name)).to_series()
    out = pl.DataFrame({col: uniq}).select(expr.alias(name)).to_series()
    return df.get_column(col).replace_strict(uniq, out, return_dtype=out.dtype).alias(name)


def _sorted_words(name: pl.Expr) -> pl.Expr:
    """The space-separated words of a name in sorted order (most names have one or two)."""
    first = name.str.extract(r"^(\S+) ", 1)
    rest = name.str.extract(r"^\S+ (\S+)$", 1)
    return (
        pl.when(~name.str.contains(" ", literal=True))
        .then(name)
        .when(rest.is_null())
        .then(name.str.split(" ").list.sort().list.join(" "))
        .when(first <= rest)
        .then(name)
        .otherwise(pl.concat_str(rest, pl.lit(" "), first))
    )


def prepare(
    records: pl.DataFrame, settings: Mapping[str, Any], *, keep: tuple[str, ...] = ()
) -> pl.DataFrame:
    """Normalise names, contact points, dates and addresses of every record (vectorised).

    `keep`: further columns of `records` to carry along unchanged.
    """
    order = records.select(pl.arg_sort_by("source", "source_record_id", maintain_order=True))
    order = order.to_series().to_numpy()
    # (records come sorted from `build_records`: then no reordered copy of millions of rows)
    in_order = bool((order == np.arange(len(order))).all())
    df = (records if in_order else records[order]).with_row_index("rid")
    inputs = [c for c in INPUTS if c in df.columns]
    bare = df.select(pl.all_horizontal(pl.col(c).is_null() for c in inputs)).to_series()
    if not bare.any():
        return _normalised(df, settings, keep)
    if bare.all():
        return _bare(df, keep)
    # normalise only the records that have something to normalise
    both = [_normalised(df.filter(~bare), settings, keep), _bare(df.filter(bare), keep)]
    return pl.concat(both).sort("rid")


# Every field `prepare` reads: a record with none of them (only an id) has no features.
INPUTS = (
    "first_name",
    "last_name",
    "full_name",
    "email",
    "email_raw",
    "phone",
    "phone_raw",
    "gender",
    "birth_date",
    "address_line",
    "city",
    "postcode",
)


def _bare(df: pl.DataFrame, keep: tuple[str, ...]) -> pl.DataFrame:
    """The features of records that carry nothing but their id: all null (as normalising them
    would give, without building a column per step for millions of them)."""
    nulls = [
        pl.lit(None, pl.Date() if c == "birth" else pl.String()).alias(c) for c in FEATURES[3:]
    ]
    return df.select(pl.col("rid").cast(pl.Int64), "source", "source_record_id", *nulls, *keep)


def _normalised(
    df: pl.DataFrame, settings: Mapping[str, Any], keep: tuple[str, ...]
) -> pl.DataFrame:
    """`prepare` of records in rid order (`df` has `rid`)."""
    bl = settings["blocklist"]
    blocked_names = list(bl.get("names", []))
    region = settings.get("phone_region")
    df = df.with_columns(
        _full=_full_name(blocked_names),
        email_key=nz.email_key(pl.coalesce("email", "email_raw"), settings["email"]),
        _ph=pl.coalesce("phone", "phone_raw"),
        birth=nz.birth_date_norm(pl.col("birth_date"), list(bl.get("birth_dates", []))),
        postcode_key=nz.postcode_norm(pl.col("postcode")),
        gender=pl.col("gender").cast(pl.String),
    )
    df = df.with_columns(
        _on_values(
            df,
            "city",
            nz.clean_text(pl.col("city")).str.replace_all(" ", "", literal=True),
            "city_key",
        ),
        _on_values(df, "address_line", nz.address_norm(pl.col("address_line")), "address_key"),
        _full=nz.latin_clean(pl.col("_full")),
        first_n=nz.latin_clean(pl.col("first_name")),
        last_n=nz.latin_clean(pl.col("last_name")),
    )
    df = df.with_columns(
        phone_key=nz.phone_key(
            pl.col("_ph"), region, revalidate=bool(settings["phone"].get("revalidate"))
        ),
        _full=nz.to_simplified(pl.col("_full")),
        first_n=nz.to_simplified(pl.col("first_n")),
        last_n=nz.to_simplified(pl.col("last_n")),
    )
    df = df.with_columns(
        name_norm=nz.name_from_clean(pl.col("_full"), blocked_names),
        first_n=nz.name_from_clean(pl.col("first_n")),
        last_n=nz.name_from_clean(pl.col("last_n")),
    )
    given, surname = nz.split_name(pl.col("name_norm"))
    has_parts = pl.col("first_n").is_not_null() & pl.col("last_n").is_not_null()
    named = pl.col("name_norm").is_not_null()
    df = df.with_columns(
        given=pl.when(named).then(pl.when(has_parts).then(pl.col("first_n")).otherwise(given)),
        surname=pl.when(named).then(pl.when(has_parts).then(pl.col("last_n")).otherwise(surname)),
    )
    g, sn = pl.col("given_py"), pl.col("surname_py")
    df = (
        df.with_columns(
            given_py=nz.pinyin(pl.col("given")),
            surname_py=nz.pinyin(pl.col("surname"), surname=True),
            name_key=pl.when(pl.col("name_norm").str.contains(nz.HAN))
            .then(pl.col("name_norm"))
            .otherwise(_sorted_words(pl.col("name_norm"))),
        )
        .with_columns(
            # house number and street, once per distinct address line
            _on_values(df, "address_key", nz.street_number(pl.col("address_key")), "street_number"),
            _on_values(df, "address_key", nz.street_name(pl.col("address_key")), "street_key"),
        )
        .with_columns(
            given_code=nz.phonetic(g),
            surname_code=nz.phonetic(sn),
            # the two romanised parts in sorted order
            pinyin_key=pl.when(named).then(
                pl.when(g.is_null() & sn.is_null())
                .then(pl.lit(""))
                .when(g.is_null())
                .then(sn)
                .when(sn.is_null())
                .then(g)
                .when(g <= sn)
                .then(pl.concat_str(g, pl.lit(" "), sn))
                .otherwise(pl.concat_str(sn, pl.lit(" "), g))
            ),
        )
    )
    return df.select(*FEATURES, *keep).with_columns(pl.col("rid").cast(pl.Int64))
