"""`crmkit customers list|show|explain`: resolved customers, their facts and why records merged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from crmkit.cli import output
from crmkit.cli.common import ConfigOpt, FormatOpt, Globals, WorkspaceOpt, resolve

customers_app = typer.Typer(
    help="Resolved customers: list, show a golden record, explain a merge.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(customers_app, name="customers")


def _tables(
    ctx: typer.Context, workspace: Path | None, config: Path | None, fmt: str | None
) -> tuple[Globals, dict[str, pl.LazyFrame]]:
    """The resolved global options and the workspace's tables."""

    g = resolve(ctx, workspace, config, fmt=fmt)
    return g, g.open_workspace().tables()


@customers_app.command("list")
def list_cmd(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", help="Name contains (any script).")] = None,
    email: Annotated[str | None, typer.Option("--email", help="Has this e-mail.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Has this phone (E.164).")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Seen in this source.")] = None,
    min_records: Annotated[
        int | None, typer.Option("--min-records", help="At least this many source records.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows (0: all).")] = 50,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Customers (golden records), filtered."""
    from crmkit.identity.explain import list_customers

    g, tables = _tables(ctx, workspace, config, fmt)
    df = list_customers(
        tables,
        name=name,
        email=email,
        phone=phone,
        source=source,
        min_records=min_records,
        limit=limit or None,
    )
    output.emit_frame(df, g.format, title=f"Customers ({df.height})")


@customers_app.command("show")
def show_cmd(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The customer_key.")],
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """The golden record with its orders, tickets and survey answers."""
    from crmkit.identity.explain import show_customer

    g, tables = _tables(ctx, workspace, config, fmt)
    res = show_customer(tables, key)
    if g.format == "json":
        output.emit_json(res)
        return
    if g.format == "csv":
        output.emit_csv(pl.DataFrame([res["customer"]]))
        return
    cust = res["customer"]
    output.out.print(
        output.rich_table(
            [{"field": k, "value": v} for k, v in cust.items()], title=f"Customer {key}"
        )
    )
    for name in ("orders", "tickets", "survey_responses"):
        df = res.get(name)
        if df is not None and df.height:
            output.out.print(output.rich_table(df, title=f"{name} ({df.height})"))


@customers_app.command("explain")
def explain_cmd(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The customer_key.")],
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Every source record of the customer, the link that joined it and links a guard refused."""
    from crmkit.identity.explain import contributions, explain_customer

    g, tables = _tables(ctx, workspace, config, fmt)
    res = explain_customer(tables, key)
    if g.format == "json":
        output.emit_json(res)
        return
    if g.format == "csv":
        output.emit_csv(res["records"])
        return
    c = res["customer"]
    output.out.print(
        f"[bold]{key}[/]  {c.get('full_name') or '—'}  "
        f"{', '.join(c.get('emails') or [])}  {', '.join(c.get('phones') or [])}"
    )
    output.out.print(
        output.rich_table(
            res["records"].select(
                "source",
                "source_record_id",
                "origin_table",
                "full_name",
                "email",
                "phone",
                "match_rule",
                "match_score",
            ),
            title=f"Source records ({res['records'].height})",
        )
    )
    for title, df in (("Links that joined them", res["links"]), ("Refused links", res["refused"])):
        if df.height == 0:
            continue
        rows = [
            {
                "left": f"{r['source_l']}:{r['source_record_id_l']}",
                "right": f"{r['source_r']}:{r['source_record_id_r']}",
                "rule": r["rule"],
                "probability": r["probability"],
                "weight": r["weight"],
                "contributions": contributions(r),
                "reason": r["reason"],
            }
            for r in df.to_dicts()
        ]
        output.out.print(output.rich_table(rows, title=title))
    if res["changes"].height:
        output.out.print(output.rich_table(res["changes"], title="Merges and splits"))
