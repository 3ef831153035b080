"""Collapse repeated rows and re-exported records to one, the latest version winning.

Two rows are the same record when they share the table's natural key (e.g. source + order_id).
Rows whose natural key is incomplete (an event without an id) are keyed by their whole content,
so only exact repeats collapse. "Latest" means later in the input: a later line of the same file,
or a later file of the same run; against the warehouse, the incoming version replaces the stored
one when its content differs and is counted as a duplicate when it is identical.
"""

from __future__ import annotations

import polars as pl

from crmkit.schema import LINEAGE, Table

CONTENT_HASH = "__content"
KEY_HASH = "__key"


def content_columns(table: Table) -> list[str]:
    """Columns that define a row's content: the canonical ones (not lineage nor customer_key)."""
    return [c for c in table.names if c not in LINEAGE]


def with_keys(frame: pl.LazyFrame, table: Table) -> pl.LazyFrame:
    """Add `__content` (hash of the content) and `__key` (natural key, or content when incomplete).

    The hashes are only compared within one run, so polars' process-local hash is fine here.
    """
    cols = content_columns(table)
    key_cols = list(table.natural_key)
    content = pl.struct(cols).hash(seed=7)
    natural = pl.struct(key_cols).hash(seed=11)
    complete = pl.all_horizontal(pl.col(c).is_not_null() for c in key_cols)
    return frame.with_columns(content.alias(CONTENT_HASH)).with_columns(
        pl.when(complete).then(natural).otherwise(pl.col(CONTENT_HASH)).alias(KEY_HASH)
    )


def collapse(index: pl.DataFrame) -> pl.DataFrame:
    """Within a run: exact repeats keep their first copy, changed records their latest version.

    `index` holds one small row per incoming row (`__row`, `__file`, `__key`, `__content`).
    """
    if index[KEY_HASH].n_unique() == index.height:  # no key twice: nothing to collapse
        return index
    first = index.unique(subset=[KEY_HASH, CONTENT_HASH], keep="first", maintain_order=True)
    return first.unique(subset=[KEY_HASH], keep="last", maintain_order=True)


def against_stored(index: pl.DataFrame, stored: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Compare incoming rows (one per key) with the stored ones.

    `stored` is the stored table's key index (`__srow`, `__key`, `__content`). Returns the
    incoming rows to keep (new or changed), each with the `__srow` of the stored row it replaces
    (null when new), and the `__srow` of the replaced stored rows; an incoming row identical to
    its stored version is dropped (a duplicate).
    """
    known = stored.select("__srow", KEY_HASH, pl.col(CONTENT_HASH).alias("__stored"))
    joined = index.join(known, on=KEY_HASH, how="left", maintain_order="left")
    fresh = joined.filter(
        pl.col("__stored").is_null() | (pl.col("__stored") != pl.col(CONTENT_HASH))
    )
    replaced = fresh.filter(pl.col("__stored").is_not_null()).select("__srow")
    return fresh.drop("__stored"), replaced
