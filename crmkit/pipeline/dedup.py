"""Collapse repeated rows and re-exported records to one, the latest version winning.

Two rows are the same record when they share the table's natural key (e.g. source + order_id).
Rows whose natural key is incomplete (an event without an id) are keyed by their whole content,
so only exact repeats collapse. "Latest" means later in the input: a later line of the same file,
or a later file of the same run; against the warehouse, the incoming version replaces the stored
one when its content differs and is counted as a duplicate when it is identical.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class DedupCounts:
    """How many incoming rows collapsed, and how many replaced a stored version."""

    duplicates: int
    updates: int


def latest_per_key(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Keep the last row of each key, in input order (keys from `with_keys`)."""
    return frame.unique(subset=[KEY_HASH], keep="last", maintain_order=True)


def against_stored(
    incoming: pl.LazyFrame, stored: pl.LazyFrame
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Split incoming rows (one per key) into (new or changed rows, unchanged repeats).

    `stored` must carry `__key` and `__content` too.
    """
    known = stored.select(KEY_HASH, pl.col(CONTENT_HASH).alias("__stored_content"))
    joined = incoming.join(known, on=KEY_HASH, how="left", maintain_order="left")
    same = pl.col("__stored_content") == pl.col(CONTENT_HASH)
    fresh = joined.filter(same.not_() | pl.col("__stored_content").is_null())
    repeats = joined.filter(same)
    return fresh.drop("__stored_content"), repeats.drop("__stored_content")
