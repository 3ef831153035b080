"""`crmkit basket`: association rules (support, confidence, lift) between products or categories."""

from __future__ import annotations

from typing import Annotated

import typer

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
from crmkit.cli.output import emit_csv, emit_frame, emit_json, err


def register(app: typer.Typer) -> None:
    """Add `crmkit basket` to the app."""
    app.command("basket")(basket)


def basket(
    ctx: typer.Context,
    level: Annotated[str | None, typer.Option("--level", help="product or category.")] = None,
    min_support: Annotated[float | None, typer.Option("--min-support")] = None,
    min_confidence: Annotated[float | None, typer.Option("--min-confidence")] = None,
    min_lift: Annotated[float | None, typer.Option("--min-lift")] = None,
    top: Annotated[int, typer.Option("--top", help="Rules shown in the table.")] = 30,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Pair rules A → B from purchase orders, sorted by lift."""
    from crmkit.analysis.basket import basket_workspace

    g = resolve(ctx, workspace, config, as_of, lang, fmt, quiet, verbose)
    r = basket_workspace(
        g.open_workspace(),
        as_of=g.as_of,
        level=level,  # type: ignore[arg-type]
        min_support=min_support,
        min_confidence=min_confidence,
        min_lift=min_lift,
    )
    if g.format == "json":
        emit_json(
            {
                "level": r.level,
                "orders": r.transactions,
                "items": r.items,
                "lines_without_item": r.lines_without_item,
                "rules": r.rules,
            }
        )
    elif g.format == "csv":
        emit_csv(r.rules)
    else:
        err.print(
            f"{r.transactions:,} orders, {r.items:,} "
            f"{'products' if r.level == 'product' else 'categories'}, {r.rules.height:,} rules; "
            f"{r.lines_without_item:,} lines without a {r.level} ignored",
            style="dim",
        )
        emit_frame(r.rules.head(top), "table", title=f"Basket rules ({r.level})")
