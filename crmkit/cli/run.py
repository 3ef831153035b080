"""`crmkit run`: the cron entry point — the configured pipeline end to end."""

from __future__ import annotations

import typer

from crmkit.cli.common import (
    AsOfOpt,
    ConfigOpt,
    FormatOpt,
    QuietOpt,
    VerboseOpt,
    WorkspaceOpt,
    resolve,
)
from crmkit.cli.progress import progress


def register(app: typer.Typer) -> None:
    app.command("run")(run_cmd)


def run_cmd(
    ctx: typer.Context,
    wait: float = typer.Option(0.0, "--wait", help="Seconds to wait for the workspace lock."),
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Ingest new files from the configured sources (already-seen files are skipped by hash),
    resolve customers, and print the workspace status. No prompts; exit 1 when data-quality
    thresholds are breached, 75 when another run holds the lock."""
    from crmkit.cli.ingest import render_ingest
    from crmkit.cli.status import status_cmd
    from crmkit.pipeline.ingest import ingest
    from crmkit.workspace import Workspace

    g = resolve(ctx, workspace, config, as_of=as_of, fmt=fmt, quiet=quiet, verbose=verbose)
    ws = Workspace(g.workspace, config_file=g.config)
    with progress(g.quiet) as say:
        result = ingest(ws, wait=wait, progress=say)
    problems = result.problems(ws.config.thresholds)
    render_ingest(result, g.format, problems)
    if g.format == "table":
        status_cmd(ctx)
    return 1 if problems else 0
