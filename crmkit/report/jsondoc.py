"""The JSON report for machines: a stable document (shape in docs/reports.md, `version` 1).

Values are raw (numbers stay numbers, exact money as strings, dates ISO 8601); labels are in the
report's language so a consumer can show them without its own translations.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from typing import Any

import polars as pl

from crmkit.report.data import ReportData, Section, Table

VERSION = 1


def jsonable(value: Any) -> Any:
    """Plain JSON values: Decimal → string (exact), dates → ISO, NaN/inf → null."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, pl.Series):
        return jsonable(value.to_list())
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _table(tb: Table) -> dict[str, Any]:
    return {
        "key": tb.key,
        "title": tb.title,
        "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in tb.columns],
        "rows": jsonable(tb.frame.to_dicts()),
    }


def _section(sec: Section) -> dict[str, Any]:
    return {
        "key": sec.key,
        "title": sec.title,
        "status": sec.status,
        "reason": sec.reason,
        "notes": list(sec.notes),
        "cards": jsonable(sec.cards),
        "tables": [_table(tb) for tb in sec.tables],
        "charts": [
            {"key": c.key, "title": c.title, "kind": c.kind, "table": c.table, "x": c.x, "y": c.y}
            for c in sec.charts
        ],
    }


def report_document(data: ReportData) -> dict[str, Any]:
    """The whole report as a JSON-ready mapping."""
    return {
        "version": VERSION,
        "title": data.title,
        "lang": data.lang,
        "currency": data.currency,
        "as_of": jsonable(data.as_of),
        "period": jsonable(data.period) or None,
        "compare": jsonable(data.compare),
        "include_pii": data.include_pii,
        "names": data.names,
        "crmkit_version": data.version,
        "sections": [_section(s) for s in data.sections],
    }


def render_json(data: ReportData) -> str:
    """The report as indented UTF-8 JSON text."""
    return json.dumps(report_document(data), ensure_ascii=False, indent=2) + "\n"
