"""`crmkit survey`: NPS, CSAT and CES with intervals by group, and key drivers of NPS/CSAT."""

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
from crmkit.cli.output import emit_csv, emit_frame, emit_json, err, out


def register(app: typer.Typer) -> None:
    """Add `crmkit survey` to the app."""
    app.command("survey")(survey)


def survey(
    ctx: typer.Context,
    by: Annotated[
        str | None, typer.Option("--by", help="segment, channel, period or survey.")
    ] = None,
    period: Annotated[str, typer.Option("--period", help="month or quarter.")] = "quarter",
    drivers: Annotated[
        str | None, typer.Option("--drivers", help="Key drivers of nps or csat.")
    ] = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Survey scores with 95% intervals; with --drivers, the key-driver table instead."""
    from crmkit.analysis.drivers import drivers_workspace
    from crmkit.analysis.survey import survey_workspace

    g = resolve(ctx, workspace, config, as_of, lang, fmt, quiet, verbose)
    ws = g.open_workspace()
    if drivers:
        r = drivers_workspace(ws, as_of=g.as_of, target=drivers)  # type: ignore[arg-type]
        if g.format == "json":
            emit_json(
                {
                    "target": r.target,
                    "n": r.n,
                    "r2": r.r2,
                    "fix_first": r.fix_first,
                    "drivers": r.drivers,
                    "missing": r.missing,
                }
            )
        elif g.format == "csv":
            emit_csv(r.drivers)
        else:
            err.print(
                f"n = {r.n} complete responses, R² = {r.r2:.3f}; weights are Johnson's relative "
                "weights (sum to R²)",
                style="dim",
            )
            emit_frame(r.drivers, "table", title=f"Key drivers of {r.target.upper()}")
            emit_frame(r.missing, "table", title="Answers and missing values")
            out.print(f"Fix first: {', '.join(r.fix_first)}")
        return
    df = survey_workspace(ws, as_of=g.as_of, by=by, period=period)  # type: ignore[arg-type]
    if g.format == "json":
        emit_json({"by": by, "scores": df})
    elif g.format == "csv":
        emit_csv(df)
    else:
        emit_frame(df, "table", title="Survey scores (95% intervals)")
