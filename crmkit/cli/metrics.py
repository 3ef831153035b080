"""`crmkit metrics`: metric values for a period (by dimension, vs a prior period, vs targets).

Thin: parse options, call `crmkit.metrics`, render. `--check-targets` exits 1 when a target is
missed; `crmkit metrics explain NAME` traces one metric to its inputs and settings.
"""

from __future__ import annotations

from typing import Annotated, Any

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

PeriodOpt = Annotated[
    str | None,
    typer.Option("--period", "-p", help="Q1, 2025Q1, 2025-03, 2025H1, last-90d, ytd, a..b, …"),
]

HEADERS = {
    "en": {
        "metric": "Metric",
        "value": "Value",
        "delta": "Δ",
        "target": "Target",
        "n": "n",
        "note": "Note",
        "compare": "Compare",
    },
    "zh": {
        "metric": "指标",
        "value": "数值",
        "delta": "变化",
        "target": "目标",
        "n": "样本数",
        "note": "说明",
        "compare": "对比",
    },
}


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Customer metrics for a period: by dimension, vs a prior period, vs targets.",
        invoke_without_command=True,
        no_args_is_help=False,
    )
    group.callback(invoke_without_command=True)(metrics_cmd)
    group.command("explain")(explain_cmd)
    app.add_typer(group, name="metrics")


def metrics_cmd(
    ctx: typer.Context,
    period: PeriodOpt = None,
    compare: Annotated[
        str | None, typer.Option("--compare", help="Add the prior period: previous or yoy.")
    ] = None,
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="Break down by columns (repeat or comma-separate)."),
    ] = None,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", "-m", help="Only these metrics (repeatable).")
    ] = None,
    check_targets: Annotated[
        bool, typer.Option("--check-targets", help="Exit 1 when any target is missed.")
    ] = False,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Compute every metric (or --metric ones) for --period (default last-90d)."""
    if ctx.invoked_subcommand:
        return
    import polars as pl

    from crmkit.metrics import workspace_result

    g = resolve(ctx, workspace, config, as_of, lang, fmt, quiet, verbose)
    ws = g.open_workspace()
    result = workspace_result(
        ws, period, by=by, compare=compare, metrics=metric, as_of=g.as_of, lang=g.lang
    )
    for w in result.warnings:
        output.err.print(f"[yellow]warning:[/] {w}", markup=True)
    if g.format == "json":
        output.emit_json(result.to_document())
    elif g.format == "csv":
        output.emit_csv(result.frame)
    else:
        render_table(result, g.lang)
    if check_targets:
        missed = result.targets_missed
        has = pl.col("target_min").is_not_null() | pl.col("target_max").is_not_null()
        unchecked = result.frame.filter(has & pl.col("target_met").is_null())
        for r in unchecked.iter_rows(named=True):
            output.err.print(f"warning: target for {r['metric']} not evaluated: {r['reason']}")
        if missed.height:
            names = ", ".join(sorted(set(missed["metric"].to_list())))
            output.err.print(f"[bold red]targets missed:[/] {names}", markup=True)
            raise typer.Exit(1)


def fmt_value(value: float | None, unit: str) -> str:
    """A metric value for people: percentages for ratios, units for times."""
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "count":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    if unit == "currency":
        return f"{value:,.2f}"
    if unit == "score":
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    suffix = {"days": " d", "hours": " h", "months": " mo"}.get(unit, "")
    return f"{value:,.1f}{suffix}"


def fmt_delta(row: dict[str, Any]) -> str:
    """▲/▼ with the change, green when it moves the good way, red when the bad way."""
    delta = row["delta"]
    if delta is None:
        return "—" if row["compare_value"] is None else ""
    if delta == 0:
        return "= 0"
    arrow = "▲" if delta > 0 else "▼"
    good = (delta > 0) == (row["direction"] == "higher_is_better")
    colour = "" if row["direction"] == "neutral" else ("green" if good else "red")
    text = f"{arrow} {fmt_value(abs(delta), row['unit'])}"
    if row["unit"] == "ratio":
        text = f"{arrow} {abs(delta) * 100:.1f} pp"
    return f"[{colour}]{text}[/]" if colour else text


def fmt_target(row: dict[str, Any]) -> str:
    lo, hi, unit = row["target_min"], row["target_max"], row["unit"]
    if lo is None and hi is None:
        return ""
    parts = []
    if lo is not None:
        parts.append(f"≥ {fmt_value(lo, unit)}")
    if hi is not None:
        parts.append(f"≤ {fmt_value(hi, unit)}")
    mark = {True: " [green]✓[/]", False: " [red]✗[/]"}.get(row["target_met"], "")
    return " ".join(parts) + mark


def render_table(result: Any, lang: str) -> None:
    """One rich table per family: value, delta vs the compare period, target, n, note."""
    from rich.table import Table

    from crmkit.metrics.registry import FAMILIES, FAMILY_NAMES

    h = HEADERS["zh" if lang == "zh" else "en"]
    p = result.period
    head = f"{p.label} ({p.start} … {p.end}), as of {result.as_of}"
    if result.compare is not None:
        c = result.compare
        head += f"; {h['compare']} {result.compare_mode}: {c.start} … {c.end}"
    output.out.print(head)
    rows = result.frame.to_dicts()
    for fam in FAMILIES:
        fam_rows = [r for r in rows if r["family"] == fam]
        if not fam_rows:
            continue
        title = FAMILY_NAMES[fam][1 if lang == "zh" else 0]
        table = Table(title=title, title_justify="left", header_style="bold")
        table.add_column(h["metric"], no_wrap=True)
        for d in result.by:
            table.add_column(d)
        table.add_column(h["value"], justify="right")
        if result.compare is not None:
            table.add_column(h["delta"], justify="right")
        table.add_column(h["target"])
        table.add_column(h["n"], justify="right")
        table.add_column(h["note"], style="dim")
        for r in fam_rows:
            cells = [r["name"], *(r[d] if r[d] is not None else "—" for d in result.by)]
            cells.append(fmt_value(r["value"], r["unit"]))
            if result.compare is not None:
                cells.append(fmt_delta(r))
            cells += [
                fmt_target(r),
                output.fmt_cell(r["n"]) if r["n"] is not None else "",
                r["reason"] or "",
            ]
            table.add_row(*cells)
        output.out.print(table)


def explain_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Metric name, e.g. retention_rate.")],
    period: PeriodOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Definition, formula, inputs with their counts, settings used and caveats of a metric."""
    from crmkit.metrics import explain

    g = resolve(ctx, workspace, config, as_of, lang, fmt)
    ws = g.open_workspace()
    e = explain(ws, name, period, as_of=g.as_of, lang=g.lang)
    if g.format in ("json", "csv"):
        output.emit_json(e.to_dict())
        return
    o = output.out
    o.print(f"[bold]{e.display}[/] ({e.name}, {e.family})", markup=True)
    o.print(e.definition)
    o.print(f"formula: {e.formula}")
    o.print(
        f"period: {e.period['label']} ({e.period['start']} … {e.period['end']}), as of {e.as_of}"
    )
    value = fmt_value(e.value, e.unit)
    o.print(f"value: {value}" + (f"  (n = {e.n:,})" if e.n is not None else ""))
    if e.reason:
        o.print(f"status: {e.status}: {e.reason}")
    if e.inputs:
        o.print("inputs:")
        for k, v in e.inputs.items():
            doc = e.input_docs.get(k)
            o.print(f"  {k} = {output.fmt_cell(v)}" + (f"  ({doc})" if doc else ""))
    o.print(f"tables: {', '.join(e.tables)}")
    if e.settings:
        o.print("settings:")
        for k, v in e.settings.items():
            o.print(
                f"  {k} = {v!r}" + (f"  ({e.setting_docs[k]})" if e.setting_docs.get(k) else "")
            )
    for c in e.caveats:
        o.print(f"caveat: {c}")
