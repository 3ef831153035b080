"""Per-customer (frequency, recency, T, mean repeat spend) summaries built from warehouse orders.

Purchases are orders with status ``completed`` or ``partially_refunded`` (``net_amount`` is
already net of the refund); ``refunded``, ``cancelled`` and ``pending`` orders are ignored, and
rows without a ``customer_key`` are ignored and counted. All orders of one customer on one UTC
calendar day are one purchase whose spend is their summed ``net_amount``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from crmkit.models.exceptions import InsufficientDataError
from crmkit.models.units import parse_duration_days, unit_days
from crmkit.numbers import orders_numbered

PURCHASE_STATUSES: tuple[str, ...] = ("completed", "partially_refunded")
"""Order statuses that count as purchases."""

SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "customer_key": pl.String(),
    "first_purchase": pl.Date(),
    "frequency": pl.Int64(),
    "recency": pl.Float64(),
    "T": pl.Float64(),
    "monetary_value": pl.Float64(),
}


@dataclass(frozen=True)
class Summary:
    """Calibration summary per customer plus the counts needed to explain it.

    ``frame`` columns: customer_key, first_purchase, frequency (repeat purchase days), recency
    and T (in ``unit``), monetary_value (mean spend of repeat purchase days, 0 when none) and, when
    a holdout was requested, holdout_purchases and holdout_spend.
    """

    frame: pl.DataFrame
    calibration_end: dt.date
    unit: str
    holdout_end: dt.date | None = None
    counts: dict[str, int] = field(default_factory=dict)
    cache: dict[tuple[str, ...], object] = field(default_factory=dict, repr=False, compare=False)
    """Derived arrays (collapsed rows) computed once per summary by fit and predict."""

    @property
    def n_customers(self) -> int:
        """Customers with at least one purchase in the calibration period."""
        return self.frame.height


def _as_date(value: dt.date | dt.datetime | str) -> dt.date:
    """Accept a date, a datetime or an ISO string and return the calendar date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def purchase_days(orders: pl.LazyFrame | pl.DataFrame, key: str = "customer_key") -> pl.LazyFrame:
    """One row per (customer_key, day) purchase with its summed spend as Float64.

    `key="customer_no"` groups by the workspace's customer numbers instead (each stands for one
    key; see `crmkit.numbers`), which is several times cheaper than hashing the strings."""
    return _exact_days(orders.lazy(), key).with_columns(pl.col("amount").cast(pl.Float64))


def _exact_days(lf: pl.LazyFrame, key: str) -> pl.LazyFrame:
    """`purchase_days` with the spend summed exactly (Decimal, as stored). Float sums would
    depend on the order the engine's threads add them in, and so would every figure after."""
    return (
        _purchases(lf)
        .with_columns(day=_day(lf))
        .group_by(key, "day")
        .agg(amount=pl.col("net_amount").sum())
    )


def _purchases(lf: pl.LazyFrame) -> pl.LazyFrame:
    return lf.filter(
        pl.col("customer_key").is_not_null() & pl.col("status").is_in(list(PURCHASE_STATUSES))
    )


def _day(lf: pl.LazyFrame) -> pl.Expr:
    """The UTC calendar day of `ordered_at`."""
    at = pl.col("ordered_at")
    return (at.dt.convert_time_zone("UTC") if _is_tz_aware(lf) else at).dt.date()


def _is_tz_aware(lf: pl.LazyFrame) -> bool:
    """Whether ``ordered_at`` carries a time zone (the warehouse stores UTC)."""
    dtype = lf.collect_schema()["ordered_at"]
    return isinstance(dtype, pl.Datetime) and dtype.time_zone is not None


def order_counts(orders: pl.LazyFrame | pl.DataFrame) -> dict[str, int]:
    """Counts of rows read, rows without customer_key and rows whose status is not a purchase."""
    row = (
        orders.lazy()
        .select(
            rows=pl.len(),
            null_customer_key=pl.col("customer_key").is_null().sum(),
            non_purchase_status=(~pl.col("status").is_in(list(PURCHASE_STATUSES)))
            .fill_null(True)
            .sum(),
        )
        .collect()
        .row(0, named=True)
    )
    return {k: int(v) for k, v in row.items()}


def last_purchase_date(orders: pl.LazyFrame | pl.DataFrame) -> dt.date:
    """The last day with a purchase: the default as-of / calibration end."""
    lf = orders.lazy()
    value = _purchases(lf).select(_day(lf).max()).collect().item()
    if value is None:
        raise InsufficientDataError(
            "no purchases found (status completed or partially_refunded with a customer_key)",
            hint="ingest orders first, or check the status mapping of your source",
        )
    return value


def summarize(
    orders: pl.LazyFrame | pl.DataFrame,
    calibration_end: dt.date | dt.datetime | str | None = None,
    unit: str = "weeks",
    holdout: str | None = None,
    *,
    customer_keys: pl.Series | None = None,
) -> Summary:
    """Summarise orders into (frequency, recency, T, monetary_value) per customer.

    Purchases on or before ``calibration_end`` (default: the last purchase day) are calibration;
    T is measured from the first purchase day to ``calibration_end``. With ``holdout`` (e.g.
    ``"26w"``) the purchase days in (calibration_end, calibration_end + holdout] are counted per
    calibration customer as ``holdout_purchases`` / ``holdout_spend``.

    ``customer_keys``: the workspace customers' keys in ``customer_no`` order, strictly
    increasing (``crmkit.numbers.customer_keys_by_number``). With it, and orders that all carry
    their number, the purchases are grouped by number and the keys put back by array lookup.
    """
    days_per_unit = unit_days(unit)
    numbered = customer_keys is not None and orders_numbered(orders)
    key = "customer_no" if numbered else "customer_key"
    days = _exact_days(orders.lazy(), key)  # sums stay exact until the means
    cal_end = (
        _as_date(calibration_end) if calibration_end is not None else last_purchase_date(orders)
    )
    cal = (
        days.filter(pl.col("day") <= cal_end)
        .group_by(key)
        .agg(  # a customer's days are distinct: the first purchase is at the smallest day
            first_purchase=pl.col("day").min(),
            last=pl.col("day").max(),
            n=pl.len(),
            total=pl.col("amount").sum(),
            first_amount=pl.col("amount").get(pl.col("day").arg_min()),
        )
        .with_columns(frequency=(pl.col("n") - 1).cast(pl.Int64))
        .with_columns(
            recency=(pl.col("last") - pl.col("first_purchase")).dt.total_days().cast(pl.Float64)
            / days_per_unit,
            T=(pl.lit(cal_end) - pl.col("first_purchase")).dt.total_days().cast(pl.Float64)
            / days_per_unit,
            monetary_value=pl.when(pl.col("frequency") > 0)
            .then((pl.col("total") - pl.col("first_amount")).cast(pl.Float64) / pl.col("frequency"))
            .otherwise(0.0),
        )
        .select(key, *(c for c in SUMMARY_SCHEMA if c != "customer_key"))
    )
    counts = order_counts(orders)
    holdout_end = None
    if holdout is not None:
        holdout_end = cal_end + dt.timedelta(days=round(parse_duration_days(holdout)))
        hold = (
            days.filter((pl.col("day") > cal_end) & (pl.col("day") <= holdout_end))
            .group_by(key)
            .agg(
                holdout_purchases=pl.len().cast(pl.Int64),
                holdout_spend=pl.col("amount").sum().cast(pl.Float64),
            )
        )
        joined = cal.join(hold, on=key, how="left").with_columns(
            pl.col("holdout_purchases").fill_null(0), pl.col("holdout_spend").fill_null(0.0)
        )
        frame = joined.sort(key).collect()
        new_in_holdout = (
            hold.join(cal.select(key), on=key, how="anti").select(pl.len()).collect().item()
        )
        counts["new_customers_in_holdout"] = int(new_in_holdout)
    else:
        frame = cal.sort(key).collect()
    if numbered:  # numbers follow the keys' order: sorted by number is sorted by key
        by_number = pl.lit(customer_keys).gather(pl.col(key)).alias("customer_key")
        frame = frame.select(by_number, pl.exclude(key))
    counts["customers"] = frame.height
    counts["repeat_customers"] = int((frame["frequency"] > 0).sum())
    return Summary(
        frame=frame, calibration_end=cal_end, unit=unit, holdout_end=holdout_end, counts=counts
    )
