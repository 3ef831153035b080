"""Unit tests for the per-column normalisers, on real-world forms from the export survey."""

from __future__ import annotations

import random
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest

from crmkit.pipeline.normalize import (
    ident,
    map_enum,
    normalize_email,
    normalize_phone,
    normalize_phone_value,
    parse_bool,
    parse_country,
    parse_currency,
    parse_date,
    parse_datetime,
    parse_float,
    parse_gender,
    parse_int,
    parse_money,
    parse_score,
    parse_tags,
    text,
)
from crmkit.pipeline.options import CleanOptions
from crmkit.schema import ORDERS, TICKETS


def run(expr_fn, values, dtype=pl.String):
    """Apply one normaliser to a column of values and return the Python results."""
    frame = pl.LazyFrame({"s": values}, schema={"s": dtype})
    return frame.select(expr_fn(pl.col("s")).alias("out")).collect()["out"].to_list()


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---- text / ident ---------------------------------------------------------------------------


def test_text_folds_full_width_and_trims_exotic_spaces():
    values = ["ＡＢＣ１２３", "\u3000张三\u3000", "\u00a0x\u00a0", "\ufeffid", " a  b "]
    assert run(text, values) == ["ABC123", "张三", "x", "id", "a  b"]


@pytest.mark.parametrize(
    "value",
    ["", "  ", "N/A", "n/a", "NA", "null", "NULL", "None", "none", "-", "--", "——", "—", "无",
     "未知", "暂无", "空", "#N/A", "nan", "NaN", "?", "－－"],
)  # fmt: skip
def test_text_placeholders_become_null(value):
    assert run(text, [value]) == [None]


def test_text_placeholders_are_exact_matches_only():
    assert run(text, ["none@none.com", "N/A2", "无锡", "-5"]) == [
        "none@none.com",
        "N/A2",
        "无锡",
        "-5",
    ]


def test_text_placeholders_in_any_case_as_lower_casing_finds_them():
    # The reference: a value is a placeholder when its lower case is one. Every placeholder in
    # random mixed case, with non-ASCII letters that lower-case to ASCII ones, and near misses.
    from crmkit.pipeline.text import PLACEHOLDERS

    rng = random.Random(5)
    values = ["NİL", "nİl", "\u212aNA", "(NULL", "#VALUE", "NoNe!", "N/Á"]
    for p in PLACEHOLDERS:
        for _ in range(4):
            values.append("".join(c.upper() if rng.random() < 0.5 else c for c in p))
    got = run(text, values)
    folded = [unicodedata.normalize("NFKC", v) for v in values]  # what `text` compares
    assert got == [None if v.lower() in PLACEHOLDERS else v for v in folded]
    assert got.count(None) == 4 * len(PLACEHOLDERS)


def test_ident_strips_excel_guards():
    values = ['="1930679858170647"', "=1234", "'90503", "\t6917926768823643751", "'+919871966979"]
    expected = ["1930679858170647", "1234", "90503", "6917926768823643751", "+919871966979"]
    assert run(ident, values) == expected


def test_ident_keeps_float_looking_ids_and_hashes():
    assert run(ident, ["1234.0", "#16101", '=""', None]) == ["1234.0", "#16101", None, None]


# ---- datetimes ------------------------------------------------------------------------------

SH = CleanOptions(timezone="Asia/Shanghai")  # UTC+8, no DST


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-05-12 12:54:07 -0700", utc(2026, 5, 12, 19, 54, 7)),  # Shopify, offset wins
        ("2024-01-15T10:00:00.000Z", utc(2024, 1, 15, 10)),  # Salesforce
        ("2025-01-03T14:05:00+08:00", utc(2025, 1, 3, 6, 5)),
        ("2025-01-03 14:05:00+0800", utc(2025, 1, 3, 6, 5)),
        ("2025-01-03 14:05:00.250", utc(2025, 1, 3, 6, 5, 0, 250000)),
        ("2016/5/23 22:02", utc(2016, 5, 23, 14, 2)),  # Taobao after Excel
        ("2016-05-23 22:02:10", utc(2016, 5, 23, 14, 2, 10)),
        ("2025/1/3", utc(2025, 1, 2, 16)),
        ("2025-1-3", utc(2025, 1, 2, 16)),
        ("2025年1月3日", utc(2025, 1, 2, 16)),
        ("2025年1月3日 14:05", utc(2025, 1, 3, 6, 5)),
        ("2025年1月3日14时05分", utc(2025, 1, 3, 6, 5)),
        ("２０２５－０１－０３　１４：０５", utc(2025, 1, 3, 6, 5)),  # full width
        ("12/27/2018", utc(2018, 12, 26, 16)),  # Square after Excel: month first by default
        ("3/15/2024 2:30 PM", utc(2024, 3, 15, 6, 30)),  # HubSpot
        ("Sep 1, 2026", utc(2026, 8, 31, 16)),
        ("1 Sep 2026", utc(2026, 8, 31, 16)),
        ("September 1, 2026", utc(2026, 8, 31, 16)),
        ("45658", utc(2024, 12, 31, 16)),  # Excel serial: 2025-01-01 00:00 Shanghai
        ("45658.5", utc(2025, 1, 1, 4)),  # 2025-01-01 12:00 Shanghai
        ("1700000000", utc(2023, 11, 14, 22, 13, 20)),  # epoch seconds are UTC instants
        ("1700000000123", utc(2023, 11, 14, 22, 13, 20, 123000)),
        ("20250103", utc(2025, 1, 2, 16)),
    ],
)
def test_parse_datetime_forms(raw, expected):
    assert run(lambda e: parse_datetime(e, SH), [raw]) == [expected]


@pytest.mark.parametrize(
    "raw", ["2025-02-30", "2025-13-01", "not a date", "25:00", "12345", "2025-01-03 25:00"]
)
def test_parse_datetime_rejects_nonsense(raw):
    assert run(lambda e: parse_datetime(e, SH), [raw]) == [None]


def test_date_order_decides_ambiguous_year_last_dates():
    raw = ["08-04-2023 20:52", "03/01/2025"]
    dmy = CleanOptions(date_order="dmy")
    mdy = CleanOptions(date_order="mdy")
    assert run(lambda e: parse_datetime(e, dmy), raw) == [
        utc(2023, 4, 8, 20, 52),
        utc(2025, 1, 3),
    ]
    assert run(lambda e: parse_datetime(e, mdy), raw) == [
        utc(2023, 8, 4, 20, 52),
        utc(2025, 3, 1),
    ]
    # default ymd: month first unless the first number cannot be a month
    assert run(lambda e: parse_datetime(e, CleanOptions()), ["27/12/2018"]) == [utc(2018, 12, 27)]


def test_naive_datetime_in_dst_zone():
    ny = CleanOptions(timezone="America/New_York")
    got = run(lambda e: parse_datetime(e, ny), ["2025-07-01 12:00", "2025-01-01 12:00"])
    assert got == [utc(2025, 7, 1, 16), utc(2025, 1, 1, 17)]  # EDT -4, EST -5


def test_parse_date_keeps_calendar_date_as_written():
    raw = ["1985-03-02", "1985年3月2日", "2024-01-15T23:30:00-0500", "03.01.2025"]
    expected = [date(1985, 3, 2), date(1985, 3, 2), date(2024, 1, 15), date(2025, 1, 3)]
    assert run(lambda e: parse_date(e, SH), raw) == expected


# ---- money and numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("298.00", "298.00"),
        ("$1,149.00 ", "1149.00"),
        ("($33.62)", "-33.62"),
        ("(12.00)", "-12.00"),
        ("-$0.93", "-0.93"),
        ("$-0.93", "-0.93"),
        ("0.93-", "-0.93"),
        ("0元", "0.00"),
        ("¥1,234", "1234.00"),
        ("￥88.5", "88.50"),
        ("RMB 100", "100.00"),
        ("USD 12.5", "12.50"),
        ("usd12.50", "12.50"),
        ("€ 7", "7.00"),
        ("69.20(分销商等级折扣：47.80)", "69.20"),
        ("598", "598.00"),
        ("1,316.14", "1316.14"),
        ("１２３.４５", "123.45"),
        ("12.345", "12.34"),  # half-to-even to cents
        ("12.355", "12.36"),
    ],
)
def test_parse_money_forms(raw, expected):
    assert run(lambda e: parse_money(e), [raw]) == [Decimal(expected)]


def test_parse_money_is_exact_decimal_dtype():
    frame = pl.LazyFrame({"s": ["0.10", "0.20"]}).select(parse_money(pl.col("s")))
    assert frame.collect_schema()["s"] == pl.Decimal(18, 2)
    assert sum(frame.collect()["s"].to_list()) == Decimal("0.30")  # no float drift


def test_parse_money_decimal_comma():
    got = run(lambda e: parse_money(e, ","), ["1.234,50", "1 234,56", "12,5", "-3,00"])
    assert got == [Decimal("1234.50"), Decimal("1234.56"), Decimal("12.50"), Decimal("-3.00")]


@pytest.mark.parametrize("raw", ["abc", "1,5", "1e5", "12.3.4", "(12", "-(3)", "--5"])
def test_parse_money_rejects_nonsense(raw):
    assert run(lambda e: parse_money(e), [raw]) == [None]


def test_parse_money_placeholders_are_null_not_errors():
    assert run(lambda e: parse_money(e), ["--", "", None]) == [None, None, None]


def test_parse_int_and_float():
    assert run(parse_int, ["1.0", "2", "1,000", "1.5", "x"]) == [1, 2, 1000, None, None]
    assert run(parse_float, ["1.0", "2.5", "1,000.25"]) == [1.0, 2.5, 1000.25]


def test_parse_score_missing_codes_and_labels():
    got = run(parse_score, ["9", "-99", "-2", "-3", "10 - Extremely likely", "4: Satisfied"])
    assert got == [9.0, None, None, None, 10.0, 4.0]


# ---- email and phone ------------------------------------------------------------------------


def test_normalize_email():
    values = [
        " Foo.Bar@Example.COM ",
        "mailto:a@b.cn",
        "张三 <ZS@QQ.com>",
        "ａ＠ｂ．ｃｏｍ",
        "none@none.com",
        "x@y",
        "a..b@c.com",
        "no-at-sign.com",
        "N/A",
    ]
    expected = [
        "foo.bar@example.com",
        "a@b.cn",
        "zs@qq.com",
        "a@b.com",
        "none@none.com",
        None,
        None,
        None,
        None,
    ]
    assert run(normalize_email, values) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        "008613800138000",
        "(+86)13800138000",
        "8613800138000",
        "138 0013 8000",
        "13800138000",
        "'13800138000",
        "\t13800138000",
        "１３８００１３８０００",
        "13800138000 / 13900139000",
        "13800138000;13900139000",
        "13800138000、13900139000",
        "abc, 13800138000",
    ],
)
def test_cn_phone_formats(raw):
    assert normalize_phone_value(raw, "CN") == "+8613800138000"


def test_us_phone_and_extension():
    assert normalize_phone_value("(415) 555-2671", "US") == "+14155552671"
    assert normalize_phone_value("+1 415-555-2671 ext. 12", None) == "+14155552671"


@pytest.mark.parametrize("raw", ["186******05", "1******6198", "##密文", "12345", "", "n/a"])
def test_masked_or_invalid_phones_are_null(raw):
    assert normalize_phone_value(raw, "CN") is None


def test_phone_without_country_needs_region():
    assert normalize_phone_value("13800138000", None) is None


def test_normalize_phone_maps_distinct_values():
    got = normalize_phone(["13800138000", "13800138000", "bad", None], "CN")
    assert got == {"13800138000": "+8613800138000", "bad": None}


# ---- small vocabularies ---------------------------------------------------------------------


def test_parse_bool():
    values = ["是", "否", "Y", "n", "Yes", "no", "TRUE", "false", "1", "0", "t", "f", "✓", "✗"]
    values += ["会员", "非会员", "maybe", None]
    expected = [True, False] * 8 + [None, None]
    assert run(parse_bool, values) == expected


def test_parse_gender():
    values = ["男", "女", "先生", "女士", "M", "f", "Male", "FEMALE", "man", "woman", "保密", "x"]
    expected = ["m", "f", "m", "f", "m", "f", "m", "f", "m", "f", None, "other"]
    assert run(parse_gender, values) == expected


def test_parse_country():
    values = ["CN", "chn", "China", "中国", "中国大陆", "USA", "United States", "美国", "UK"]
    values += ["United Kingdom", "英国", "Germany", "德国", "日本", "香港", "台湾", "nl", "Narnia"]
    expected = ["CN"] * 5 + ["US"] * 3 + ["GB"] * 3 + ["DE", "DE", "JP", "HK", "TW", "NL", None]
    assert run(parse_country, values) == expected


def test_parse_currency():
    values = ["usd", "CNY", "¥", "￥", "元", "RMB", "$", "€", "£", "dollar"]
    expected = ["USD", "CNY", "CNY", "CNY", "CNY", "CNY", "USD", "EUR", "GBP", None]
    assert run(parse_currency, values) == expected


def test_parse_tags():
    got = run(parse_tags, ["vip, new;wholesale，北京", " , ", "one", None])
    assert got == [["vip", "new", "wholesale", "北京"], None, ["one"], None]


def test_map_enum_with_status_map_and_defaults():
    values = ["Completed", "PARTIALLY REFUNDED", "partially-refunded", "paid", "交易关闭", "我的"]
    got = run(lambda e: map_enum(e, "status", ORDERS, {"我的": "pending"}), values)
    assert got == ["completed", "partially_refunded", "partially_refunded", "completed",
                   "cancelled", "pending"]  # fmt: skip


def test_map_enum_unknown_status_is_null_other_enums_other():
    assert run(lambda e: map_enum(e, "status", ORDERS), ["shipped-ish"]) == [None]
    assert run(lambda e: map_enum(e, "channel", TICKETS), ["Email", "fax"]) == ["email", "other"]
