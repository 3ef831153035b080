"""`crmkit ingest`: read exports into the workspace's warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmkit.cli import output
from crmkit.cli.common import ConfigOpt, FormatOpt, QuietOpt, VerboseOpt, WorkspaceOpt, resolve
from crmkit.cli.progress import progress


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_cmd)


def ingest_cmd(
    ctx: typer.Context,
    files: Annotated[list[Path] | None, typer.Argument(help="Export files to ingest.")] = None,
    table: Annotated[str | None, typer.Option("--table", help="Canonical table of FILES.")] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Source name for FILES (shares dedup keys).")
    ] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="Mapping preset for FILES.")
    ] = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for the lock.")] = 0.0,
    rehash: Annotated[
        bool,
        typer.Option(
            "--rehash",
            help="Hash every file, even one whose path, size and modification time match the "
            "manifest (for files edited in place with their time preserved).",
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Ingest FILES (auto-mapped unless --preset or a configured --source says how) and the
    config's sources. Re-ingesting a file already seen (same sha256) is a no-op, and a file whose
    path, size and modification time match the manifest is not even re-read; overlapping exports
    add only new rows and update changed ones. Exit 1 when a file is refused or too many rows
    rejected."""
    from crmkit.pipeline.ingest import ingest

    g = resolve(ctx, workspace, config, fmt=fmt, quiet=quiet, verbose=verbose)
    ws = g.open_workspace()
    _ = ws.config  # validate before touching the workspace
    if (written := ws.adopt_config()) is not None:
        output.err.print(f"wrote {written} from {g.config}")
    with progress(g.quiet) as say:
        result = ingest(
            ws,
            files or [],
            source=source,
            table=table,
            preset=preset,
            wait=wait,
            progress=say,
            rehash=rehash,
        )
    problems = result.problems(ws.config.thresholds)
    render_ingest(result, g.format, problems)
    return 1 if problems else 0


def render_ingest(result, fmt: str, problems: list[str]) -> None:
    """Print an ingest result: a table of files for people, the full record for machines."""
    from crmkit.pipeline.ingest import outcome_dicts

    if fmt == "json":
        output.emit_json(
            {
                "run_id": result.run_id,
                "committed": result.committed,
                "files": outcome_dicts(result),
                "tables": result.table_rows,
                "updated": result.updated,
                "rejects_by_reason": result.rejects_by_reason,
                "identity": result.identity,
                "warnings": result.warnings,
                "problems": problems,
            }
        )
        return
    rows = [
        {
            "file": o.path,
            "source": o.source,
            "status": o.status,
            "mapping": o.mapping or "",
            "read": o.rows_read,
            "accepted": o.rows_accepted,
            "rejected": o.rows_rejected,
            "duplicate": o.rows_duplicate,
        }
        for o in result.files
    ]
    if fmt == "csv":
        import polars as pl

        output.emit_csv(pl.DataFrame(rows))
        return
    output.out.print(output.rich_table(rows, title=f"Ingest {result.run_id}"))
    for o in result.files:
        if o.status == "refused":
            output.err.print(f"[red]refused[/] {o.path}: {o.message}", markup=True, highlight=False)
    ident = result.identity
    if ident:
        rules = ", ".join(f"{k} {v:,}" for k, v in (ident.get("links_by_rule") or {}).items())
        output.err.print(
            f"customers: {ident['records_in']:,} records → {ident['customers_out']:,} customers"
            f" (largest {ident.get('largest_cluster', 0)} records); links: {rules or 'none'}"
        )
        guarded = ident.get("guarded_values")
        if guarded is not None and len(guarded):
            output.err.print(
                f"guarded contact points (shared or placeholder, never proof alone): "
                f"{len(guarded):,}; review with `crmkit customers explain KEY`"
            )
    if result.recovered:
        output.err.print(f"note: {result.recovered}")
    for w in result.warnings:
        output.err.print(f"[yellow]warning:[/] {w}", markup=True, highlight=False)
    if result.rejects_by_reason:
        summary = ", ".join(f"{k} {v:,}" for k, v in result.rejects_by_reason.items())
        output.err.print(f"rejected rows by reason: {summary} (see `crmkit status`)")
    for p in problems:
        output.err.print(f"[yellow]data quality:[/] {p}", markup=True, highlight=False)
