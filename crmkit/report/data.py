"""The report's data model: `ReportData` holds every section, each ok or unavailable with why.

Renderers (html, xlsx, markdown, json, terminal) only format what is here; they never compute.
A `Table` carries raw values (numbers stay numbers) and column kinds saying how to show them;
a `Chart` names a table and the columns to plot, and is drawn at write time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crmkit.report.i18n import Formatter, t

# Column kinds: text, int, number, money, percent, date, month, metric (by the row's unit),
# delta (by the row's unit), target (row's target_min/target_max), bool (met / missed).
KINDS = ("text", "int", "number", "money", "percent", "date", "month", "metric", "delta", "target")


@dataclass
class Column:
    """A displayed column: key in the frame, translated label, and how to format it."""

    key: str
    label: str
    kind: str = "text"


@dataclass
class Table:
    """A titled table; `frame` may hold helper columns (unit, target_min, …) not displayed."""

    key: str
    title: str
    columns: list[Column]
    frame: pl.DataFrame

    def rows(self) -> list[dict[str, Any]]:
        return self.frame.to_dicts()

    def display_frame(self) -> pl.DataFrame:
        """Only the displayed columns, with their keys (for xlsx and json)."""
        return self.frame.select([c.key for c in self.columns if c.key in self.frame.columns])


@dataclass
class Chart:
    """A chart of one of the section's tables (drawn by `crmkit.report.charts`).

    kind: bar | line | hbar | heatmap | histogram. `x`/`y`/`color` are frame columns;
    `series` names a column whose values become separate lines (long data).
    """

    key: str
    title: str
    kind: str
    table: str
    x: str
    y: str
    color: str | None = None
    x_title: str = ""
    y_title: str = ""
    y_format: str = ",.0f"
    series: str | None = None
    order: list[str] | None = None  # category order for both axes of a heatmap
    detail: str | None = None  # a table to show right under the chart


@dataclass
class Section:
    """One report section; when `status` is unavailable, `reason` says why in one line."""

    key: str
    title: str
    status: str = "ok"
    reason: str | None = None
    cards: list[dict[str, Any]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def table(self, key: str) -> Table:
        return next(tb for tb in self.tables if tb.key == key)


@dataclass
class ReportData:
    """Everything a report shows, in one language, for one period of one workspace."""

    title: str
    lang: str
    currency: str
    period: dict[str, Any]
    compare: dict[str, Any] | None
    as_of: dt.date | None
    include_pii: bool
    names: str
    sections: list[Section]
    settings: dict[str, Any] = field(default_factory=dict)
    version: str = ""
    workspace: str = ""

    @property
    def fmt(self) -> Formatter:
        return Formatter(self.lang, self.currency)

    def label(self, key: str, **kwargs: Any) -> str:
        return t(self.lang, key, **kwargs)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def subtitle(self) -> str:
        """'Period Q1 (1 Jan 2025 to 31 Mar 2025) · As of 31 Mar 2025'."""
        f = self.fmt
        parts = []
        if self.period:
            span = t(
                self.lang,
                "period_range",
                start=f.date(self.period["start"]),
                end=f.date(self.period["end"]),
            )
            parts.append(f"{t(self.lang, 'period')} {self.period['label']} ({span})")
        if self.compare:
            span = t(
                self.lang,
                "period_range",
                start=f.date(self.compare["start"]),
                end=f.date(self.compare["end"]),
            )
            parts.append(f"{t(self.lang, 'compare')} {span}")
        if self.as_of:
            parts.append(f"{t(self.lang, 'as_of')} {f.date(self.as_of)}")
        parts.append(f"{t(self.lang, 'currency')} {self.currency}")
        return " · ".join(parts)

    def privacy_note(self) -> str:
        if self.include_pii:
            return t(self.lang, "pii_shown")
        return t(self.lang, "pii_hidden", names=t(self.lang, f"names_{self.names}"))


def format_cell(fmt: Formatter, row: dict[str, Any], col: Column) -> str:
    """One displayed cell of a row, formatted by the column kind (and the row's unit)."""
    value = row.get(col.key)
    unit = row.get("unit")
    if col.kind == "target":
        lo, hi = row.get("target_min"), row.get("target_max")
        if lo is None and hi is None:
            return "—"
        parts = []
        if lo is not None:
            parts.append(f"≥ {fmt.metric(lo, unit)}")
        if hi is not None:
            parts.append(f"≤ {fmt.metric(hi, unit)}")
        return " ".join(parts)
    return fmt.cell(value, col.kind, unit)
