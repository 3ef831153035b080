"""The `crmkit` typer application: global options and command registration."""

from __future__ import annotations

import importlib
from pathlib import Path

import typer

from crmkit.cli.common import (
    AsOfOpt,
    ConfigOpt,
    FormatOpt,
    LangOpt,
    QuietOpt,
    VerboseOpt,
    WorkspaceOpt,
    base_globals,
)
from crmkit.cli.output import configure

# Command modules in help order; each defines `register(app)`. Missing ones are simply absent.
COMMAND_MODULES = (
    "init",
    "ingest",
    "status",
    "doctor",
    "customers",
    "metrics",
    "segment",
    "clv",
    "cohort",
    "cycle",
    "basket",
    "paths",
    "survey",
    "feedback",
    "report",
    "run",
)

app = typer.Typer(
    name="crmkit",
    help="Customer analytics from the exports you already have: ingest, resolve, measure, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _globals(
    ctx: typer.Context,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    """Options here apply to every command; each command also accepts them after its name."""
    if version:
        from crmkit import __version__

        typer.echo(f"crmkit {__version__}")
        raise typer.Exit()
    ctx.obj = base_globals(workspace, config, as_of, lang, fmt, quiet, verbose)
    configure(quiet=ctx.obj.quiet, verbose=ctx.obj.verbose)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        if not (Path(__file__).parent / f"{name}.py").exists():
            continue
        importlib.import_module(f"crmkit.cli.{name}").register(app)


_register_all()
