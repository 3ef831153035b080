"""Charts as inline SVG: altair specs rendered at write time by vl-convert (no JavaScript).

Data goes to altair as a list of dicts (no pandas). Month and band labels are formatted in the
report's language before plotting and kept in their order, so axes read naturally in en and zh.
"""

from __future__ import annotations

import re
from typing import Any

import altair as alt
import vl_convert

from crmkit.report.data import Chart, ReportData, Table
from crmkit.report.i18n import Formatter

WIDTH = 860
HEIGHT = 240
BLUE = "#2563eb"
PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9"]
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'PingFang SC', 'Microsoft YaHei', sans-serif"

CONFIG: dict[str, Any] = {
    "font": FONT,
    "view": {"stroke": None},
    "axis": {
        "labelColor": "#475569",
        "titleColor": "#334155",
        "gridColor": "#e2e8f0",
        "domainColor": "#cbd5e1",
        "tickColor": "#cbd5e1",
        "labelFontSize": 11,
        "titleFontSize": 11,
        "titleFontWeight": 500,
    },
    "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom"},
    "range": {"category": PALETTE},
}


def _values(data: ReportData, table: Table, chart: Chart) -> list[dict[str, Any]]:
    """Rows for plotting: months as locale labels, numbers as floats, nothing else."""
    f: Formatter = data.fmt
    wanted = {c for c in (chart.x, chart.y, chart.color, chart.series) if c}
    rows = []
    for r in table.frame.select(sorted(wanted)).to_dicts():
        out: dict[str, Any] = {}
        for k, v in r.items():
            if k == "month" or (hasattr(v, "year") and hasattr(v, "month")):
                out[k] = f.month(v)
            elif isinstance(v, (int, float)) or v is None:
                out[k] = None if v is None else float(v)
            elif hasattr(v, "is_finite"):  # Decimal
                out[k] = float(v)
            else:
                out[k] = str(v)
        rows.append(out)
    return rows


def _order(rows: list[dict[str, Any]], key: str) -> list[Any]:
    seen: dict[Any, None] = {}
    for r in rows:
        seen.setdefault(r[key], None)
    return list(seen)


def build_chart(data: ReportData, table: Table, chart: Chart) -> alt.TopLevelMixin:
    """The altair chart for one `Chart` spec."""
    rows = _values(data, table, chart)
    src = alt.Data(values=rows)
    base = alt.Chart(src)
    if chart.kind in ("bar", "line"):
        x = alt.X(
            f"{chart.x}:O",
            sort=_order(rows, chart.x),
            title=chart.x_title or None,
            axis=alt.Axis(labelAngle=-40, labelOverlap=True),
        )
        y = alt.Y(f"{chart.y}:Q", title=chart.y_title or None, axis=_axis(chart.y_format))
        if chart.kind == "bar":
            mark = base.mark_bar(color=BLUE, cornerRadiusTopLeft=3, cornerRadiusTopRight=3)
            return mark.encode(x=x, y=y).properties(width=WIDTH, height=HEIGHT)
        enc: dict[str, Any] = {"x": x, "y": y}
        if chart.series:
            enc["color"] = alt.Color(
                f"{chart.series}:N", title=None, sort=_order(rows, chart.series)
            )
        else:
            enc["color"] = alt.value(BLUE)
        return (
            base.mark_line(point=True, strokeWidth=2.5)
            .encode(**enc)
            .properties(width=WIDTH, height=HEIGHT)
        )
    if chart.kind == "hbar":
        n = len(rows)
        return (
            base.mark_bar(color=BLUE, cornerRadiusTopRight=3, cornerRadiusBottomRight=3)
            .encode(
                y=alt.Y(
                    f"{chart.y}:N",
                    sort=_order(rows, chart.y),
                    title=chart.y_title or None,
                    axis=alt.Axis(labelLimit=260),
                ),
                x=alt.X(f"{chart.x}:Q", title=chart.x_title or None, axis=_axis(chart.y_format)),
            )
            .properties(width=WIDTH - 240, height=max(60, 24 * n))
        )
    if chart.kind == "heatmap":
        share = chart.color in ("retained_share", "share")
        ys = _order(rows, chart.y)
        xs = _order(rows, chart.x)
        if chart.order:
            ys = [v for v in chart.order if v in ys] + [v for v in ys if v not in chart.order]
            xs = [v for v in chart.order if v in xs] + [v for v in xs if v not in chart.order]
        xs = sorted(xs) if all(isinstance(v, float) for v in xs) else xs
        numeric = all(isinstance(v, float) for v in xs)
        x = alt.X(
            f"{chart.x}:O",
            sort=xs,
            title=chart.x_title or None,
            axis=alt.Axis(
                labelAngle=0 if numeric else -35,
                orient="top",
                format="d" if numeric else "",
                labelLimit=160,
            ),
        )
        y = alt.Y(
            f"{chart.y}:O", sort=ys, title=chart.y_title or None, axis=alt.Axis(labelLimit=220)
        )
        fmt = ".0%" if share else ",.0f"
        rect = base.mark_rect(stroke="white", strokeWidth=1).encode(
            x=x,
            y=y,
            color=alt.Color(
                f"{chart.color}:Q",
                scale=alt.Scale(scheme="blues"),
                legend=alt.Legend(format=fmt, title=None, orient="right"),
            ),
        )
        text = base.mark_text(fontSize=10).encode(
            x=x,
            y=y,
            text=alt.Text(f"{chart.color}:Q", format=fmt),
            color=alt.condition(
                f"datum.{chart.color} > {_mid(rows, chart.color)}",
                alt.value("white"),
                alt.value("#1e293b"),
            ),
        )
        cell = 40 if len(xs) > 10 else 52
        return (rect + text).properties(width=max(200, cell * len(xs)), height=26 * len(ys))
    raise ValueError(f"unknown chart kind {chart.kind!r}")


def _axis(fmt: str) -> alt.Axis:
    """A quantitative axis; counts get whole-number ticks only."""
    if fmt == ",.0f":
        return alt.Axis(format=fmt, tickMinStep=1)
    return alt.Axis(format=fmt)


def _mid(rows: list[dict[str, Any]], key: str) -> float:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return (max(vals) + min(vals)) / 2 if vals else 0.0


def render_svg(data: ReportData, table: Table, chart: Chart) -> str:
    """The chart as a standalone, scalable SVG string (viewBox kept, fixed size removed)."""
    spec = build_chart(data, table, chart).configure(**CONFIG).to_dict()
    # Room for labels: vl-convert measures text with its own fonts, browsers may draw it wider.
    spec["padding"] = {"left": 36, "top": 6, "right": 16, "bottom": 6}
    svg = vl_convert.vegalite_to_svg(spec)
    return _scalable(svg)


_SIZE = re.compile(r'<svg([^>]*?)\swidth="([\d.]+)"\s+height="([\d.]+)"')


def _scalable(svg: str) -> str:
    """Replace the fixed width/height by a viewBox so CSS can scale the chart to the screen."""
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    m = _SIZE.search(svg)
    if not m:
        return svg
    w, h = m.group(2), m.group(3)
    attrs = m.group(1)
    tag = svg[m.start() : svg.index(">", m.start())]
    view = "" if "viewBox" in tag else f' viewBox="0 0 {w} {h}"'
    scale = f' width="100%" preserveAspectRatio="xMinYMin meet" style="max-width:{w}px"'
    new = f"<svg{attrs}{view}{scale}"
    return svg[: m.start()] + new + svg[m.end() :]
