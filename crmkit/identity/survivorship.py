"""Golden records: one row per customer, each column chosen from its records by a survivorship rule.

Rules: `source_priority` (the first source in `identity.source_priority`, then customer records
before fact references, then the most recent), `most_recent`, `most_frequent` (ties by value),
`earliest` (value of the earliest-signed-up record), `min`, `any`, `union`. All e-mails and phones
are kept as sorted lists. `referred_by` is translated to the referrer's customer_key when known.

`customers_table` builds them all, or, in an incremental run that has the previous golden
records, only those of customers that changed; the others are taken over as they were.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
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


def _by_ordering(recs: pl.DataFrame, rule: str, cols: list[str]) -> pl.DataFrame:
    """Per customer, each column's first non-null value in the rule's order of its records."""
    by, desc = _ORDERS[rule]
    # `rid` last: ties are broken by (source, source_record_id), never by row order
    order = recs.select(
        pl.arg_sort_by(["_g", *by, "rid"], descending=[False, *desc, False], nulls_last=True)
    ).to_series()
    ordered = recs.select("_g", *cols).gather(order).with_columns(pl.col("_g").set_sorted())
    return ordered.group_by("_g", maintain_order=True).agg(
        pl.col(c).drop_nulls().first() for c in cols
    )


def _sorted_values(recs: pl.DataFrame, column: str, name: str) -> pl.DataFrame:
    """Per customer with any, the sorted distinct non-null values of `column` as list `name`.

    One sort of all (customer, value) pairs: aggregating `unique().sort()` group by group costs
    about twice as much with a million customers."""
    pairs = recs.select("_g", column).drop_nulls().unique().sort("_g", column)
    return pairs.group_by("_g", maintain_order=True).agg(pl.col(column).alias(name))


def _most_frequent(recs: pl.DataFrame, col: str) -> pl.DataFrame:
    """The most frequent non-null value per customer (ties: the smallest value)."""
    return (
        recs.filter(pl.col(col).is_not_null())
        .group_by("_g", col)
        .agg(_n=pl.len())
        .sort(["_g", "_n", col], descending=[False, True, False])
        .group_by("_g", maintain_order=True)
        .agg(pl.col(col).first())
    )


def check_rules(rules: Mapping[str, Any] | None) -> dict[str, str]:
    """Every column's rule: the defaults overridden by `identity.survivorship`."""
    chosen = {**DEFAULT_RULES, **{k: str(v) for k, v in (rules or {}).items()}}
    for c, r in chosen.items():
        if r not in RULES:
            raise ConfigError(
                f"identity.survivorship: unknown rule {r!r} for {c}", hint=", ".join(RULES)
            )
    return chosen


def golden_records(
    records: pl.DataFrame,
    identity_map: pl.DataFrame,
    *,
    source_priority: Sequence[str] = (),
    rules: Mapping[str, Any] | None = None,
) -> pl.DataFrame:
    """The golden customers table: every canonical customers column plus lists and counts.

    `records`: the person-records of the customers to build, with their `customer_key`, an
    integer customer id `_g` and the integer `rid` ((source, source_record_id) order).
    `identity_map` (source, source_record_id, customer_key of every record) translates
    `referred_by` into the referrer's customer_key.
    """
    chosen = check_rules(rules)
    recs = _prepare(records, identity_map, source_priority)
    cols = [c for c in CUSTOMERS.polars_schema() if c != "customer_key"]
    # most customers have one record: their golden record is that record, no grouping needed
    g = recs["_g"].to_numpy()
    alone = pl.Series(np.bincount(g)[g] == 1) if len(g) else pl.Series([], dtype=pl.Boolean)
    if alone.all():  # (no filtered copy of millions of records when none needs grouping)
        golden = _single(recs, chosen, cols)
    else:
        golden = pl.concat(
            [
                _single(recs.filter(alone), chosen, cols),
                _grouped(recs.filter(~alone), chosen, cols),
            ]
        )
    return golden.sort("customer_key")


def _prepare(
    records: pl.DataFrame, identity_map: pl.DataFrame, source_priority: Sequence[str]
) -> pl.DataFrame:
    """The records with referrers as keys and the sort fields of the ordering rules."""
    prio = {s: i for i, s in enumerate(source_priority)}
    referrer = (
        records.filter(pl.col("referred_by").is_not_null())
        .select("rid", "source", "referred_by")
        .join(
            identity_map.select("source", referred_by="source_record_id", _ref_key="customer_key"),
            on=["source", "referred_by"],
        )
        .select("rid", "_ref_key")
    )
    if referrer.height:
        records = records.join(referrer, on="rid", how="left", maintain_order="left")
    else:  # (no referrers: skip copying every record through a join)
        records = records.with_columns(_ref_key=pl.lit(None, pl.String))
    return records.with_columns(
        referred_by=pl.coalesce("_ref_key", "referred_by"),
        _prio=pl.col("source").replace_strict(prio, default=len(prio), return_dtype=pl.Int32),
        _origin=pl.col("origin_table").replace_strict(_ORIGIN, default=9, return_dtype=pl.Int8),
        _recent=pl.coalesce("last_seen_at", "signup_at"),
        _signup=pl.coalesce("signup_at", "first_seen_at"),
    )


def _aggregate(rule: str | None, column: str, dtype: pl.DataType) -> pl.Expr | None:
    """The group aggregation of the column-wise rules (min, any, union)."""
    if rule == "min":
        return pl.col(column).min()
    if rule == "any" and dtype == pl.Boolean:
        return pl.col(column).any()
    if rule in ("any", "union"):
        return pl.col(column).list.explode(keep_nulls=False, empty_as_null=False).unique().sort()
    return None


def _single_value(rule: str | None, column: str, dtype: pl.DataType) -> pl.Expr:
    """What every rule gives for a customer with a single record (as `_aggregate` would)."""
    if rule == "any" and dtype == pl.Boolean:
        return pl.col(column).fill_null(False)
    if rule in ("any", "union"):
        return pl.col(column).fill_null([]).list.unique().list.sort()
    return pl.col(column)


def _finish(golden: pl.DataFrame) -> pl.DataFrame:
    schema = CUSTOMERS.polars_schema()
    return golden.with_columns(
        first_order_at=pl.lit(None, pl.Datetime("us", "UTC")),
        **{c: pl.col(c).cast(t) for c, t in schema.items() if c != "customer_key"},
        record_count=pl.col("record_count").cast(pl.Int64),
    ).select(GOLDEN_COLUMNS)


def _single(recs: pl.DataFrame, chosen: Mapping[str, str], cols: list[str]) -> pl.DataFrame:
    return _finish(
        recs.select(
            "customer_key",
            *(_single_value(chosen.get(c), c, recs.schema[c]).alias(c) for c in cols),
            emails=pl.concat_list("email").list.drop_nulls(),
            phones=pl.concat_list("phone").list.drop_nulls(),
            sources=pl.concat_list("source"),
            record_count=pl.lit(1, pl.Int64),
            last_seen_at="last_seen_at",
        )
    )


def _grouped(recs: pl.DataFrame, chosen: Mapping[str, str], cols: list[str]) -> pl.DataFrame:
    # A column none of these records has gives every customer what a single empty record
    # gives (no sort or group aggregation for it: most columns of most sources are empty).
    empty = [c for c in cols if recs[c].null_count() == recs.height]
    filled = [c for c in cols if c not in empty]
    by_column = {c: _aggregate(chosen.get(c), c, recs.schema[c]) for c in filled}
    golden = recs.group_by("_g").agg(
        pl.col("customer_key").first(),
        record_count=pl.len().cast(pl.Int64),
        last_seen_at=pl.col("last_seen_at").max(),
        **{c: e for c, e in by_column.items() if e is not None},
    )
    for column, name in (("email", "emails"), ("phone", "phones"), ("source", "sources")):
        none = pl.lit([], dtype=pl.List(recs.schema[column]))
        golden = golden.join(_sorted_values(recs, column, name), on="_g", how="left").with_columns(
            pl.coalesce(name, none)
        )
    for rule in _ORDERS:
        rc = [c for c in filled if by_column[c] is None and chosen.get(c, "most_recent") == rule]
        if rc:
            golden = golden.join(_by_ordering(recs, rule, rc), on="_g", how="left")
    for c in filled:
        if chosen.get(c) == "most_frequent":
            golden = golden.join(_most_frequent(recs, c), on="_g", how="left")
    golden = golden.with_columns(pl.lit(None, recs.schema[c]).alias(c) for c in empty)
    return _finish(
        golden.with_columns(_single_value(chosen.get(c), c, recs.schema[c]) for c in empty)
    )


GOLDEN_COLUMNS = [
    "customer_key",
    *(c for c in CUSTOMERS.polars_schema() if c != "customer_key"),
    "emails",
    "phones",
    "first_order_at",
    "sources",
    "record_count",
    "last_seen_at",
]


def reusable(
    customers: pl.DataFrame | None, previous: pl.DataFrame | None, n_customers: int
) -> pl.DataFrame | None:
    """The previous run's golden records, if they belong to the previous identity map (which
    has `n_customers` customers)."""
    if customers is None or previous is None or customers.height != n_customers:
        return None
    if any(c not in customers.columns for c in GOLDEN_COLUMNS):
        return None
    keys = customers["customer_key"]
    increasing = (keys.slice(1) > keys.slice(0, keys.len() - 1)).all()
    if not (increasing and customers["record_count"].sum() == previous.height):
        return None
    # the ingest step fills first_order_at from the orders afterwards; the resolver never does
    return customers.select(GOLDEN_COLUMNS).with_columns(
        first_order_at=pl.lit(None, pl.Datetime("us", "UTC"))
    )


def customers_table(
    rec: pl.DataFrame,
    feat: pl.DataFrame,
    identity_map: pl.DataFrame,
    labels: np.ndarray,
    settings: Mapping[str, Any],
    *,
    reuse: pl.DataFrame | None,
    dirty: np.ndarray,
    removed: pl.DataFrame,
    prev_key: pl.Series,
) -> pl.DataFrame:
    """Golden records: all of them, or (with `reuse`, the previous ones) only those of the
    customers whose records, membership or referrers changed (`dirty` records)."""
    n = feat.height
    redo = np.ones(n, dtype=bool)
    if reuse is not None:
        # customers that lost records, and those referred by a record whose key changed
        gone = np.zeros(n, dtype=bool)
        if removed.height:
            gone = prev_key.is_in(removed["prev_key"].implode()).fill_null(False).to_numpy()
        moved = (identity_map["customer_key"] != prev_key).fill_null(True).to_numpy()
        ids = pl.concat(
            [
                feat.filter(pl.Series(moved)).select("source", "source_record_id"),
                removed.select("source", "source_record_id"),
            ]
        )
        rid_of = np.empty(n, dtype=np.int64)
        rid_of[feat["_rec"].to_numpy()] = np.arange(n)
        referring = (
            rec.select("source", "referred_by", _row=pl.int_range(pl.len(), dtype=pl.Int64))
            .filter(pl.col("referred_by").is_not_null())
            .join(ids, left_on=["source", "referred_by"], right_on=["source", "source_record_id"])
        )
        cluster_dirty = np.zeros(n, dtype=bool)
        cluster_dirty[labels[dirty | gone]] = True
        cluster_dirty[labels[rid_of[referring["_row"].to_numpy()]]] = True
        redo = cluster_dirty[labels]
    rows = np.flatnonzero(redo)
    at = feat["_rec"].to_numpy()[rows]
    # (a first run's records are already in rid order: no gathered copy of them)
    same = len(at) == rec.height and bool((at == np.arange(len(at))).all())
    recs = (rec if same else rec[at]).with_columns(
        customer_key=identity_map["customer_key"].gather(rows),
        _g=pl.Series(labels[rows]),
        rid=pl.Series(rows),
    )
    golden = golden_records(
        recs,
        identity_map,
        source_priority=settings["source_priority"],
        rules=settings["survivorship"],
    )
    if reuse is None:
        return golden
    stale = pl.concat([prev_key.filter(pl.Series(redo)), removed["prev_key"]])
    kept = reuse.filter(~pl.col("customer_key").is_in(stale.drop_nulls().implode()))
    # both parts are sorted by key: the sort of their concatenation is cheap
    return pl.concat([kept.cast(dict(golden.schema)), golden]).sort("customer_key")
