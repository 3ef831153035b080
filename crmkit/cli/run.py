"""`crmkit run`: the cron entry point — the configured pipeline end to end."""

from __future__ import annotations

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
from crmkit.cli.progress import progress


def register(app: typer.Typer) -> None:
    app.command("run")(run_cmd)


def run_cmd(
    ctx: typer.Context,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only these steps (repeatable).")
    ] = None,
    skip: Annotated[list[str] | None, typer.Option("--skip", help="Skip these steps.")] = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for the lock.")] = 0.0,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """The cron entry: ingest new files (seen ones are skipped by hash), resolve customers,
    compute metrics, segment, fit CLV, check targets and write the reports, as the config
    declares. Steps: ingest, metrics, segment, clv, report. Writes runs/<run id>/run.json.
    Exit 1 when a step failed or data-quality thresholds or targets were breached (outputs are
    still written), 75 when another run holds the lock. --format json prints the run record."""
    from crmkit.pipeline.ingest import new_run_id
    from crmkit.run import run_pipeline

    g = resolve(
        ctx, workspace, config, as_of=as_of, lang=lang, fmt=fmt, quiet=quiet, verbose=verbose
    )
    ws = g.open_workspace()
    _ = ws.config  # validate before touching the workspace
    if (written := ws.adopt_config()) is not None:
        output.err.print(f"wrote {written} from {g.config}")
    args = {
        "workspace": str(g.workspace),
        "config": str(g.config) if g.config else None,
        "only": only or [],
        "skip": skip or [],
        "as_of": g.as_of,
        "lang": g.lang,
    }
    with progress(g.quiet) as say:
        record = run_pipeline(
            ws,
            run_id=new_run_id(),
            only=only or (),
            skip=skip or (),
            as_of=g.as_of,
            wait=wait,
            arguments=args,
            progress=say,
        )
    if g.format == "json":
        output.emit_json(record.to_dict())
    else:
        render_run(record)
    return record.exit_code


def render_run(record) -> None:
    """A short human summary: one line per step, then problems."""
    rows = [
        {
            "step": s.name,
            "status": s.status,
            "seconds": s.seconds,
            "note": s.message or ", ".join(f"{k} {v:,}" for k, v in list(s.rows.items())[:6]),
        }
        for s in record.steps
    ]
    output.out.print(output.rich_table(rows, title=f"Run {record.run_id}"))
    for s in record.steps:
        for p in s.problems:
            output.err.print(f"[yellow]{s.name}:[/] {p}", markup=True, highlight=False)
        for o in s.outputs:
            output.err.print(f"wrote {o['path']}")
    output.err.print(f"exit {record.exit_code}; record in runs/{record.run_id}/run.json")
