"""`crmkit status`: what the workspace holds."""

from __future__ import annotations

import typer

from crmkit.cli import output
from crmkit.cli.common import ConfigOpt, FormatOpt, WorkspaceOpt, resolve


def register(app: typer.Typer) -> None:
    app.command("status")(status_cmd)


def status_cmd(
    ctx: typer.Context,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Tables with rows and date ranges, sources, last ingest, and rejects by reason."""
    import polars as pl

    from crmkit.status import workspace_status

    g = resolve(ctx, workspace, config, fmt=fmt)
    st = workspace_status(g.open_workspace())
    if g.format == "json":
        output.emit_json(st)
        return
    if g.format == "csv":
        output.emit_csv(pl.DataFrame(st["tables"]))
        return
    if not st["tables"]:
        output.out.print(f"{st['workspace']}: empty — run `crmkit ingest` first")
        return
    output.out.print(output.rich_table(st["tables"], title=f"Workspace {st['workspace']}"))
    if st["sources"]:
        output.out.print(output.rich_table(st["sources"], title="Sources"))
    if st["rejects_by_reason"]:
        output.out.print(output.rich_table(st["rejects_by_reason"], title="Rejects by reason"))
    output.out.print(f"last run {st['last_run']} at {st['committed_at']}")
