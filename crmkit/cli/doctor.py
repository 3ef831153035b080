"""`crmkit doctor`: check the config and sources without writing anything."""

from __future__ import annotations

import typer

from crmkit.cli import output
from crmkit.cli.common import ConfigOpt, FormatOpt, WorkspaceOpt, resolve

_STYLE = {"ok": "green", "warning": "yellow", "error": "red"}


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor_cmd)


def doctor_cmd(
    ctx: typer.Context,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    fmt: FormatOpt = None,
) -> int:
    """Check config, sources, encodings, mappings and a sample of rejects (writes nothing).
    Exit 2 when an error is found, 1 for warnings only, 0 when all is well."""
    from crmkit.setup import doctor

    g = resolve(ctx, workspace, config, fmt=fmt)
    findings = doctor(g.open_workspace())
    if g.format == "json":
        output.emit_json([f.__dict__ for f in findings])
    else:
        for f in findings:
            output.out.print(
                f"[{_STYLE[f.level]}]{f.level:>7}[/] {f.subject}: {f.message}",
                markup=True,
                highlight=False,
            )
    levels = {f.level for f in findings}
    return 2 if "error" in levels else 1 if "warning" in levels else 0
