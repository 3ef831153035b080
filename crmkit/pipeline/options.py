"""Options of the cleaning step (`CleanOptions`) and its result (`CleanResult`).

Kept in a module of their own so the parsers (`dates`, `money`, …) and `clean` share them
without import cycles; `crmkit.pipeline.clean` re-exports both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl


@dataclass(frozen=True)
class CleanOptions:
    """How to read one source's raw strings: zone, date order, decimal mark, defaults, maps."""

    timezone: str = "UTC"  # zone for naive datetimes
    date_order: str = "ymd"  # for ambiguous slashed/dashed dates: ymd | dmy | mdy
    decimal: str = "."  # "," for 1.234,56
    currency: str | None = None  # default currency for tables with a currency column
    phone_region: str | None = None  # default region for phones without +country code
    future_days: int = 2  # a datetime later than now + future_days is rejected (future_date)
    min_year: int = 1990  # earlier is rejected (bad_date); birth_date may go back to 1900
    now: datetime | None = None  # injectable for tests; default datetime.now(UTC)
    status_map: dict[str, str] = field(default_factory=dict)  # extra source value -> canonical
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)  # per-column maps
    missing_codes: tuple = (-99, -2, -3)  # for score columns (nps/csat/ces): become null

    def current_time(self) -> datetime:
        """`now` as an aware UTC datetime (the reference for the future-date check)."""
        now = self.now or datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return now.astimezone(UTC)


@dataclass(frozen=True)
class CleanResult:
    """Every cleaned row once, with its verdict; `accepted` and `rejects` are views of it.

    `checked` holds the typed canonical columns, `__line`, `__code` (null when the row is
    accepted) and `__reason`. Ingest writes `checked` to disk in one pass and splits the file,
    rather than running the cleaning twice (once per view).
    """

    checked: pl.LazyFrame

    @property
    def accepted(self) -> pl.LazyFrame:
        return accepted_of(self.checked)

    @property
    def rejects(self) -> pl.LazyFrame:
        return rejects_of(self.checked)


def accepted_of(checked: pl.LazyFrame) -> pl.LazyFrame:
    """Accepted rows of a `CleanResult.checked` frame: typed columns + `__line`."""
    return checked.filter(pl.col("__code").is_null()).drop("__code", "__reason")


def rejects_of(checked: pl.LazyFrame) -> pl.LazyFrame:
    """Rejected rows: `__line`, `source`, `source_file`, `reason_code`, `reason`."""
    return checked.filter(pl.col("__code").is_not_null()).select(
        "__line",
        pl.col("source").cast(pl.String),
        pl.col("source_file").cast(pl.String),
        pl.col("__code").alias("reason_code"),
        pl.col("__reason").alias("reason"),
    )
