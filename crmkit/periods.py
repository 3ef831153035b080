"""Period grammar: turn `Q1`, `2025-03`, `last-90d`, `ytd`, `a..b`, … into inclusive date ranges.

Quarters, halves and bare years follow the fiscal year (`fiscal_year_start`, a month 1..12); a
fiscal year is named after the calendar year in which it starts, so with `fiscal_year_start: 4`
`2025Q1` is 2025-04-01..2025-06-30 and `2025` is 2025-04-01..2026-03-31. Months (`2025-03`) and
explicit ranges are calendar dates. A period that runs past the as-of date is cut at it, so a
quarter in progress is measured to date (and compared with the same span of the prior period).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from crmkit.errors import DataError, UsageError

COMPARE_MODES = ("previous", "yoy")

GRAMMAR = (
    "Q1..Q4, H1, H2 (of the as-of fiscal year), 2025Q1, 2025-Q1, 2025H1, 2025-H1, 2025-03, 2025, "
    "last-90d / last-12w / last-6m, ytd, qtd, mtd, 2025-01-01..2025-03-31"
)


@dataclass(frozen=True)
class Period:
    """An inclusive date range with a label; `months` > 0 when it is a whole number of months."""

    start: date
    end: date
    label: str
    months: int = 0

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period just before: the prior month/quarter/year, or the same number of days."""
        if self.months:
            return self._shift_months(-self.months)
        length = timedelta(days=self.days)
        return Period(self.start - length, self.end - length, f"{self.label} (previous)")

    def year_ago(self) -> Period:
        """The same span one year earlier (year over year)."""
        return self._shift_months(-12, label=f"{self.label} (year ago)")

    def _shift_months(self, n: int, label: str | None = None) -> Period:
        start = add_months(self.start, n)
        end = month_end(add_months(self.end, n)) if self.end == month_end(self.end) else None
        end = end or add_months(self.end, n)
        return Period(start, end, label or f"{start.isoformat()}..{end.isoformat()}", self.months)

    def clip(self, as_of: date) -> Period:
        """Cut the period at `as_of`; `DataError` when it starts after it."""
        if self.start > as_of:
            raise DataError(
                f"period {self.label} ({self.start}..{self.end}) starts after the as-of date "
                f"{as_of}",
                hint="choose an earlier period or pass --as-of",
            )
        if self.end <= as_of:
            return self
        return Period(self.start, as_of, self.label, self.months)

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "start": self.start.isoformat(), "end": self.end.isoformat()}


def add_months(d: date, n: int) -> date:
    """`d` moved by `n` calendar months, the day clamped to the target month's length."""
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def month_end(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def fiscal_year_of(d: date, fiscal_year_start: int = 1) -> int:
    """The fiscal year (named by its starting calendar year) that contains `d`."""
    return d.year if d.month >= fiscal_year_start else d.year - 1


def _span(fy: int, fiscal_year_start: int, first_month: int, months: int, label: str) -> Period:
    start = add_months(date(fy, fiscal_year_start, 1), first_month)
    end = month_end(add_months(start, months - 1))
    return Period(start, end, label, months)


_QUARTER = re.compile(r"^(?:(\d{4})-?)?Q([1-4])$")
_HALF = re.compile(r"^(?:(\d{4})-?)?H([12])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_LAST = re.compile(r"^last-(\d+)([dwm])$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


def parse_period(
    text: str, as_of: date, fiscal_year_start: int = 1, *, clip: bool = True
) -> Period:
    """Parse a period expression relative to `as_of`; `UsageError` on bad syntax.

    With `clip` (the default) the result ends no later than `as_of`.
    """
    if not 1 <= fiscal_year_start <= 12:
        raise UsageError(f"fiscal_year_start must be a month 1..12, not {fiscal_year_start}")
    raw = text
    text = text.strip()
    up = text.upper()
    fs = fiscal_year_start
    fy_now = fiscal_year_of(as_of, fs)
    period: Period | None = None
    if m := _QUARTER.match(up):
        fy = int(m.group(1)) if m.group(1) else fy_now
        q = int(m.group(2))
        period = _span(fy, fs, 3 * (q - 1), 3, f"{fy}Q{q}")
    elif m := _HALF.match(up):
        fy = int(m.group(1)) if m.group(1) else fy_now
        h = int(m.group(2))
        period = _span(fy, fs, 6 * (h - 1), 6, f"{fy}H{h}")
    elif m := _MONTH.match(text):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise UsageError(f"period {raw!r}: month {month} is not 1..12", hint=GRAMMAR)
        start = date(year, month, 1)
        period = Period(start, month_end(start), text, 1)
    elif m := _YEAR.match(text):
        period = _span(int(m.group(1)), fs, 0, 12, text)
    elif m := _LAST.match(text.lower()):
        n, unit = int(m.group(1)), m.group(2)
        if n < 1:
            raise UsageError(f"period {raw!r}: the count must be at least 1", hint=GRAMMAR)
        if unit == "m":
            period = Period(add_months(as_of, -n) + timedelta(days=1), as_of, text.lower(), n)
        else:
            days = n * (7 if unit == "w" else 1)
            period = Period(as_of - timedelta(days=days - 1), as_of, text.lower())
    elif text.lower() in ("ytd", "qtd", "mtd"):
        kind = text.lower()
        if kind == "mtd":
            start, months = date(as_of.year, as_of.month, 1), 1
        else:
            months = 12 if kind == "ytd" else 3
            fy_start = date(fy_now, fs, 1)
            elapsed = (as_of.year - fy_start.year) * 12 + as_of.month - fy_start.month
            start = add_months(fy_start, elapsed - elapsed % months)
        period = Period(start, as_of, kind, months)
    elif m := _RANGE.match(text):
        try:
            start, end = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
        except ValueError as exc:
            raise UsageError(f"period {raw!r}: {exc}", hint=GRAMMAR) from None
        if end < start:
            raise UsageError(f"period {raw!r} ends before it starts", hint=GRAMMAR)
        months = _whole_months(start, end)
        period = Period(start, end, text, months)
    if period is None:
        raise UsageError(f"unknown period {raw!r}", hint=f"use one of: {GRAMMAR}")
    return period.clip(as_of) if clip else period


def _whole_months(start: date, end: date) -> int:
    """Number of months when `start..end` is whole calendar months, else 0."""
    if start.day != 1 or end != month_end(end):
        return 0
    return (end.year - start.year) * 12 + end.month - start.month + 1


def compare_period(period: Period, mode: str | None) -> Period | None:
    """The comparison period for `--compare previous|yoy` (None when not asked)."""
    if mode is None:
        return None
    if mode == "previous":
        return period.previous()
    if mode == "yoy":
        return period.year_ago()
    raise UsageError(f"unknown compare mode {mode!r}", hint="use previous or yoy")


def check_within(period: Period, first: date | None, last: date | None) -> None:
    """`DataError` when the period lies wholly outside the data's date range."""
    if first is None or last is None:
        raise DataError("the warehouse has no dated rows", hint="run `crmkit ingest` first")
    if period.end < first or period.start > last:
        raise DataError(
            f"period {period.label} ({period.start}..{period.end}) is outside the data "
            f"({first}..{last})",
            hint="choose a period within the data's range",
        )
