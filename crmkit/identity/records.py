"""Person-records: every customer record plus every distinct customer reference on the facts.

A fact row (order, ticket, survey answer, event) names its customer by `customer_id` or only by
e-mail / phone / name (guest checkouts, POS receipts). Each distinct reference per source becomes
one person-record so identity resolution sees every way a person appears, and each fact can later
be joined back to its customer through `(source, ref_record_id)`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import polars as pl

from crmkit.identity import normalize as nz

FACT_TIME = {
    "orders": "ordered_at",
    "tickets": "created_at",
    "survey_responses": "responded_at",
    "events": "occurred_at",
}
REF_COLUMNS = ("customer_id", "customer_email", "customer_phone", "customer_name")
RECORD_SCHEMA = pl.Schema(
    {
        "source": pl.String(),
        "source_record_id": pl.String(),
        "origin_table": pl.String(),
        "first_name": pl.String(),
        "last_name": pl.String(),
        "full_name": pl.String(),
        "email": pl.String(),
        "email_raw": pl.String(),
        "phone": pl.String(),
        "phone_raw": pl.String(),
        "gender": pl.String(),
        "birth_date": pl.Date(),
        "address_line": pl.String(),
        "city": pl.String(),
        "region": pl.String(),
        "postcode": pl.String(),
        "country": pl.String(),
        "signup_at": pl.Datetime("us", "UTC"),
        "acquisition_channel": pl.String(),
        "loyalty_member": pl.Boolean(),
        "referred_by": pl.String(),
        "tags": pl.List(pl.String()),
        "source_file": pl.String(),
        "source_line": pl.Int64(),
        "first_seen_at": pl.Datetime("us", "UTC"),
        "last_seen_at": pl.Datetime("us", "UTC"),
        "fact_count": pl.Int64(),
    }
)
_ORIGIN_RANK = {"customers": 0, "orders": 1, "tickets": 2, "survey_responses": 3, "events": 4}


def _sha_ref(value: str) -> str:
    return "ref:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:20]


def reference_id(
    frame: pl.LazyFrame | pl.DataFrame | None = None, *, distinct: bool = False
) -> Any:
    """A fact row's reference record id: `customer_id`, else "ref:" + sha256(email, phone, name).

    Without an argument, the polars expression (needs the four `customer_*` columns); with a frame,
    the frame plus a `ref_record_id` column. The hash is computed in Python, so it is the same on
    every polars version and every run: on distinct values by default; row by row, and only
    where there is no `customer_id`, with `distinct` (rows that are distinct references already,
    such as `reference_groups`, where finding and mapping back distinct values costs more than
    it saves).
    """
    cid = pl.col("customer_id").cast(pl.String).str.strip_chars()
    has_id = cid.is_not_null() & (cid != "")
    parts = [
        pl.col(c).cast(pl.String).fill_null("")
        for c in ("customer_email", "customer_phone", "customer_name")
    ]
    joined = pl.concat_str(parts, separator="\x1f")
    if distinct:
        hashed = (
            pl.when(~has_id)
            .then(joined)
            .map_batches(_sha_refs, return_dtype=pl.String, is_elementwise=True)
        )
    else:
        hashed = nz.on_distinct(joined, _sha_ref, pl.String())
    any_ref = pl.any_horizontal(
        pl.col(c).is_not_null() for c in ("customer_email", "customer_phone", "customer_name")
    )
    expr = pl.when(has_id).then(cid).when(any_ref).then(hashed).alias("ref_record_id")
    if frame is None:
        return expr
    return _with_ref_columns(frame).with_columns(expr)


def _sha_refs(values: pl.Series) -> pl.Series:
    """`_sha_ref` of each value (null stays null)."""
    hashed = [None if v is None else _sha_ref(v) for v in values.to_list()]
    return pl.Series(values.name, hashed, dtype=pl.String)


def _with_ref_columns(frame: pl.LazyFrame | pl.DataFrame) -> Any:
    names = frame.collect_schema().names()
    missing = [pl.lit(None, pl.String).alias(c) for c in REF_COLUMNS if c not in names]
    return frame.with_columns(missing) if missing else frame


def _conform(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Select the record columns, adding absent ones as typed nulls."""
    names = set(frame.collect_schema().names())
    return frame.select(
        (pl.col(c).cast(t) if c in names else pl.lit(None, t).alias(c))
        for c, t in RECORD_SCHEMA.items()
    )


def reference_groups(name: str, facts: pl.LazyFrame) -> pl.LazyFrame:
    """One row per distinct (source, customer_id, e-mail, phone, name) of a fact table, with its
    `ref_record_id`, first/last fact time and number of facts.

    Grouping on the raw reference columns first means the reference id is computed once per
    distinct reference, not once per fact row (10M orders carry ~1M references). The link step
    also uses these groups to give every fact row its customer key.
    """
    facts = _with_ref_columns(facts)
    time_col = FACT_TIME[name]
    has_time = time_col in facts.collect_schema().names()
    t = pl.col(time_col) if has_time else pl.lit(None, pl.Datetime("us", "UTC"))
    return (
        facts.select("source", *REF_COLUMNS, _t=t)
        .group_by("source", *REF_COLUMNS)
        .agg(
            first_seen_at=pl.col("_t").min(),
            last_seen_at=pl.col("_t").max(),
            fact_count=pl.len().cast(pl.Int64),
        )
        .with_columns(reference_id(distinct=True))
        .filter(pl.col("ref_record_id").is_not_null())
    )


def fact_references(
    name: str, facts: pl.LazyFrame, groups: pl.LazyFrame | pl.DataFrame | None = None
) -> pl.LazyFrame:
    """One record per distinct (source, reference) of a fact table, with first/last fact time.

    `groups`: the table's `reference_groups`, when the caller already has them.
    """
    g = reference_groups(name, facts) if groups is None else groups.lazy()
    grouped = g.group_by(
        "source", "ref_record_id", "customer_email", "customer_phone", "customer_name"
    ).agg(
        first_seen_at=pl.col("first_seen_at").min(),
        last_seen_at=pl.col("last_seen_at").max(),
        fact_count=pl.col("fact_count").sum(),
    )
    return _conform(
        grouped.select(
            "source",
            pl.col("ref_record_id").alias("source_record_id"),
            pl.lit(name).alias("origin_table"),
            pl.col("customer_name").alias("full_name"),
            pl.col("customer_email").alias("email"),
            pl.col("customer_phone").alias("phone"),
            "first_seen_at",
            "last_seen_at",
            "fact_count",
        )
    )


def build_records(
    tables: Mapping[str, pl.LazyFrame],
    groups: Mapping[str, pl.DataFrame | pl.LazyFrame] | None = None,
) -> pl.LazyFrame:
    """Every `customer_records` row plus one row per distinct customer reference per fact source.

    A reference whose `customer_id` equals a customer record's id in the same source is that
    record (one row; the customer record's attributes win, the facts add first/last seen times).
    `groups`: the fact tables' `reference_groups`, when the caller already computed them.
    """
    groups = groups or {}
    parts: list[pl.LazyFrame] = []
    if "customer_records" in tables:
        cr = tables["customer_records"].with_columns(
            pl.lit("customers").alias("origin_table"),
            pl.lit(None, pl.Int64).alias("fact_count"),
        )
        parts.append(_conform(cr))
    for name in FACT_TIME:
        if name in tables:
            parts.append(fact_references(name, tables[name], groups.get(name)))
    if not parts:
        return pl.LazyFrame(schema=RECORD_SCHEMA)
    allrec = pl.concat(parts, how="vertical").with_columns(
        _rank=pl.col("origin_table").replace_strict(_ORIGIN_RANK, default=9, return_dtype=pl.Int8)
    )
    # Several reference variants of one customer_id (e.g. a renamed e-mail) collapse into one
    # record: customer attributes first, then the most recently seen reference. Most records
    # have no other variant and pass through as they are; only the others are grouped.
    repeated = pl.struct("source", "source_record_id").is_duplicated()
    allrec = allrec.with_columns(_repeated=repeated)
    keep = [c for c in RECORD_SCHEMA if c not in ("source", "source_record_id")]
    aggs = []
    for c in keep:
        if c == "first_seen_at":
            aggs.append(pl.col(c).min())
        elif c == "last_seen_at":
            aggs.append(pl.col(c).max())
        elif c == "fact_count":
            aggs.append(pl.col(c).sum().cast(pl.Int64))
        else:
            aggs.append(pl.col(c).drop_nulls().first())
    merged = (
        allrec.filter("_repeated")
        .sort(
            "source",
            "source_record_id",
            "_rank",
            "last_seen_at",
            descending=[False, False, False, True],
            nulls_last=True,
        )
        .group_by("source", "source_record_id", maintain_order=True)
        .agg(aggs)
    )
    alone = allrec.filter(~pl.col("_repeated")).with_columns(pl.col("fact_count").fill_null(0))
    return pl.concat([alone.select(list(RECORD_SCHEMA)), merged.select(list(RECORD_SCHEMA))]).sort(
        "source", "source_record_id"
    )
