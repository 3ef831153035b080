"""`crmkit paths`: the most common event sequences before a first order or before churn."""

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
from crmkit.cli.output import emit_csv, emit_frame, emit_json


def register(app: typer.Typer) -> None:
    """Add `crmkit paths` to the app."""
    app.command("paths")(paths)


def paths(
    ctx: typer.Context,
    before: Annotated[str, typer.Option("--before", help="first_order or churn.")] = "first_order",
    steps: Annotated[int | None, typer.Option("--steps", help="Events per path (N).")] = None,
    top: Annotated[int, typer.Option("--top", help="Paths to list.")] = 20,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Event paths with customers, conversions and conversion share."""
    from crmkit.analysis.common import resolve_as_of
    from crmkit.analysis.paths import paths_workspace

    g = resolve(ctx, workspace, config, as_of, lang, fmt, quiet, verbose)
    ws = g.open_workspace()
    day = resolve_as_of(ws, g.as_of)
    df = paths_workspace(ws, as_of=day, mode=before, steps=steps, top=top)  # type: ignore[arg-type]
    if g.format == "json":
        emit_json({"as_of": day, "before": before, "paths": df})
    elif g.format == "csv":
        emit_csv(df)
    else:
        emit_frame(df, "table", title=f"Paths before {before.replace('_', ' ')} (as of {day})")
