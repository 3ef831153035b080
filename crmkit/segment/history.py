"""Segment history: every run's membership per (method, as_of), and who moved where.

Rows are `customer_key, method, segment, as_of (Date), run_id`. Recording a run for a
(method, as_of) that already exists replaces those rows, so reruns never duplicate.
"""

from __future__ import annotations

import datetime as dt
import secrets

import polars as pl

HISTORY_TABLE = "segment_history"
HISTORY_SCHEMA = pl.Schema(
    {
        "customer_key": pl.String(),
        "method": pl.String(),
        "segment": pl.String(),
        "as_of": pl.Date(),
        "run_id": pl.String(),
    }
)
NONE = "(none)"


def new_run_id() -> str:
    """A unique id for one segmentation run: `seg-YYYYMMDDTHHMMSSZ-xxxxxx`."""
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"seg-{now}-{secrets.token_hex(3)}"


def history_rows(members: pl.DataFrame, method: str, as_of: dt.date, run_id: str) -> pl.DataFrame:
    """This run's rows for `segment_history`, sorted by customer key."""
    return members.select(
        pl.col("customer_key").cast(pl.String),
        pl.lit(method, pl.String).alias("method"),
        pl.col("segment").cast(pl.String),
        pl.lit(as_of, pl.Date).alias("as_of"),
        pl.lit(run_id, pl.String).alias("run_id"),
    ).sort("customer_key")


def merge_history(existing: pl.LazyFrame, new: pl.DataFrame) -> pl.LazyFrame:
    """Existing history without the rows of the new (method, as_of) pairs, plus the new rows
    appended (sorted by key), so a rerun replaces and the file stays in run order."""
    keys = new.select("method", "as_of").unique().rows()
    replaced = pl.any_horizontal(
        pl.lit(False),
        *((pl.col("method") == m) & (pl.col("as_of") == d) for m, d in keys),
    ).fill_null(False)  # a filter on the few replaced pairs: cheaper than an anti-join
    kept = existing.select(list(HISTORY_SCHEMA)).filter(~replaced)
    return pl.concat([kept, new.sort("customer_key").lazy().cast(dict(HISTORY_SCHEMA))])


def movement(
    history: pl.LazyFrame, method: str
) -> tuple[dt.date | None, dt.date | None, pl.DataFrame]:
    """From → to counts between the latest two as-of dates recorded for `method`.

    Customers present on only one date appear as from/to `(none)`. Returns the two dates
    (None when fewer than two are recorded) and a long frame (from_segment, to_segment,
    customers) sorted by from, to.
    """
    h = history.filter(pl.col("method") == method)
    dates = h.select(pl.col("as_of").unique().sort(descending=True).head(2)).collect()["as_of"]
    empty = pl.DataFrame(
        schema={"from_segment": pl.String, "to_segment": pl.String, "customers": pl.UInt32}
    )
    if dates.len() < 2:
        return None, (dates[0] if dates.len() else None), empty
    new_d, old_d = dates[0], dates[1]
    old = h.filter(pl.col("as_of") == old_d).select(
        "customer_key", pl.col("segment").alias("from_segment")
    )
    new = h.filter(pl.col("as_of") == new_d).select(
        "customer_key", pl.col("segment").alias("to_segment")
    )
    moves = (
        old.join(new, on="customer_key", how="full", coalesce=True)
        .group_by(pl.col("from_segment").fill_null(NONE), pl.col("to_segment").fill_null(NONE))
        .agg(pl.len().alias("customers"))
        .sort("from_segment", "to_segment")
        .collect()
    )
    return old_d, new_d, moves


def movement_matrix(moves: pl.DataFrame, order: list[str] | None = None) -> pl.DataFrame:
    """The long movement frame as a from × to matrix (zeros where nobody moved)."""
    if moves.height == 0:
        return pl.DataFrame({"from_segment": []}, schema={"from_segment": pl.String})
    keys = sorted(set(moves["from_segment"]) | set(moves["to_segment"]))
    if order:
        keys = [k for k in order if k in keys] + [k for k in keys if k not in order]
    cols = [k for k in keys if k in set(moves["to_segment"])]
    rows = [k for k in keys if k in set(moves["from_segment"])]
    wide = moves.pivot(on="to_segment", index="from_segment", values="customers").fill_null(0)
    frame = pl.DataFrame({"from_segment": rows}).join(wide, on="from_segment", how="left")
    return frame.select("from_segment", *(pl.col(c).fill_null(0) for c in cols))
