"""Options shared by every command, accepted both before and after the subcommand name."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crmkit.errors import UsageError

if TYPE_CHECKING:
    from crmkit.workspace import Workspace

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w", help="Workspace folder (default: current folder or CRMKIT_WORKSPACE)."
    ),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Config file layered over the workspace's own.")
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Evaluation date YYYY-MM-DD (default: last date in the data)."),
]
LangOpt = Annotated[str | None, typer.Option("--lang", help="Language of labels: en or zh.")]
FormatOpt = Annotated[
    str | None, typer.Option("--format", "-f", help="Output: table, json or csv.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks and details.")]

FORMATS = ("table", "json", "csv")
LANGS = ("en", "zh")


@dataclass(frozen=True)
class Globals:
    """The resolved global options of one invocation."""

    workspace: Path
    config: Path | None = None
    as_of: date | None = None
    lang: str = "en"
    format: str = "table"
    quiet: bool = False
    verbose: bool = False

    def open_workspace(self) -> Workspace:
        """The workspace these options name, with `--config` layered over its own config."""
        from crmkit.workspace import Workspace

        return Workspace(self.workspace, config_file=self.config)


def _env(name: str) -> str | None:
    value = os.environ.get(f"CRMKIT_{name}")
    return value or None


def base_globals(
    workspace: Path | None = None,
    config: Path | None = None,
    as_of: str | None = None,
    lang: str | None = None,
    fmt: str | None = None,
    quiet: bool = False,
    verbose: bool = False,
) -> Globals:
    """Resolve options given before the subcommand, falling back to CRMKIT_* variables."""
    ws = workspace or (Path(_env("WORKSPACE")) if _env("WORKSPACE") else Path.cwd())
    cfg = config or (Path(_env("CONFIG")) if _env("CONFIG") else None)
    g = Globals(workspace=ws, config=cfg, quiet=quiet or _env("QUIET") in ("1", "true"))
    g = replace(g, verbose=verbose or _env("VERBOSE") in ("1", "true"))
    return merge(
        g, as_of=as_of or _env("AS_OF"), lang=lang or _env("LANG"), fmt=fmt or _env("FORMAT")
    )


def merge(
    g: Globals,
    *,
    workspace: Path | None = None,
    config: Path | None = None,
    as_of: str | None = None,
    lang: str | None = None,
    fmt: str | None = None,
    quiet: bool = False,
    verbose: bool = False,
) -> Globals:
    """Options given after the subcommand win over those given before it."""
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}", hint=f"use one of: {', '.join(FORMATS)}")
    if lang is not None and lang not in LANGS:
        raise UsageError(f"unknown language {lang!r}", hint="use en or zh")
    parsed: date | None = g.as_of
    if as_of:
        try:
            parsed = date.fromisoformat(as_of)
        except ValueError:
            raise UsageError(f"--as-of {as_of!r} is not a date", hint="use YYYY-MM-DD") from None
    return Globals(
        workspace=workspace or g.workspace,
        config=config or g.config,
        as_of=parsed,
        lang=lang or g.lang,
        format=fmt or g.format,
        quiet=quiet or g.quiet,
        verbose=verbose or g.verbose,
    )


def resolve(
    ctx: typer.Context,
    workspace: Path | None = None,
    config: Path | None = None,
    as_of: str | None = None,
    lang: str | None = None,
    fmt: str | None = None,
    quiet: bool = False,
    verbose: bool = False,
) -> Globals:
    """The globals for a command: callback-level options merged with the command's own."""
    root = ctx.find_root()
    g = root.obj if isinstance(root.obj, Globals) else base_globals()
    g = merge(
        g,
        workspace=workspace,
        config=config,
        as_of=as_of,
        lang=lang,
        fmt=fmt,
        quiet=quiet,
        verbose=verbose,
    )
    root.obj = g
    from crmkit.cli.output import configure

    configure(quiet=g.quiet, verbose=g.verbose)
    return g
