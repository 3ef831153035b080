"""`crmkit cohort`: cohort retention, orders and revenue per following period, as a heatmap."""

from __future__ import annotations

from typing import Annotated

import polars as pl
import typer
from rich.table import Table
from rich.text import Text

from crmkit.cli.common import (
    AsOfOpt,
    ConfigOpt,
    FormatOpt,
    LangOpt,
    QuietOpt,
    VerboseOpt,
    WorkspaceOpt,
    resolve,
)
from crmkit.cli.output import emit_csv, emit_json, err, out

VALUES = {
    "retention": "retained_share",
    "customers": "customers",
    "orders": "orders",
    "revenue": "revenue_per_customer",
}


def register(app: typer.Typer) -> None:
    """Add `crmkit cohort` to the app."""
    app.command("cohort")(cohort)


def heatmap(matrix: pl.DataFrame, *, title: str, share: bool) -> Table:
    """A rich table whose period cells are shaded by value (blank = incomplete)."""
    table = Table(title=title, title_justify="left", header_style="bold")
    periods = [c for c in matrix.columns if c not in ("cohort", "cohort_size")]
    table.add_column("cohort", no_wrap=True)
    table.add_column("n", justify="right", no_wrap=True)
    for p in periods:
        table.add_column(p, justify="right", no_wrap=True, min_width=4)
    values = [v for p in periods for v in matrix[p].to_list() if v is not None]
    top = max((float(v) for v in values), default=1.0) or 1.0
    for row in matrix.iter_rows(named=True):
        cells = []
        for p in periods:
            v = row[p]
            if v is None:
                cells.append(Text(""))
                continue
            x = float(v)
            level = int(40 + 180 * min(x / top, 1.0))
            label = f"{x:.0%}" if share else f"{x:,.0f}" if x >= 100 else f"{x:.2f}"
            cells.append(Text(label, style=f"black on rgb({255 - level // 2},{level},{120})"))
        table.add_row(str(row["cohort"]), f"{row['cohort_size']:,}", *cells)
    return table


def cohort(
    ctx: typer.Context,
    by: Annotated[
        str | None, typer.Option("--by", help="month, quarter or channel (acquisition).")
    ] = None,
    value: Annotated[
        str,
        typer.Option("--value", help="Heatmap cells: retention, customers, orders or revenue."),
    ] = "retention",
    periods: Annotated[
        int, typer.Option("--periods", help="Periods shown in the heatmap (all in json/csv).")
    ] = 12,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Cohorts by first-purchase month/quarter or channel; incomplete periods are blank."""
    from crmkit.analysis.cohorts import cohort_matrix, cohorts_workspace
    from crmkit.analysis.common import resolve_as_of
    from crmkit.errors import UsageError

    g = resolve(ctx, workspace, config, as_of, lang, fmt, quiet, verbose)
    if value not in VALUES:
        raise UsageError(f"unknown --value {value!r}", hint=f"use one of: {', '.join(VALUES)}")
    ws = g.open_workspace()
    day = resolve_as_of(ws, g.as_of)
    table = cohorts_workspace(ws, as_of=day, by=by)  # type: ignore[arg-type]
    if g.format == "json":
        emit_json({"as_of": day, "by": by or "config", "cells": table})
    elif g.format == "csv":
        emit_csv(table)
    else:
        err.print(f"as of {day}; blank cells: period not complete in the data", style="dim")
        title = "客户群留存" if g.lang == "zh" else f"Cohorts ({value})"
        matrix = cohort_matrix(table.filter(table["period"] < periods), VALUES[value])
        out.print(heatmap(matrix, title=title, share=value == "retention"))
