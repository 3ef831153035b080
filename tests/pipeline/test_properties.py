"""Property tests: every supported formatting of a value parses back to the same value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.pipeline.normalize import normalize_phone_value, parse_datetime, parse_money
from crmkit.pipeline.options import CleanOptions

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _formats(dt: datetime) -> list[str]:
    """The same wall time written the ways real exports write it (minute precision)."""
    y, m, d, hh, mm = dt.year, dt.month, dt.day, dt.hour, dt.minute
    h12 = hh % 12 or 12
    ampm = "AM" if hh < 12 else "PM"
    return [
        f"{y:04d}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:00",
        f"{y:04d}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:00",
        f"{y}/{m}/{d} {hh}:{mm:02d}",
        f"{y}-{m}-{d} {hh:02d}:{mm:02d}",
        f"{y}年{m}月{d}日 {hh:02d}:{mm:02d}",
        f"{y}年{m}月{d}日{hh}时{mm:02d}分",
        f"{m:02d}/{d:02d}/{y} {hh:02d}:{mm:02d}",  # month-first (date_order mdy)
        f"{m}/{d}/{y} {h12}:{mm:02d} {ampm}",
        f"{MONTHS[m - 1]} {d}, {y} {hh:02d}:{mm:02d}",
        f"{d} {MONTHS[m - 1]} {y} {hh:02d}:{mm:02d}",
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2035, 12, 31)),
    st.sampled_from(["UTC", "Asia/Shanghai", "Europe/Berlin", "America/New_York"]),
)
def test_every_datetime_format_gives_the_same_instant(wall: datetime, zone: str):
    wall = wall.replace(second=0, microsecond=0)
    options = CleanOptions(timezone=zone, date_order="mdy")
    texts = _formats(wall)
    got = (
        pl.LazyFrame({"s": texts})
        .select(parse_datetime(pl.col("s"), options))
        .collect()["s"]
        .to_list()
    )
    # The expected instant, computed independently with the standard library.
    from zoneinfo import ZoneInfo

    local = wall.replace(tzinfo=ZoneInfo(zone))
    roundtrip = local.astimezone(UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    if roundtrip != wall:  # a wall time in a DST gap does not exist: the parser gives null
        assert got == [None] * len(texts)
        return
    expected = local.astimezone(UTC)  # fold=0: the earlier of two ambiguous instants
    assert got == [expected] * len(texts), list(zip(texts, got, strict=True))


@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2035, 12, 31)))
def test_offsets_and_epochs_give_the_same_instant(moment: datetime):
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    plus8 = moment.astimezone(UTC).replace(tzinfo=None) + timedelta(hours=8)
    minus7 = moment.astimezone(UTC).replace(tzinfo=None) - timedelta(hours=7)
    texts = [
        moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        plus8.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
        plus8.strftime("%Y-%m-%d %H:%M:%S +0800"),
        minus7.strftime("%Y-%m-%d %H:%M:%S -0700"),
        str(int(moment.timestamp())),
        str(int(moment.timestamp()) * 1000),
    ]
    options = CleanOptions(timezone="Asia/Tokyo")  # must be ignored: every value is an instant
    got = pl.LazyFrame({"s": texts}).select(parse_datetime(pl.col("s"), options)).collect()
    assert got["s"].to_list() == [moment] * len(texts), texts


def _money_formats(value: Decimal) -> list[tuple[str, str]]:
    """(text, decimal mark) pairs for one amount, as exports and Excel write it."""
    neg = value < 0
    a = abs(value)
    plain = f"{a:.2f}"
    grouped = f"{a:,.2f}"
    euro = grouped.replace(",", "X").replace(".", ",").replace("X", ".")
    sign = "-" if neg else ""
    out = [
        (f"{sign}{plain}", "."),
        (f"{sign}{grouped}", "."),
        (f"{sign}${grouped} ", "."),
        (f"{sign}¥{plain}", "."),
        (f"{sign}{plain}元", "."),
        (f"RMB {sign}{plain}", "."),
        (f"{sign}{plain} USD", "."),
        (f"{sign}{euro}", ","),
        (f"{sign}{euro} €", ","),
        (f"{sign}{plain}(note: 1.00)", "."),
    ]
    if neg:
        out += [(f"(${grouped})", "."), (f"({plain})", "."), (f"{plain}-", ".")]
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.decimals(
        min_value=Decimal("-9999999.99"),
        max_value=Decimal("9999999.99"),
        places=2,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_every_money_format_parses_back_exactly(value: Decimal):
    cases = _money_formats(value)
    for decimal_mark in (".", ","):
        texts = [t for t, d in cases if d == decimal_mark]
        got = (
            pl.LazyFrame({"s": texts})
            .select(parse_money(pl.col("s"), decimal_mark))
            .collect()["s"]
            .to_list()
        )
        assert got == [value] * len(texts), list(zip(texts, got, strict=True))


def _phone_formats(national: str) -> list[str]:
    a, b, c = national[:3], national[3:7], national[7:]
    return [
        national,
        f"+86{national}",
        f"+86 {a} {b} {c}",
        f"+86-{a}-{b}-{c}",
        f"0086{national}",
        f"(+86){national}",
        f"86{national}",
        f"{a}-{b}-{c}",
        f"'{national}",
        f"\t{national}",
        national.translate({ord(ch): ord(ch) + 0xFEE0 for ch in "0123456789"}),
        f"{national} / 13900139000",
    ]


@settings(max_examples=60, deadline=None)
@given(st.from_regex(r"\A1[3-9][0-9]{9}\Z", fullmatch=True))
def test_every_cn_mobile_format_gives_one_e164(national: str):
    expected = normalize_phone_value(f"+86{national}")
    if expected is None:  # a prefix phonenumbers does not consider valid (e.g. 154…)
        for text in _phone_formats(national)[:-1]:  # the last one holds a second, valid number
            assert normalize_phone_value(text, "CN") is None, text
        return
    assert expected == f"+86{national}"
    for text in _phone_formats(national):
        assert normalize_phone_value(text, "CN") == expected, text
