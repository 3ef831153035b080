"""`crmkit report`: write the period's report (.html, .xlsx, .md, .json) or show the dashboard.

Thin: parse options, call `crmkit.report.build_report` / `write_report`, print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmkit.cli import output
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


def register(app: typer.Typer) -> None:
    """Add `crmkit report` to the app."""
    app.command("report")(report_cmd)


def report_cmd(
    ctx: typer.Context,
    period: Annotated[
        str | None,
        typer.Option("--period", "-p", help="Q1, 2025Q1, 2025-03, 2025H1, last-90d, ytd, a..b, …"),
    ] = None,
    compare: Annotated[str, typer.Option("--compare", help="previous, yoy or none.")] = "previous",
    out: Annotated[
        list[Path] | None,
        typer.Option("--out", "-o", help="Write to .html, .xlsx, .md or .json (repeatable)."),
    ] = None,
    include_pii: Annotated[
        bool, typer.Option("--include-pii", help="Show customers' email and phone.")
    ] = False,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """The customer report for --period (default last-90d): headline metrics with changes and
    targets, trends, cohorts, segments, CLV, satisfaction, data quality and every formula.
    Without --out, prints the headline dashboard (--format json prints the JSON report).
    Files are written atomically and readable only by you; no email or phone unless
    --include-pii; names as `report.names` says (full, initials, hidden)."""
    from crmkit.report import build_report, write_report
    from crmkit.report.write import FORMATS

    g = resolve(ctx, workspace, config, as_of, lang, fmt, quiet, verbose)
    for path in out or []:
        if path.suffix.lower() not in FORMATS:
            from crmkit.errors import UsageError

            raise UsageError(
                f"cannot write a report to {path.name}", hint=f"use one of: {', '.join(FORMATS)}"
            )
    ws = g.open_workspace()
    data = build_report(
        ws,
        period=period,
        compare=None if compare == "none" else compare,
        as_of=g.as_of,
        lang=g.lang,
        include_pii=include_pii,
    )
    for path in out or []:
        written = write_report(data, path)
        output.err.print(f"wrote {written}")
    if out:
        return
    if g.format == "json":
        from crmkit.report.jsondoc import report_document

        output.emit_json(report_document(data))
    else:
        from crmkit.report.terminal import dashboard

        output.out.print(dashboard(data))
