"""`crmkit cycle`: days between purchases and the overdue valuable customers to contact."""

from __future__ import annotations

from typing import Annotated

import typer

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
from crmkit.cli.output import emit_csv, emit_frame, emit_json, err

VIEWS = ("overdue", "distribution", "histogram", "customers")


def register(app: typer.Typer) -> None:
    """Add `crmkit cycle` to the app."""
    app.command("cycle")(cycle)


def cycle(
    ctx: typer.Context,
    top: Annotated[int | None, typer.Option("--top", help="Overdue customers to list.")] = None,
    view: Annotated[
        str, typer.Option("--view", help="CSV/table: overdue, distribution, histogram, customers.")
    ] = "overdue",
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Buying cycle: gap distribution (by RFM segment when recorded) and who is overdue."""
    from crmkit.analysis.cycle import cycle_workspace
    from crmkit.errors import UsageError

    g = resolve(ctx, workspace, config, as_of, lang, fmt, quiet, verbose)
    if view not in VIEWS:
        raise UsageError(f"unknown --view {view!r}", hint=f"use one of: {', '.join(VIEWS)}")
    r = cycle_workspace(g.open_workspace(), as_of=g.as_of, top=top)
    if g.format == "json":
        emit_json(
            {
                "as_of": r.as_of,
                "population_median_gap_days": r.population_gap,
                "distribution": r.distribution,
                "histogram": r.histogram,
                "overdue": r.overdue,
            }
        )
        return
    frames = {
        "overdue": r.overdue,
        "distribution": r.distribution,
        "histogram": r.histogram,
        "customers": r.customers,
    }
    if g.format == "csv":
        emit_csv(frames[view])
        return
    err.print(
        f"as of {r.as_of}; population median gap {r.population_gap:g} days (used for one-order "
        "customers)",
        style="dim",
    )
    emit_frame(r.distribution, "table", title="Days between purchases")
    emit_frame(r.histogram, "table", title="Gap histogram")
    if view in ("overdue", "customers"):
        emit_frame(
            frames[view], "table", title=f"Overdue valuable customers (top {r.overdue.height})"
        )
