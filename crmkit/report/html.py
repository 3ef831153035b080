"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, fonts or links out).

jinja2 autoescaping escapes every value from the data; only the SVG produced by vl-convert (which
escapes its own text) is marked safe. A Content-Security-Policy forbids any network fetch.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from crmkit.report.charts import render_svg
from crmkit.report.data import Chart, Column, ReportData, Section, format_cell


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("crmkit.report", "templates"),
        autoescape=True,  # every template, whatever its extension
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _tone(row: dict[str, Any], col: Column) -> str:
    """'good'/'bad' for delta and target cells, so colour carries the direction of change."""
    if col.kind == "bool" and row.get(col.key) is not None:
        return "good" if row[col.key] else "bad"
    if col.kind == "delta" and row.get("delta") not in (None, 0):
        direction = row.get("direction")
        if direction in ("higher_is_better", "lower_is_better"):
            return "good" if (row["delta"] > 0) == (direction == "higher_is_better") else "bad"
    return ""


def render_html(data: ReportData) -> str:
    """The report as an HTML document (str)."""
    fmt = data.fmt
    css = resources.files("crmkit.report").joinpath("templates/report.css").read_text("utf-8")

    def svg(section: Section, chart: Chart) -> Markup:
        return Markup(render_svg(data, section.table(chart.table), chart))

    def target(card: dict[str, Any]) -> str:
        return format_cell(fmt, card, Column("target", "", "target"))

    template = _env().get_template("report.html.j2")
    return template.render(
        data=data,
        fmt=fmt,
        css=Markup(css),
        label=data.label,
        cell=lambda row, col: format_cell(fmt, row, col),
        tone=_tone,
        svg=svg,
        target=target,
    )
