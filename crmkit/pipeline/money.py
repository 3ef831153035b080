"""Exact money and number parsing as polars expressions (never via float for money).

Money forms accepted: `1149.00`, `$1,149.00 `, `-$0.93`, `$-0.93`, `($33.62)` (accounting
negative), `0.93-` (trailing minus), `¥1,234`, `￥88`, `0元`, `RMB 100`, `USD 12.50`, `US$5`,
`69.20(分销商等级折扣：47.80)` (a trailing annotation in parentheses: the leading number is the
value), and with `decimal=","`: `1.234,56`, `1 234,56`. Thousands separators must be in groups
of three, so `1,5` with `decimal="."` is an error rather than a silent 15. More than two decimal
places are rounded half-to-even to cents.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from crmkit.pipeline.fastpath import routed
from crmkit.pipeline.text import let, text
from crmkit.schema import MONEY

# Removed before reading the number (longest first; matched ASCII-case-insensitively).
_TOKENS = (
    "us$",
    "usd$",
    "hk$",
    "nt$",
    "a$",
    "c$",
    "s$",
    "r$",
    "cn¥",
    "rmb",
    "cny",
    "usd",
    "eur",
    "gbp",
    "hkd",
    "jpy",
    "twd",
    "sgd",
    "aud",
    "cad",
    "chf",
    "krw",
    "inr",
    "bdt",
    "thb",
    "人民币",
    "元",
    "圆",
    "円",
    "¥",
    "$",
    "€",
    "£",
    "₩",
    "₹",
    "৳",
    "฿",
    "₫",
    "₱",
    "₽",
    " ",
    "\t",
    "\u00a0",
    "\u202f",
    "\u2009",
    "'",
)
_SHAPE = (
    r"^(?<open>\()?(?<lead>[+-]?)(?<num>[0-9.,]+)(?<trail>-?)(?<close>\))?"
    r"(?:\(.*\))?$"  # a trailing annotation: 69.20(分销商等级折扣:47.80)
)
_WIDE = pl.Decimal(38, 9)


def number_from_text(t: pl.Expr, decimal: str = ".") -> pl.Expr:
    """A canonical `-1234.56` string from already-`text`ed input, or null if it is no number.

    Strips currency symbols and codes, spaces, thousands separators, accounting parentheses,
    leading/trailing minus and a trailing parenthesised annotation after a number.
    """
    cleaned = t.str.replace_all("\u2212", "-", literal=True).str.replace_many(
        dict.fromkeys(_TOKENS, ""), ascii_case_insensitive=True
    )
    g = cleaned.str.extract_groups(_SHAPE)
    f = pl.field
    paren = f("open").is_not_null() & f("close").is_not_null()
    unbalanced = f("open").is_not_null() != f("close").is_not_null()
    negative = paren | (f("lead") == "-") | (f("trail") == "-")
    bad_combo = unbalanced | (paren & ((f("lead") != "") | (f("trail") != "")))
    bad_combo = bad_combo | ((f("lead") == "-") & (f("trail") == "-"))
    if decimal == ",":
        valid = f("num").str.contains(r"^(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$|^,\d+$")
        plain = f("num").str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    else:
        valid = f("num").str.contains(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$|^\.\d+$")
        plain = f("num").str.replace_all(",", "", literal=True)
    signed = pl.when(negative).then(pl.concat_str(pl.lit("-"), plain)).otherwise(plain)
    out = pl.when(valid & ~bad_combo).then(signed)
    return g.struct.with_fields(out=out).struct.field("out").name.keep()


def number_string(expr: pl.Expr, decimal: str = ".") -> pl.Expr:
    """`number_from_text` on a raw column."""
    return number_from_text(text(expr), decimal)


def _plain(decimal: str) -> str:
    """Gate of a bare number (`-1234.5`) that needs none of `number_from_text`'s rewriting."""
    return r"^-?[0-9]+(?:\.[0-9]+)?$" if decimal == "." else r"^-?[0-9]+$"


def _fast_number(
    t: pl.Expr, decimal: str, then: Callable[[pl.Expr], pl.Expr], dtype: pl.DataType
) -> pl.Expr:
    """`then(number_from_text(t))`, casting bare numbers directly (the common case)."""
    return routed(t, _plain(decimal), then, lambda v: then(number_from_text(v, decimal)), dtype)


def _money(number: pl.Expr) -> pl.Expr:
    return number.cast(_WIDE, strict=False).round(2).cast(MONEY, strict=False)


def money_from_text(t: pl.Expr, decimal: str = ".") -> pl.Expr:
    """`parse_money` for input that already went through `text`."""
    return _fast_number(t, decimal, _money, MONEY)


def parse_money(expr: pl.Expr, decimal: str = ".") -> pl.Expr:
    """Raw amount → `Decimal(18, 2)` exactly (string → Decimal cast); null when unparseable."""
    return money_from_text(text(expr), decimal)


def decimal_from_text(t: pl.Expr, decimal: str = ".") -> pl.Expr:
    """Texted number → exact `Decimal(38, 9)` (used to derive money from quantity × price)."""
    return _fast_number(t, decimal, lambda v: v.cast(_WIDE, strict=False), _WIDE)


def parse_decimal(expr: pl.Expr, decimal: str = ".") -> pl.Expr:
    """Raw number → exact `Decimal(38, 9)`."""
    return decimal_from_text(text(expr), decimal)


def float_from_text(t: pl.Expr, decimal: str = ".") -> pl.Expr:
    """`parse_float` for input that already went through `text`."""
    return _fast_number(t, decimal, lambda v: v.cast(pl.Float64, strict=False), pl.Float64)


def parse_float(expr: pl.Expr, decimal: str = ".") -> pl.Expr:
    """Raw number → Float64 (quantities, scores); thousands separators allowed."""
    return float_from_text(text(expr), decimal)


def int_from_text(t: pl.Expr, decimal: str = ".") -> pl.Expr:
    """`parse_int` for input that already went through `text`."""

    def whole(v: pl.Expr) -> pl.Expr:
        w = let(
            v,
            lambda n: pl.when(n.str.contains(r"^-?\d+(?:\.0*)?$")).then(
                n.str.replace(r"\.0*$", "")
            ),
        )
        return w.cast(pl.Int64, strict=False)

    return _fast_number(t, decimal, whole, pl.Int64)


def parse_int(expr: pl.Expr, decimal: str = ".") -> pl.Expr:
    """Raw number → Int64; `1.0` → 1 (Square writes `Qty` as `1.0`), `1.5` → null."""
    return int_from_text(text(expr), decimal)


def score_from_text(t: pl.Expr, decimal: str = ".") -> pl.Expr:
    """A texted survey answer → Float64, allowing a label after the number
    (`10 - Extremely likely`, `4: Satisfied`); missing codes are NOT removed here."""

    def labelled(v: pl.Expr) -> pl.Expr:
        return pl.coalesce(v.str.extract(r"^(-?\d+(?:[.,]\d+)?)\s*[-–:]\s*\D.*$", 1), v)

    return float_from_text(let(t, labelled), decimal)


def without_missing_codes(value: pl.Expr, missing_codes: tuple = (-99, -2, -3)) -> pl.Expr:
    """Null where a score is one of the survey missing codes."""
    codes = [float(c) for c in missing_codes]
    return let(value, lambda v: pl.when(v.is_in(codes)).then(None).otherwise(v))


def parse_score(expr: pl.Expr, missing_codes: tuple = (-99, -2, -3), decimal: str = ".") -> pl.Expr:
    """A survey score → Float64; survey missing codes (`-99` no answer, `-2` skipped, `-3` not
    shown) → null."""
    return without_missing_codes(score_from_text(text(expr), decimal), missing_codes)
