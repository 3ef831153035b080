"""Period grammar: every form, fiscal years, clipping at as-of, previous/yoy, and bad input."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.errors import DataError, UsageError
from crmkit.periods import (
    Period,
    add_months,
    check_within,
    compare_period,
    month_end,
    parse_period,
)

AS_OF = date(2025, 8, 15)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("Q1", date(2025, 1, 1), date(2025, 3, 31)),
        ("q2", date(2025, 4, 1), date(2025, 6, 30)),
        ("H1", date(2025, 1, 1), date(2025, 6, 30)),
        ("2024Q4", date(2024, 10, 1), date(2024, 12, 31)),
        ("2024-Q4", date(2024, 10, 1), date(2024, 12, 31)),
        ("2024H2", date(2024, 7, 1), date(2024, 12, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2024", date(2024, 1, 1), date(2024, 12, 31)),
        ("last-90d", AS_OF - timedelta(days=89), AS_OF),
        ("last-2w", AS_OF - timedelta(days=13), AS_OF),
        ("last-3m", date(2025, 5, 16), AS_OF),
        ("ytd", date(2025, 1, 1), AS_OF),
        ("qtd", date(2025, 7, 1), AS_OF),
        ("mtd", date(2025, 8, 1), AS_OF),
        ("2025-01-15..2025-02-10", date(2025, 1, 15), date(2025, 2, 10)),
        # periods running past as-of are cut at it
        ("Q3", date(2025, 7, 1), AS_OF),
        ("2025", date(2025, 1, 1), AS_OF),
    ],
)
def test_calendar_forms(text, start, end):
    p = parse_period(text, AS_OF)
    assert (p.start, p.end) == (start, end)


def test_fiscal_year_starting_in_april():
    # FY2025 = 2025-04-01..2026-03-31; Q1 of the as-of fiscal year (2025-08-15 is in FY2025)
    p = parse_period("Q1", AS_OF, 4)
    assert (p.start, p.end, p.label) == (date(2025, 4, 1), date(2025, 6, 30), "2025Q1")
    q4 = parse_period("2024Q4", AS_OF, 4)
    assert (q4.start, q4.end) == (date(2025, 1, 1), date(2025, 3, 31))
    assert parse_period("2024", AS_OF, 4).start == date(2024, 4, 1)
    assert parse_period("2024", AS_OF, 4).end == date(2025, 3, 31)
    assert parse_period("2024H2", AS_OF, 4).start == date(2024, 10, 1)
    assert parse_period("ytd", AS_OF, 4).start == date(2025, 4, 1)
    assert parse_period("qtd", AS_OF, 4).start == date(2025, 7, 1)
    # months stay calendar months
    assert parse_period("2025-03", AS_OF, 4).start == date(2025, 3, 1)
    # as-of in February belongs to the fiscal year that started the April before
    assert parse_period("Q4", date(2026, 2, 10), 4).start == date(2026, 1, 1)


def test_previous_and_year_ago():
    q = parse_period("2025Q1", AS_OF)
    assert (q.previous().start, q.previous().end) == (date(2024, 10, 1), date(2024, 12, 31))
    assert (q.year_ago().start, q.year_ago().end) == (date(2024, 1, 1), date(2024, 3, 31))
    feb = parse_period("2024-02", AS_OF)  # leap February → January, Feb 2023 ends on the 28th
    assert feb.previous().end == date(2024, 1, 31)
    assert feb.year_ago().end == date(2023, 2, 28)
    days = parse_period("last-30d", AS_OF)
    prev = days.previous()
    assert prev.end == days.start - timedelta(days=1) and prev.days == 30
    # a quarter in progress compares with the same span of the previous quarter
    q3 = parse_period("Q3", AS_OF)
    assert (q3.previous().start, q3.previous().end) == (date(2025, 4, 1), date(2025, 5, 15))
    assert compare_period(q, None) is None
    assert compare_period(q, "yoy") == q.year_ago()


@pytest.mark.parametrize(
    "text", ["Q5", "2025Q", "2025-13", "last-0d", "last-3y", "2025-02-30..2025-03-01", "soon", ""]
)
def test_bad_syntax_is_a_usage_error(text):
    with pytest.raises(UsageError):
        parse_period(text, AS_OF)


def test_reversed_range_and_bad_compare():
    with pytest.raises(UsageError, match="ends before"):
        parse_period("2025-03-01..2025-02-01", AS_OF)
    with pytest.raises(UsageError):
        compare_period(parse_period("Q1", AS_OF), "last-year")


def test_periods_outside_the_data_are_data_errors():
    with pytest.raises(DataError):
        parse_period("2026Q1", AS_OF)  # starts after as-of
    with pytest.raises(DataError):
        check_within(parse_period("2020", AS_OF), date(2023, 1, 1), date(2025, 8, 15))
    check_within(parse_period("2023", AS_OF), date(2023, 6, 1), date(2025, 8, 15))  # overlaps


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=0, max_value=400),
)
def test_ranges_round_trip_and_previous_is_adjacent(start, length):
    end = start + timedelta(days=length)
    p = parse_period(f"{start}..{end}", date(2040, 1, 1))
    assert (p.start, p.end, p.days) == (start, end, length + 1)
    prev = p.previous()
    assert prev.end < p.start and prev.days <= p.days + 3


@given(st.integers(min_value=2000, max_value=2030), st.integers(1, 4), st.integers(1, 12))
def test_quarters_are_three_whole_months(year, q, fy_start):
    p = parse_period(f"{year}Q{q}", date(2040, 1, 1), fy_start)
    assert p.start.day == 1 and p.end == month_end(p.end)
    assert add_months(p.start, 3) == p.end + timedelta(days=1)
    assert p.previous().end + timedelta(days=1) == p.start
    assert isinstance(p, Period)
