"""The Excel report: a summary sheet plus one sheet per available section (polars + xlsxwriter).

Numbers stay numbers with number formats (money in the configured currency, percentages,
thousands separators); every table has a header row, an autofilter and a frozen header; text
cells that a spreadsheet would run as a formula get a leading apostrophe (formula injection).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import polars as pl
import xlsxwriter

from crmkit.report.data import Column, ReportData, Section, Table
from crmkit.report.i18n import CURRENCY_SYMBOLS, t

_DANGER = ("=", "+", "-", "@", "\t", "\r")
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def guard_text(value: Any) -> Any:
    """Prefix `'` to text a spreadsheet would read as a formula; other values pass through."""
    if isinstance(value, str) and value.startswith(_DANGER):
        return "'" + value
    return value


def guard_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Guard every text column of a frame (numeric columns are never touched)."""
    danger = r"^[=+\-@\t\r]"
    return df.with_columns(
        pl.when(pl.col(c).str.contains(danger))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c, dtype in df.schema.items()
        if dtype == pl.String
    )


def _num_formats(data: ReportData) -> dict[str, str]:
    symbol = CURRENCY_SYMBOLS.get(data.currency.upper())
    money = f'"{symbol}"#,##0.00' if symbol else f'#,##0.00 "{data.currency}"'
    return {
        "int": "#,##0",
        "number": "#,##0.00",
        "money": money,
        "percent": "0.0%",
        "date": "yyyy-mm-dd",
        "month": "yyyy-mm",
        "metric": "#,##0.####",
        "delta": "+#,##0.####;-#,##0.####;0",
    }


def _sheet_frame(data: ReportData, table: Table) -> tuple[pl.DataFrame, dict[str, str]]:
    """The table as Excel will show it: labelled columns, raw values, and a format per column."""
    fmts = _num_formats(data)
    frame = table.frame
    exprs: list[pl.Expr] = []
    formats: dict[str, str] = {}
    used: set[str] = set()

    def add(expr: pl.Expr, label: str, fmt: str | None) -> None:
        name = label
        i = 2
        while name in used:
            name, i = f"{label} ({i})", i + 1
        used.add(name)
        exprs.append(expr.alias(name))
        if fmt:
            formats[name] = fmt

    for col in table.columns:
        if col.kind == "target":
            for bound, sign in (("target_min", "≥"), ("target_max", "≤")):
                if bound in frame.columns:
                    add(pl.col(bound).cast(pl.Float64), f"{col.label} {sign}", fmts["metric"])
            continue
        if col.key not in frame.columns:
            continue
        c = pl.col(col.key)
        dtype = frame.schema[col.key]
        if col.kind == "bool":
            met, missed = t(data.lang, "met"), t(data.lang, "missed")
            add(pl.when(c).then(pl.lit(met)).when(c.not_()).then(pl.lit(missed)), col.label, None)
        elif col.kind in fmts and (dtype.is_numeric() or dtype.is_temporal()):
            expr = c.cast(pl.Float64) if isinstance(dtype, pl.Decimal) else c
            add(expr, col.label, fmts[col.kind])
        else:
            add(c.cast(pl.String), col.label, None)
        if col.kind in ("metric", "delta") and col.key == "value" and "unit" in frame.columns:
            add(pl.col("unit"), "unit", None)
    return guard_frame(frame.select(exprs)), formats


def _sheet_name(title: str, used: set[str]) -> str:
    base = _BAD_SHEET.sub(" ", title).strip()[:28] or "Sheet"
    name, i = base, 2
    while name.lower() in used:
        name, i = f"{base[:26]} {i}", i + 1
    used.add(name.lower())
    return name


def _write_tables(
    wb: xlsxwriter.Workbook, data: ReportData, name: str, tables: list[Table], head: list[str]
) -> None:
    ws = wb.add_worksheet(name)
    bold = wb.add_format({"bold": True, "font_size": 12})
    title_fmt = wb.add_format({"bold": True, "font_size": 14})
    row = 0
    for i, line in enumerate(head):
        ws.write_string(row, 0, str(guard_text(line)), title_fmt if i == 0 else None)
        row += 1
    if head:
        row += 1
    first = True
    for tb in tables:
        frame, formats = _sheet_frame(data, tb)
        if frame.width == 0:
            continue
        if tb.title:
            ws.write_string(row, 0, str(guard_text(tb.title)), bold)
            row += 1
        frame.write_excel(
            workbook=wb,
            worksheet=name,
            position=(row, 0),
            table_style="Table Style Light 9",
            column_formats=formats,  # type: ignore[arg-type]
            autofilter=True,
            autofit=True,
            include_header=True,
        )
        if first:
            ws.freeze_panes(row + 1, 0)
            first = False
        row += frame.height + 3


def _summary(data: ReportData) -> list[Table]:
    status = pl.DataFrame(
        {
            "section": [s.title for s in data.sections],
            "status": [t(data.lang, "unavailable") if not s.ok else "ok" for s in data.sections],
            "reason": [s.reason for s in data.sections],
        },
        schema={"section": pl.String, "status": pl.String, "reason": pl.String},
    )
    cols = [
        Column("section", t(data.lang, "contents")),
        Column("status", t(data.lang, "value")),
        Column("reason", t(data.lang, "note")),
    ]
    out = [Table("sections", t(data.lang, "contents"), cols, status)]
    head = next((s for s in data.sections if s.key == "headline" and s.ok), None)
    if head is not None and head.tables:
        out.insert(0, head.tables[0])
    return out


def render_xlsx(data: ReportData) -> bytes:
    """The report as an .xlsx workbook (bytes)."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
    # created = the report's as-of date, not the clock: the same data gives the same file
    day = data.as_of or dt.date(2000, 1, 1)
    created = dt.datetime(day.year, day.month, day.day)
    wb.set_properties(
        {"title": data.title, "comments": f"crmkit {data.version}", "created": created}
    )
    used: set[str] = set()
    head = [data.title, data.subtitle(), data.privacy_note()]
    _write_tables(wb, data, _sheet_name(t(data.lang, "summary"), used), _summary(data), head)
    for sec in data.sections:
        if not sec.ok or sec.key == "headline":
            continue
        tables = [tb for tb in sec.tables if tb.columns]
        if tables:
            _write_tables(wb, data, _sheet_name(sec.title, used), tables, _notes(sec))
    wb.close()
    return buf.getvalue()


def _notes(sec: Section) -> list[str]:
    return [sec.title, *sec.notes]
