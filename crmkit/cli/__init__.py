"""crmkit's command line: thin typer commands that parse, call the library and render.

Adding a command group: create `crmkit/cli/<name>.py` with `def register(app: typer.Typer)`
and add `<name>` to `COMMAND_MODULES` in `crmkit/cli/app.py`. Use `crmkit.cli.common` for the
shared options (`-w`, `--format`, …) and `crmkit.cli.output` to render; never compute here.
"""
