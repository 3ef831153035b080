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
  epoch seconds (10 digits) and epoch milliseconds (13 digits), which are UTC instants.

Year-last dates with the default `date_order: ymd` are read month-first (the US/Excel habit)
unless the first number cannot be a month or the separator is a dot (`03.01.2025` is European
day-first everywhere). A two-digit year means 20yy below 70, else 19yy.
Invalid dates (`2025-02-30`) give null. Range checks (min year, future) live in `clean`.

Implementation: one regular expression per family extracts the parts; the parts are rebuilt
as `YYYY-MM-DD HH:MM:SS` and parsed once with `str.strptime(strict=False)`, which also rejects
impossible calendar dates. Everything is a lazy expression (no Python per row).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from crmkit.pipeline.options import CleanOptions
from crmkit.pipeline.text import text

_TIME = (
    r"(?:(?:\s*T\s*|\s*,\s*|\s+)(?<H>\d{1,2}):(?<M>\d{1,2})"
    r"(?::(?<S>\d{1,2})(?:[.,](?<F>\d{1,9}))?)?)?"
    r"\s*(?<ampm>[AaPp]\.?[Mm]\.?)?"
    r"\s*(?<tz>Z|(?:UTC|GMT)?\s*[+-]\d{1,2}(?::?\d{2})?|UTC|GMT)?$"
)
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_NUMERIC = r"^(?<a>\d{1,4})(?<sep>[-/.])(?<b>\d{1,2})[-/.](?<c>\d{1,4})" + _TIME
_COMPACT = r"^(?<a>\d{4})(?<b>\d{2})(?<c>\d{2})$"
_MONTH_FIRST = (
    r"(?i)^" + _WEEKDAY + r"(?<mon>[a-z]{3,9})\.?\s+(?<d>\d{1,2})(?:st|nd|rd|th)?,?\s+"
    r"(?<y>\d{4})" + _TIME
)
_DAY_FIRST = (
    r"(?i)^" + _WEEKDAY + r"(?<d>\d{1,2})(?:st|nd|rd|th)?[\s-]+(?<mon>[a-z]{3,9})\.?,?[\s-]+"
    r"(?<y>\d{4})" + _TIME
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_EXCEL_EPOCH = datetime(1899, 12, 30)
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000


def prepare(expr: pl.Expr) -> pl.Expr:
    """Fold Chinese date/time words into the numeric form (`2025年1月3日14时05分` → `2025-1-3 14:05`)."""
    s = text(expr)
    s = s.str.replace(r"(\d{2,4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]\s*", "$1-$2-$3 ")
    s = s.str.replace(r"(\d{1,2})\s*[时點点]\s*(\d{1,2})\s*分\s*(\d{1,2})\s*秒", "$1:$2:$3")
    s = s.str.replace(r"(\d{1,2})\s*[时點点]\s*(\d{1,2})\s*分?", "$1:$2")
    s = s.str.replace(r"(\d{1,2})\s*[时點点]$", "$1:00")
    return s.str.strip_chars()


def _year(y: pl.Expr) -> pl.Expr:
    """Integer year; two-digit years map to 20yy below 70 and 19yy otherwise."""
    v = y.cast(pl.Int32, strict=False)
    return (
        pl.when(y.str.len_chars() <= 2)
        .then(pl.when(v < 70).then(v + 2000).otherwise(v + 1900))
        .otherwise(v)
    )


def _parts(s: pl.Expr, date_order: str) -> dict[str, pl.Expr]:
    """Extract year, month, day, time and zone parts as strings/ints from the three families."""
    num = s.str.extract_groups(_NUMERIC)
    cmp_ = s.str.extract_groups(_COMPACT)
    mf = s.str.extract_groups(_MONTH_FIRST)
    df = s.str.extract_groups(_DAY_FIRST)

    a, b, c = num.struct.field("a"), num.struct.field("b"), num.struct.field("c")
    a_len, c_len = a.str.len_chars(), c.str.len_chars()
    a_int = a.cast(pl.Int32, strict=False)
    year_first = (a_len >= 3) | ((a_len <= 2) & (c_len <= 2) & pl.lit(date_order == "ymd"))
    if date_order == "dmy":
        day_first = pl.lit(True)
    elif date_order == "mdy":
        day_first = pl.lit(False)
    else:  # year-last value with the default order: month first unless it cannot be a month
        day_first = (a_int > 12) | (num.struct.field("sep") == ".")
    num_y = pl.when(year_first).then(_year(a)).otherwise(pl.when(a_len <= 2).then(_year(c)))
    num_m = pl.when(year_first).then(b).when(day_first).then(b).otherwise(a)
    num_d = pl.when(year_first).then(c).when(day_first).then(a).otherwise(b)

    def mon(st: pl.Expr) -> pl.Expr:
        return (
            st.struct.field("mon")
            .str.to_lowercase()
            .str.slice(0, 3)
            .replace_strict(_MONTHS, default=None, return_dtype=pl.Int32)
            .cast(pl.String)
        )

    def field(name: str) -> pl.Expr:
        return pl.coalesce(num.struct.field(name), mf.struct.field(name), df.struct.field(name))

    return {
        "y": pl.coalesce(
            num_y,
            cmp_.struct.field("a").cast(pl.Int32, strict=False),
            mf.struct.field("y").cast(pl.Int32, strict=False),
            df.struct.field("y").cast(pl.Int32, strict=False),
        ),
        "m": pl.coalesce(num_m, cmp_.struct.field("b"), mon(mf), mon(df)),
        "d": pl.coalesce(num_d, cmp_.struct.field("c"), mf.struct.field("d"), df.struct.field("d")),
        "H": field("H"),
        "M": field("M"),
        "S": field("S"),
        "F": field("F"),
        "ampm": field("ampm"),
        "tz": field("tz"),
    }


def _offset_minutes(tz: pl.Expr) -> pl.Expr:
    """Minutes east of UTC from `Z`, `UTC`, `+08:00`, `+0800`, `-07`; null when no zone given."""
    t = tz.str.replace_all(r"(?i)utc|gmt|\s|:", "")
    g = t.str.extract_groups(r"^(?<sign>[+-])(?<h>\d{1,2})(?<m>\d{2})?$")
    mins = g.struct.field("h").cast(pl.Int64, strict=False) * 60 + g.struct.field("m").cast(
        pl.Int64, strict=False
    ).fill_null(0)
    signed = pl.when(g.struct.field("sign") == "-").then(-mins).otherwise(mins)
    return (
        pl.when(tz.is_null())
        .then(None)
        .when(t == "")
        .then(0)
        .when(t == "Z")
        .then(0)
        .otherwise(signed)
    )


def _wall_time(p: dict[str, pl.Expr]) -> pl.Expr:
    """Naive datetime from the parts; null for impossible dates or times."""
    hour = p["H"].cast(pl.Int32, strict=False).fill_null(0)
    ampm = p["ampm"].str.to_lowercase().str.slice(0, 1)
    hour = (
        pl.when(ampm.is_null())
        .then(hour)
        .when(hour > 12)
        .then(99)  # `13:00 PM` is not a time
        .when((ampm == "p") & (hour < 12))
        .then(hour + 12)
        .when((ampm == "a") & (hour == 12))
        .then(0)
        .otherwise(hour)
    )
    stamp = pl.concat_str(
        p["y"].cast(pl.String).str.zfill(4),
        pl.lit("-"),
        p["m"].str.zfill(2),
        pl.lit("-"),
        p["d"].str.zfill(2),
        pl.lit(" "),
        hour.cast(pl.String).str.zfill(2),
        pl.lit(":"),
        p["M"].fill_null("0").str.zfill(2),
        pl.lit(":"),
        p["S"].fill_null("0").str.zfill(2),
    )
    base = stamp.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
    micros = p["F"].str.slice(0, 6).str.pad_end(6, "0").cast(pl.Int64, strict=False).fill_null(0)
    return base + pl.duration(microseconds=micros)


def _numeric(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(Excel serial as wall time, epoch seconds/milliseconds as a UTC instant)."""
    serial = (
        pl.when(s.str.contains(r"^\d{5}(?:\.\d+)?$"))
        .then(s.cast(pl.Float64, strict=False))
        .otherwise(None)
    )
    serial = pl.when((serial >= _SERIAL_MIN) & (serial <= _SERIAL_MAX)).then(serial)
    wall = pl.lit(_EXCEL_EPOCH, dtype=pl.Datetime("us")) + pl.duration(
        microseconds=(serial * 86_400_000_000).round(0).cast(pl.Int64)
    )
    epoch_s = pl.when(s.str.contains(r"^\d{10}$")).then(s.cast(pl.Int64, strict=False) * 1_000_000)
    epoch_ms = pl.when(s.str.contains(r"^\d{13}$")).then(s.cast(pl.Int64, strict=False) * 1_000)
    micros = pl.coalesce(epoch_s, epoch_ms)
    instant = pl.lit(datetime(1970, 1, 1), dtype=pl.Datetime("us")) + pl.duration(
        microseconds=micros
    )
    return wall, instant.dt.replace_time_zone("UTC")


def _pieces(expr: pl.Expr, options: CleanOptions) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(naive wall time, offset minutes or null, epoch instant in UTC or null)."""
    s = prepare(expr)
    p = _parts(s, options.date_order)
    serial_wall, epoch = _numeric(s)
    wall = pl.coalesce(_wall_time(p), serial_wall)
    return wall, _offset_minutes(p["tz"]), epoch


def parse_datetime(expr: pl.Expr, options: CleanOptions) -> pl.Expr:
    """Parse a raw string column to `Datetime("us", "UTC")`; null where it cannot be parsed.

    Values with an explicit offset are exact; naive values are wall time in `options.timezone`
    (a wall time that does not exist in that zone, in the spring-forward gap, gives null; an
    ambiguous one takes the earlier instant).
    """
    wall, offset, epoch = _pieces(expr, options)
    with_offset = (wall - pl.duration(minutes=offset)).dt.replace_time_zone("UTC")
    zoned = wall.dt.replace_time_zone(
        options.timezone, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")
    return (
        pl.when(offset.is_not_null())
        .then(with_offset)
        .when(epoch.is_not_null())
        .then(epoch)
        .otherwise(zoned)
    )


def parse_date(expr: pl.Expr, options: CleanOptions) -> pl.Expr:
    """Parse a raw string column to `Date`: the calendar date as written.

    A time or offset in the value is ignored (the local date is what the export meant); epoch
    values are converted to `options.timezone` first.
    """
    wall, _offset, epoch = _pieces(expr, options)
    epoch_local = epoch.dt.convert_time_zone(options.timezone).dt.replace_time_zone(None)
    return pl.coalesce(wall, epoch_local).dt.date()
