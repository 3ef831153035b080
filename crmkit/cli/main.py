"""Entry point: run the app and map every failure to one clear line and a documented exit code.

Exit codes: 0 success; 1 finished but data-quality thresholds or targets were breached;
2 usage or configuration error; 75 the workspace is locked by another run; 70 internal error.
"""

from __future__ import annotations

import os
import sys

import typer
from typer._click.exceptions import ClickException

from crmkit.errors import CrmkitError

EXIT_INTERNAL = 70


def _verbose(argv: list[str]) -> bool:
    return "--verbose" in argv or "-v" in argv or os.environ.get("CRMKIT_VERBOSE") in ("1", "true")


def main(argv: list[str] | None = None) -> int:
    """Run crmkit; returns the process exit code instead of raising."""
    args = sys.argv[1:] if argv is None else argv
    from crmkit.cli.app import app
    from crmkit.cli.output import err

    try:
        result = app(args=args, prog_name="crmkit", standalone_mode=False)
        return int(result or 0)
    except CrmkitError as exc:
        if _verbose(args):
            err.print_exception()
        err.print(f"[bold red]error:[/] {exc.message}", markup=True, highlight=False)
        if exc.hint:
            err.print(f"[dim]hint:[/] {exc.hint}", markup=True, highlight=False)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err.print("aborted")
        return 130
    except ClickException as exc:
        exc.show(file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `crmkit … | head`: the reader went away; exit quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        err.print("interrupted; the workspace is unchanged")
        return 130
    except Exception as exc:
        if _verbose(args):
            err.print_exception()
        err.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc}",
            markup=True,
            highlight=False,
        )
        err.print("[dim]hint:[/] rerun with --verbose for the traceback and report it", markup=True)
        return EXIT_INTERNAL


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
