"""The terminal dashboard (`crmkit report` without `--out`): the headline view with rich.

Returns rich renderables; the CLI prints them. Colours follow the metric's direction (green when
it moved the good way), and each unavailable section is one dim line saying why.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from crmkit.report.data import Column, ReportData, format_cell


def dashboard(data: ReportData) -> RenderableType:
    """Headline cards as a table, monthly trend, and the status of every section."""
    fmt = data.fmt
    parts: list[RenderableType] = [
        Text(data.title, style="bold"),
        Text(data.subtitle(), style="dim"),
        Text(data.privacy_note(), style="dim"),
    ]
    head = data.section("headline")
    if head.ok:
        table = RichTable(title=head.title, title_justify="left", header_style="bold")
        for label, justify in (
            (data.label("metric"), "left"),
            (data.label("value"), "right"),
            (data.label("delta"), "right"),
            (data.label("target"), "left"),
        ):
            table.add_column(label, justify=justify)  # type: ignore[arg-type]
        target = Column("target", "", "target")
        for c in head.cards:
            if c["status"] != "ok":
                table.add_row(escape(c["name"]), "—", "", Text(c.get("reason") or "", "dim"))
                continue
            colour = {True: "green", False: "red"}.get(c["good"], "")
            delta = fmt.delta(c["delta"], c["unit"]) if c["delta"] is not None else ""
            tgt = format_cell(fmt, c, target)
            if c["target_met"] is not None:
                met = data.label("met") if c["target_met"] else data.label("missed")
                tgt = f"{tgt} ({met})"
            table.add_row(
                escape(c["name"]),
                fmt.headline(c["value"], c["unit"]),
                Text(delta, colour),
                Text(
                    tgt, "green" if c["target_met"] else "red" if c["target_met"] is False else ""
                ),
            )
        parts.append(table)
    trends = data.section("trends")
    if trends.ok:
        monthly = trends.table("monthly")
        table = RichTable(title=trends.title, title_justify="left", header_style="bold")
        for col in monthly.columns:
            table.add_column(col.label, justify="left" if col.kind == "month" else "right")
        for row in monthly.rows()[-6:]:
            table.add_row(*(format_cell(fmt, row, c) for c in monthly.columns))
        parts.append(table)
    lines = Text()
    for sec in data.sections:
        if sec.ok:
            lines.append(f"✓ {sec.title}\n", "green")
        else:
            lines.append(f"– {sec.title}: {sec.reason}\n", "dim")
    parts.append(Panel(lines, title=data.label("contents"), title_align="left", expand=False))
    return Group(*parts)
