"""Matching features of person-records: the normalised keys every later step compares.

`prepare` turns the records frame into one row per record with an integer `rid` (the order of
`(source, source_record_id)`, so ties are broken by value) and the normalised fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
    "email_key",
    "phone_key",
    "birth",
    "postcode_key",
    "city_key",
    "address_key",
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


def prepare(records: pl.DataFrame, settings: Mapping[str, Any]) -> pl.DataFrame:
    """Normalise names, contact points, dates and addresses of every record (vectorised)."""
    bl = settings["blocklist"]
    blocked_names = list(bl.get("names", []))
    df = records.sort("source", "source_record_id").with_row_index("rid")
    region = settings.get("phone_region")
    df = df.with_columns(
        _full=nz.latin_clean(_full_name(blocked_names)),
        first_n=nz.latin_clean(pl.col("first_name")),
        last_n=nz.latin_clean(pl.col("last_name")),
        email_key=nz.email_key(pl.coalesce("email", "email_raw"), settings["email"]),
        _ph=pl.coalesce("phone", "phone_raw"),
        birth=nz.birth_date_norm(pl.col("birth_date"), list(bl.get("birth_dates", []))),
        postcode_key=nz.postcode_norm(pl.col("postcode")),
        city_key=nz.clean_text(pl.col("city")).str.replace_all(" ", "", literal=True),
        address_key=nz.address_norm(pl.col("address_line")),
        gender=pl.col("gender").cast(pl.String),
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
    df = df.with_columns(
        given=pl.when(has_parts).then(pl.col("first_n")).otherwise(given),
        surname=pl.when(has_parts).then(pl.col("last_n")).otherwise(surname),
    ).with_columns(
        pl.when(pl.col("name_norm").is_null()).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("given", "surname")
    )
    df = df.with_columns(
        given_py=nz.pinyin(pl.col("given")),
        surname_py=nz.pinyin(pl.col("surname"), surname=True),
        name_key=pl.when(pl.col("name_norm").str.contains(nz.HAN))
        .then(pl.col("name_norm"))
        .otherwise(pl.col("name_norm").str.split(" ").list.sort().list.join(" ")),
    ).with_columns(
        pinyin_key=pl.when(pl.col("name_norm").is_not_null()).then(
            pl.concat_list(pl.col("given_py"), pl.col("surname_py"))
            .list.drop_nulls()
            .list.sort()
            .list.join(" ")
        )
    )
    return df.select(FEATURES).with_columns(pl.col("rid").cast(pl.Int64))
