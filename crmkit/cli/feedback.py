"""`crmkit feedback`: themes and sentiment of survey comments and ticket subjects."""

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

VIEWS = ("themes", "groups", "contrast", "sentiment", "texts")


def register(app: typer.Typer) -> None:
    """Add `crmkit feedback` to the app."""
    app.command("feedback")(feedback)


def feedback(
    ctx: typer.Context,
    source: Annotated[str, typer.Option("--source", help="survey, tickets or all.")] = "all",
    top: Annotated[int | None, typer.Option("--top", help="Terms per group.")] = None,
    view: Annotated[
        str, typer.Option("--view", help="CSV: themes, groups, contrast, sentiment or texts.")
    ] = "themes",
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Top themes overall and by NPS group, detractor vs promoter contrast, sentiment."""
    from crmkit.analysis.feedback import feedback_workspace
    from crmkit.errors import UsageError

    g = resolve(ctx, workspace, config, as_of, lang, fmt, quiet, verbose)
    if view not in VIEWS:
        raise UsageError(f"unknown --view {view!r}", hint=f"use one of: {', '.join(VIEWS)}")
    r = feedback_workspace(
        g.open_workspace(),
        as_of=g.as_of,
        source=source,  # type: ignore[arg-type]
        top=top,
    )
    frames = {
        "themes": r.themes,
        "groups": r.themes_by_group,
        "contrast": r.contrast,
        "sentiment": r.sentiment,
        "texts": r.texts,
    }
    if g.format == "json":
        emit_json({k: v for k, v in frames.items() if k != "texts"})
    elif g.format == "csv":
        emit_csv(frames[view])
    else:
        emit_frame(r.themes, "table", title="Top themes")
        emit_frame(r.contrast.head(10), "table", title="Detractors talk about (vs promoters)")
        emit_frame(
            r.contrast.tail(10).reverse(), "table", title="Promoters talk about (vs detractors)"
        )
        emit_frame(r.sentiment, "table", title="Sentiment by NPS group")
