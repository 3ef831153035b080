"""`crmkit init`: create a workspace, optionally detecting sources from a folder of exports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmkit.cli import output
from crmkit.cli.common import FormatOpt, resolve


def register(app: typer.Typer) -> None:
    app.command("init")(init_cmd)


def init_cmd(
    ctx: typer.Context,
    directory: Annotated[Path | None, typer.Argument(help="Workspace folder to create.")] = None,
    exports: Annotated[
        Path | None, typer.Option("--from", help="Folder of exports to detect sources from.")
    ] = None,
    timezone: Annotated[str, typer.Option(help="Zone of times without one.")] = "UTC",
    currency: Annotated[str, typer.Option(help="Default currency (ISO 4217).")] = "USD",
    phone_region: Annotated[
        str | None, typer.Option("--phone-region", help="Default phone region, e.g. CN.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing crmkit.yaml.")] = False,
    fmt: FormatOpt = None,
) -> None:
    """Write a commented crmkit.yaml; with --from, detect each export's table and preset and
    print what was decided and how sure it is."""
    from crmkit.setup import init_workspace

    g = resolve(ctx, fmt=fmt)
    target = directory or g.workspace
    result = init_workspace(
        target,
        exports=exports,
        timezone=timezone,
        currency=currency,
        phone_region=phone_region,
        force=force,
    )
    rows = [
        {
            "file": d.path,
            "table": d.table or "",
            "preset": d.preset or "(auto)" if d.table else "",
            "confidence": f"{d.confidence:.0%}" if d.table else "",
            "decision": d.reason if d.table else f"skipped: {d.error}",
        }
        for d in result.detected
    ]
    if g.format == "json":
        output.emit_json(
            {"config": str(result.config_path), "files": rows, "sources": result.sources}
        )
        return
    if rows:
        output.out.print(output.rich_table(rows, title="Detected sources"))
    output.err.print(f"wrote {result.config_path}")
