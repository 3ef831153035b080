"""What a workspace holds: tables with rows and date ranges, sources, last ingest, rejects."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from crmkit.workspace import TIME_COLUMNS, Workspace

_TIME_OF = {**TIME_COLUMNS, "customer_records": "signup_at", "rejects": None, "manifest": None}


def workspace_status(ws: Workspace) -> dict[str, Any]:
    """A JSON-ready summary of the workspace (the shape `crmkit status --format json` prints)."""
    tables = []
    for name in ws.warehouse.tables():
        lf = ws.table(name)
        col = _TIME_OF.get(name, TIME_COLUMNS.get(name))
        names = lf.collect_schema().names()
        aggs = [pl.len().alias("rows")]
        if col and col in names:
            aggs += [pl.col(col).min().alias("first"), pl.col(col).max().alias("last")]
        row = lf.select(aggs).collect().row(0, named=True)
        tables.append(
            {
                "table": name,
                "rows": row["rows"],
                "first": _day(row.get("first")),
                "last": _day(row.get("last")),
            }
        )
    manifest = ws.table("manifest").collect()
    sources = (
        manifest.group_by("source")
        .agg(
            pl.len().alias("files"),
            pl.col("rows_read").sum(),
            pl.col("rows_accepted").sum(),
            pl.col("rows_rejected").sum(),
            pl.col("rows_duplicate").sum(),
            pl.col("ingested_at").max().alias("last_ingest"),
        )
        .sort("source")
    )
    rejects = (
        ws.table("rejects")
        .group_by("reason_code")
        .agg(pl.len().alias("rows"), pl.col("reason").first().alias("example"))
        .sort("rows", "reason_code", descending=[True, False])
        .collect()
    )
    meta = ws.warehouse.meta()
    return {
        "workspace": str(ws.path),
        "last_run": meta.get("run_id"),
        "committed_at": meta.get("committed_at"),
        "tables": tables,
        "sources": sources.to_dicts(),
        "rejects_by_reason": rejects.to_dicts(),
        "files": manifest.sort("ingested_at", "path").to_dicts(),
    }


def _day(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
