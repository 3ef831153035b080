"""Rendering for the CLI: rich tables for people, JSON and CSV for machines, all on stdout.

Messages and progress go to stderr (`err`), so `crmkit … --format json | jq` stays clean.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from crmkit.jsonable import to_jsonable

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, highlight=False)


def configure(*, quiet: bool = False, verbose: bool = False) -> None:
    """Silence stderr messages under --quiet (errors are still printed by the entry point)."""
    err.quiet = quiet


def emit_json(value: Any) -> None:
    """Write stable, `jq`-friendly JSON (UTF-8, indented, keys in declared order)."""
    sys.stdout.write(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def emit_csv(df: pl.DataFrame) -> None:
    """Write a frame as CSV; nested columns are serialised as JSON text."""
    flat = df.with_columns(
        pl.col(c).map_elements(
            lambda v: json.dumps(to_jsonable(v), ensure_ascii=False), return_dtype=pl.String
        )
        for c, t in df.schema.items()
        if t.is_nested()
    )
    sys.stdout.write(flat.write_csv())
    sys.stdout.flush()


def fmt_cell(value: Any) -> str:
    """Human formatting for one table cell."""
    if value is None:
        return "—"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, decimal.Decimal):
        return f"{value:,.2f}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt_cell(v) for v in value)
    return str(value)


def rich_table(
    rows: Iterable[Mapping[str, Any]] | pl.DataFrame,
    *,
    title: str | None = None,
    columns: list[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Table:
    """Build a rich table from a frame or a list of dicts; numbers right-aligned."""
    data = rows.to_dicts() if isinstance(rows, pl.DataFrame) else list(rows)
    cols = columns or (
        list(rows.columns) if isinstance(rows, pl.DataFrame) else list(data[0]) if data else []
    )
    table = Table(title=title, title_justify="left", header_style="bold")
    for c in cols:
        numeric = any(
            isinstance(r.get(c), (int, float, decimal.Decimal)) and not isinstance(r.get(c), bool)
            for r in data
        )
        table.add_column(
            (headers or {}).get(c, c),
            justify="right" if numeric else "left",
            overflow="fold",  # wrap long paths instead of eliding them in narrow terminals
            no_wrap=numeric,
        )
    for r in data:
        table.add_row(*(fmt_cell(r.get(c)) for c in cols))
    return table


def emit_frame(
    df: pl.DataFrame,
    fmt: str,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Render one frame in the chosen format."""
    if fmt == "json":
        emit_json(df)
    elif fmt == "csv":
        emit_csv(df)
    else:
        out.print(rich_table(df, title=title, headers=headers))
