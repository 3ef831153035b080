"""Golden records: one row per customer, each column chosen from its records by a survivorship rule.

Rules: `source_priority` (the first source in `identity.source_priority`, then customer records
before fact references, then the most recent), `most_recent`, `most_frequent` (ties by value),
`earliest` (value of the earliest-signed-up record), `min`, `any`, `union`. All e-mails and phones
are kept as sorted lists. `referred_by` is translated to the referrer's customer_key when known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from crmkit.errors import ConfigError
from crmkit.schema import CUSTOMERS

RULES = ("source_priority", "most_recent", "most_frequent", "earliest", "min", "any", "union")
DEFAULT_RULES: dict[str, str] = {
    "source_record_id": "source_priority",
    "first_name": "source_priority",
    "last_name": "source_priority",
    "full_name": "source_priority",
    "email": "most_recent",
    "email_raw": "most_recent",
    "phone": "most_recent",
    "phone_raw": "most_recent",
    "gender": "most_frequent",
    "birth_date": "most_frequent",
    "address_line": "most_recent",
    "city": "most_recent",
    "region": "most_recent",
    "postcode": "most_recent",
    "country": "most_recent",
    "signup_at": "min",
    "acquisition_channel": "earliest",
    "loyalty_member": "any",
    "referred_by": "source_priority",
    "tags": "union",
    "source": "source_priority",
    "source_file": "source_priority",
    "source_line": "source_priority",
}
_ORIGIN = {"customers": 0, "orders": 1, "tickets": 2, "survey_responses": 3, "events": 4}


_ORDERS = {
    "source_priority": (["_prio", "_origin", "_recent"], [False, False, True]),
    "most_recent": (["_recent", "_prio"], [True, False]),
    "earliest": (["_signup", "_prio"], [False, False]),
}


def _first_non_null(col: str) -> pl.Expr:
    return pl.col(col).drop_nulls().first()


def _by_ordering(recs: pl.DataFrame, rule: str, cols: list[str]) -> pl.DataFrame:
    """One group_by per ordering rule: sort once, then take each column's first non-null."""
    by, desc = _ORDERS[rule]
    # source and record id last: ties are broken by value, never by row order
    ordered = recs.select(
        "customer_key", *by, "_src", "_rid", *[c for c in cols if c not in ("_src", "_rid")]
    ).sort(
        ["customer_key", *by, "_src", "_rid"],
        descending=[False, *desc, False, False],
        nulls_last=True,
    )
    return ordered.group_by("customer_key", maintain_order=True).agg(
        _first_non_null(c) for c in cols
    )


def _most_frequent(recs: pl.DataFrame, col: str) -> pl.DataFrame:
    """The most frequent non-null value per customer (ties: the smallest value)."""
    return (
        recs.filter(pl.col(col).is_not_null())
        .group_by("customer_key", col)
        .agg(_n=pl.len())
        .sort(["customer_key", "_n", col], descending=[False, True, False])
        .group_by("customer_key", maintain_order=True)
        .agg(pl.col(col).first())
    )


def golden_records(
    records: pl.DataFrame,
    identity_map: pl.DataFrame,
    *,
    source_priority: Sequence[str] = (),
    rules: Mapping[str, Any] | None = None,
) -> pl.DataFrame:
    """The golden customers table: every canonical customers column plus lists and counts."""
    chosen = {**DEFAULT_RULES, **{k: str(v) for k, v in (rules or {}).items()}}
    prio = {s: i for i, s in enumerate(source_priority)}
    keymap = identity_map.select("source", "source_record_id", "customer_key")
    recs = records.join(keymap, on=["source", "source_record_id"], how="inner")
    recs = recs.join(
        keymap.rename({"source_record_id": "referred_by", "customer_key": "_ref_key"}),
        on=["source", "referred_by"],
        how="left",
    ).with_columns(
        referred_by=pl.coalesce("_ref_key", "referred_by"),
        _prio=pl.col("source").replace_strict(prio, default=len(prio), return_dtype=pl.Int32),
        _origin=pl.col("origin_table").replace_strict(_ORIGIN, default=9, return_dtype=pl.Int8),
        _recent=pl.coalesce("last_seen_at", "signup_at"),
        _signup=pl.coalesce("signup_at", "first_seen_at"),
        _src=pl.col("source"),
        _rid=pl.col("source_record_id"),
    )
    cols = [c for c in CUSTOMERS.polars_schema() if c != "customer_key"]
    for c, r in chosen.items():
        if r not in RULES:
            raise ConfigError(
                f"identity.survivorship: unknown rule {r!r} for {c}", hint=", ".join(RULES)
            )
    golden = recs.group_by("customer_key").agg(
        emails=pl.col("email").drop_nulls().unique().sort(),
        phones=pl.col("phone").drop_nulls().unique().sort(),
        sources=pl.col("source").unique().sort(),
        record_count=pl.len().cast(pl.Int64),
        last_seen_at=pl.col("last_seen_at").max(),
        **{
            c: pl.col(c).min()
            if chosen.get(c) == "min"
            else pl.col(c).any()
            if chosen.get(c) == "any" and recs.schema[c] == pl.Boolean
            else pl.col(c).list.explode(keep_nulls=False, empty_as_null=False).unique().sort()
            for c in cols
            if chosen.get(c) in ("min", "any", "union")
        },
    )
    for rule in _ORDERS:
        rc = [c for c in cols if chosen.get(c, "most_recent") == rule]
        if rc:
            golden = golden.join(_by_ordering(recs, rule, rc), on="customer_key", how="left")
    for c in cols:
        if chosen.get(c) == "most_frequent":
            golden = golden.join(_most_frequent(recs, c), on="customer_key", how="left")
    schema = CUSTOMERS.polars_schema()
    return (
        golden.with_columns(
            first_order_at=pl.lit(None, pl.Datetime("us", "UTC")),
            **{c: pl.col(c).cast(t) for c, t in schema.items() if c != "customer_key"},
        )
        .select(
            "customer_key",
            *cols,
            "emails",
            "phones",
            "first_order_at",
            "sources",
            "record_count",
            "last_seen_at",
        )
        .sort("customer_key")
    )
