"""Reports: one period's headline metrics, trends, cohorts, segments, CLV, satisfaction, data
quality and an appendix of formulas, as HTML, Excel, Markdown, JSON or a terminal dashboard.

`build_report(ws, period=...)` collects the data (each section ok or unavailable with a reason);
`write_report(data, path)` renders it by the file extension and writes it atomically (0600).
"""

from __future__ import annotations

from crmkit.report.build import build_report
from crmkit.report.data import Chart, Column, ReportData, Section, Table
from crmkit.report.write import FORMATS, write_report

__all__ = [
    "FORMATS",
    "Chart",
    "Column",
    "ReportData",
    "Section",
    "Table",
    "build_report",
    "write_report",
]
