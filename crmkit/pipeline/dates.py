"""Lenient datetime and date parsing as polars expressions.

Accepted forms (after NFKC and trimming):

* numeric dates `2025-01-03`, `2025/1/3`, `2025.1.3`, `20250103`, year-last `03/01/2025`,
  `3-1-2025` (day or month first per `date_order`), with an optional time `14:05`,
  `14:05:07`, `14:05:07.123456`, `2:30 PM`, joined by a space or `T`;
* an optional zone `Z`, `UTC`, `+08:00`, `+0800`, ` -0700`, `+08` — values with a zone are
  exact instants; values without one are wall time in `options.timezone`;
* Chinese `2025年1月3日`, `2025年1月3日 14:05`, `2025年1月3日14时05分(30秒)`;
* month names `Sep 1, 2026`, `1 Sep 2026`, `September 1, 2026`, `Mon, 1 Sep 2026 10:00`;
* Excel serial days (`45658`, `45658.5`, only within 20000..80000, read as wall time),
  epoch seconds (9–10 digits: 1973–2286) and epoch milliseconds (12–13 digits), which are UTC
  instants.

Year-last dates with the default `date_order: ymd` are read month-first (the US/Excel habit)
unless the first number cannot be a month or the separator is a dot (`03.01.2025` is European
day-first everywhere). A two-digit year means 20yy below 70, else 19yy.
Invalid dates (`2025-02-30`) give null. Range checks (min year, future) live in `clean`.

Implementation (tuned for 10M-row streaming): Chinese date words are folded with one
`replace_many`; ONE anchored regular expression (`extract_groups`) recognises every family and
yields the parts; the parts are rebuilt as `YYYY-MM-DD HH:MM:SS` and parsed with
`str.strptime(strict=False)`, which also rejects impossible calendar dates. Intermediate values
are kept as struct fields (`struct.with_fields`), so no sub-expression is evaluated twice.
Everything is a lazy expression (no Python per row).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from crmkit.pipeline.fastpath import routed
from crmkit.pipeline.options import CleanOptions
from crmkit.pipeline.text import text

_TIME = (
    r"(?:(?:\s*t\s*|\s*,\s*|\s+)(?<H>\d{1,2}):(?<M>\d{1,2})"
    r"(?::(?<S>\d{1,2})(?:[.,](?<F>\d{1,9}))?)?)?"
    r"\s*(?<ampm>[ap]\.?m\.?)?"
    r"\s*(?:(?<z>z|utc|gmt)|(?:utc|gmt)?\s*(?<tzs>[+-])(?<tzh>\d{1,2})(?::?(?<tzm>\d{2}))?)?"
)
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_DATE = (
    r"(?:(?<a>\d{1,4})(?<sep>[-/.])(?<b>\d{1,2})[-/.](?<c>\d{1,4})"
    r"|(?<ca>\d{4})(?<cb>\d{2})(?<cc>\d{2})"
    r"|" + _WEEKDAY + r"(?<mon1>[a-z]{3,9})\.?\s+(?<d1>\d{1,2})(?:st|nd|rd|th)?,?\s+(?<y1>\d{4})"
    r"|"
    + _WEEKDAY
    + r"(?<d2>\d{1,2})(?:st|nd|rd|th)?[\s-]+(?<mon2>[a-z]{3,9})\.?,?[\s-]+(?<y2>\d{4}))"
)
PATTERN = r"(?i)^(?:" + _DATE + _TIME + r"|(?<num>\d{5}(?:\.\d+)?|\d{9,10}|\d{12,13}))$"
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_CHINESE = {
    "年": "-",
    "月": "-",
    "日": " ",
    "号": " ",
    "时": ":",
    "点": ":",
    "點": ":",
    "分": ":",
    "秒": "",
}
_EXCEL_EPOCH = datetime(1899, 12, 30)
_UNIX_EPOCH = datetime(1970, 1, 1)
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000


def prepare(t: pl.Expr) -> pl.Expr:
    """Fold Chinese date words (input already `text`ed): `2025年1月3日14时05分`
    → `2025-1-3 14:05`.

    One `replace_many` pass; trailing `:` left by `分` is stripped.
    """
    return t.str.replace_many(_CHINESE).str.strip_chars(" :")


def _year(y: pl.Expr) -> pl.Expr:
    """Integer year; two-digit years map to 20yy below 70 and 19yy otherwise."""
    v = y.cast(pl.Int32, strict=False)
    return (
        pl.when(y.str.len_chars() <= 2)
        .then(pl.when(v < 70).then(v + 2000).otherwise(v + 1900))
        .otherwise(v)
    )


def _f(name: str) -> pl.Expr:
    return pl.field(name)


def _int(name: str) -> pl.Expr:
    return pl.field(name).cast(pl.Int32, strict=False)


def _moments(t: pl.Expr, date_order: str) -> pl.Expr:
    """A struct with `wall` (naive datetime), `off` (minutes east of UTC or null) and `epoch`
    (UTC instant for epoch numbers) from already-`text`ed input."""
    g = prepare(t).str.extract_groups(PATTERN)
    a_len, c_len = _f("a").str.len_chars(), _f("c").str.len_chars()
    year_first = (a_len >= 3) | ((a_len <= 2) & (c_len <= 2) & pl.lit(date_order == "ymd"))
    if date_order == "dmy":
        day_first = pl.lit(True)
    elif date_order == "mdy":
        day_first = pl.lit(False)
    else:  # year-last value with the default order: month first unless it cannot be a month
        day_first = (_int("a") > 12) | (_f("sep") == ".")
    month_name = (
        pl.coalesce(_f("mon1"), _f("mon2"))
        .str.to_lowercase()
        .str.slice(0, 3)
        .replace_strict(_MONTHS, default=None, return_dtype=pl.Int32)
        .cast(pl.String)
    )
    ampm = _f("ampm").str.to_lowercase().str.slice(0, 1)
    hour = _int("H").fill_null(0)
    tz_minutes = _int("tzh").cast(pl.Int64) * 60 + _int("tzm").cast(pl.Int64).fill_null(0)
    num = _f("num").cast(pl.Float64, strict=False)
    num_len = _f("num").str.len_chars()
    parts = g.struct.with_fields(
        Y=pl.coalesce(
            pl.when(year_first).then(_year(_f("a"))).when(c_len > 0).then(_year(_f("c"))),
            _int("ca"),
            _int("y1"),
            _int("y2"),
        ).cast(pl.String),
        Mo=pl.coalesce(
            pl.when(year_first).then(_f("b")).when(day_first).then(_f("b")).otherwise(_f("a")),
            _f("cb"),
            month_name,
        ),
        D=pl.coalesce(
            pl.when(year_first).then(_f("c")).when(day_first).then(_f("a")).otherwise(_f("b")),
            _f("cc"),
            _f("d1"),
            _f("d2"),
        ),
        Hr=pl.when(ampm.is_null())
        .then(hour)
        .when(hour > 12)
        .then(99)  # `13:00 PM` is not a time
        .when((ampm == "p") & (hour < 12))
        .then(hour + 12)
        .when((ampm == "a") & (hour == 12))
        .then(0)
        .otherwise(hour)
        .cast(pl.String),
        off=pl.when(_f("z").is_not_null())
        .then(pl.lit(0, pl.Int64))
        .when(_f("tzs") == "-")
        .then(-tz_minutes)
        .otherwise(tz_minutes),
        serial=pl.when((num_len <= 5) | _f("num").str.contains(".", literal=True)).then(
            pl.when((num >= _SERIAL_MIN) & (num <= _SERIAL_MAX)).then(num)
        ),
        epoch_us=pl.when(num_len.is_in([9, 10]))
        .then(_f("num").cast(pl.Int64, strict=False) * 1_000_000)
        .when(num_len.is_in([12, 13]))
        .then(_f("num").cast(pl.Int64, strict=False) * 1_000),
    )
    stamp = pl.concat_str(
        _f("Y").str.zfill(4),
        pl.lit("-"),
        _f("Mo").str.zfill(2),
        pl.lit("-"),
        _f("D").str.zfill(2),
        pl.lit(" "),
        _f("Hr").str.zfill(2),
        pl.lit(":"),
        _f("M").fill_null("0").str.zfill(2),
        pl.lit(":"),
        _f("S").fill_null("0").str.zfill(2),
    )
    base = stamp.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
    micros = _f("F").str.slice(0, 6).str.pad_end(6, "0").cast(pl.Int64, strict=False).fill_null(0)
    serial_wall = pl.lit(_EXCEL_EPOCH, dtype=pl.Datetime("us")) + pl.duration(
        microseconds=(_f("serial") * 86_400_000_000).round(0).cast(pl.Int64)
    )
    epoch = (
        pl.lit(_UNIX_EPOCH, dtype=pl.Datetime("us")) + pl.duration(microseconds=_f("epoch_us"))
    ).dt.replace_time_zone("UTC")
    return parts.struct.with_fields(
        wall=pl.coalesce(base + pl.duration(microseconds=micros), serial_wall), epoch=epoch
    )


# The layout nearly every machine export uses: `2025-01-03`, `2025-01-03 14:05(:07)`, with `T`.
_ISO_GATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2})?)?$"


def _iso_wall(v: pl.Expr) -> pl.Expr:
    """Naive datetime of a value matching `_ISO_GATE` (padded to `YYYY-MM-DD HH:MM:SS`)."""
    full = v.str.replace("T", " ", literal=True)
    full = pl.concat_str(full, pl.lit(" 00:00:00").str.tail(19 - full.str.len_bytes()))
    return full.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)


def _zoned(wall: pl.Expr, options: CleanOptions) -> pl.Expr:
    """A naive wall time in `options.timezone` as a UTC instant (null in the DST gap)."""
    return wall.dt.replace_time_zone(
        options.timezone, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")


def datetime_from_text(t: pl.Expr, options: CleanOptions) -> pl.Expr:
    """`parse_datetime` for input that already went through `text` (what `clean` uses).

    ISO-shaped values take `strptime`; only other layouts pay for the general pattern.
    """
    return routed(
        t,
        _ISO_GATE,
        lambda v: _zoned(_iso_wall(v), options),
        lambda v: _general_datetime(v, options),
        pl.Datetime("us", "UTC"),
    )


def _general_datetime(t: pl.Expr, options: CleanOptions) -> pl.Expr:
    """Every accepted layout, through the one big pattern of `_moments`."""
    wall, off = _f("wall"), _f("off")
    with_offset = (wall - pl.duration(minutes=off)).dt.replace_time_zone("UTC")
    value = (
        pl.when(off.is_not_null())
        .then(with_offset)
        .when(_f("epoch").is_not_null())
        .then(_f("epoch"))
        .otherwise(_zoned(wall, options))
    )
    return (
        _moments(t, options.date_order)
        .struct.with_fields(out=value)
        .struct.field("out")
        .name.keep()
    )


def date_from_text(t: pl.Expr, options: CleanOptions) -> pl.Expr:
    """`parse_date` for input that already went through `text` (ISO-shaped values fast)."""
    return routed(
        t,
        _ISO_GATE,
        lambda v: _iso_wall(v).dt.date(),
        lambda v: _general_date(v, options),
        pl.Date(),
    )


def _general_date(t: pl.Expr, options: CleanOptions) -> pl.Expr:
    """Every accepted layout as a calendar date (epoch values in `options.timezone`)."""
    epoch_local = _f("epoch").dt.convert_time_zone(options.timezone).dt.replace_time_zone(None)
    value = pl.coalesce(_f("wall"), epoch_local).dt.date()
    return (
        _moments(t, options.date_order)
        .struct.with_fields(out=value)
        .struct.field("out")
        .name.keep()
    )


def parse_datetime(expr: pl.Expr, options: CleanOptions) -> pl.Expr:
    """Parse a raw string column to `Datetime("us", "UTC")`; null where it cannot be parsed.

    Values with an explicit offset are exact; naive values are wall time in `options.timezone`
    (a wall time that does not exist in that zone, in the spring-forward gap, gives null; an
    ambiguous one takes the earlier instant). Range checks are done by `clean`.
    """
    return datetime_from_text(text(expr), options)


def parse_date(expr: pl.Expr, options: CleanOptions) -> pl.Expr:
    """Parse a raw string column to `Date`: the calendar date as written.

    A time or offset in the value is ignored (the local date is what the export meant); epoch
    values are converted to `options.timezone` first.
    """
    return date_from_text(text(expr), options)
