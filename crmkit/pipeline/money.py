"""Exact money and number parsing as polars expressions (never via float for money).

Money forms accepted: `1149.00`, `$1,149.00 `, `-$0.93`, `$-0.93`, `($33.62)` (accounting
negative), `0.93-` (trailing minus), `¥1,234`, `￥88`, `0元`, `RMB 100`, `USD 12.50`, `US$5`,
`69.20(分销商等级折扣：47.80)` (a trailing annotation in parentheses: the leading number is the
value), and with `decimal=","`: `1.234,56`, `1 234,56`. Thousands separators must be in groups
of three, so `1,5` with `decimal="."` is an error rather than a silent 15. More than two decimal
places are rounded half-to-even to cents.
"""

from __future__ import annotations

import polars as pl

from crmkit.schema import MONEY
from crmkit.pipeline.text import text

_CURRENCY_TOKENS = (
    r"(?i)(?:[a-z]{1,2}\$|rmb|cny|usd|eur|gbp|hkd|jpy|twd|sgd|aud|cad|chf|krw|inr|"
    r"bdt|thb|人民币|元|圆|円|¥|\$|€|£|₩|₹|৳|฿|₫|₱|₽)"
)
_WIDE = pl.Decimal(38, 9)


def number_string(expr: pl.Expr, decimal: str = ".") -> pl.Expr:
    """A canonical `-1234.56` string from a raw number/amount, or null if it is not one.

    Strips currency symbols and codes, spaces, thousands separators, accounting parentheses,
    leading/trailing minus and a trailing parenthesised annotation after a number.
    """
    s = text(expr).str.replace_all("\u2212", "-")
    s = s.str.replace(r"^([^(]*\d[^(]*?)\s*\(.*\)$", "$1")  # 69.20(分销商等级折扣：47.80)
    paren = s.str.contains(r"^\(.*\)$")
    s = s.str.replace(r"^\((.*)\)$", "$1")
    s = s.str.replace_all(_CURRENCY_TOKENS, "").str.replace_all(r"\s", "")
    g = s.str.extract_groups(r"^(?<lead>[+-]?)(?<num>[\d.,]+)(?<trail>-?)$")
    lead, num, trail = (g.struct.field(n) for n in ("lead", "num", "trail"))
    negative = paren | (lead == "-") | (trail == "-")
    bad_combo = (paren & ((lead != "") | (trail != ""))) | ((lead == "-") & (trail == "-"))
    if decimal == ",":
        valid = num.str.contains(r"^(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$|^,\d+$")
        plain = num.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    else:
        valid = num.str.contains(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$|^\.\d+$")
        plain = num.str.replace_all(",", "", literal=True)
    signed = pl.when(negative).then(pl.concat_str(pl.lit("-"), plain)).otherwise(plain)
    return pl.when(valid & ~bad_combo).then(signed).otherwise(None)


def parse_money(expr: pl.Expr, decimal: str = ".") -> pl.Expr:
    """Raw amount → `Decimal(18, 2)` exactly (string → Decimal cast); null when unparseable."""
    wide = number_string(expr, decimal).cast(_WIDE, strict=False)
    return wide.round(2).cast(MONEY, strict=False)


def parse_decimal(expr: pl.Expr, decimal: str = ".") -> pl.Expr:
    """Raw number → exact `Decimal(38, 9)` (used to derive money from quantity × price)."""
    return number_string(expr, decimal).cast(_WIDE, strict=False)


def parse_float(expr: pl.Expr, decimal: str = ".") -> pl.Expr:
    """Raw number → Float64 (quantities, scores); thousands separators allowed."""
    return number_string(expr, decimal).cast(pl.Float64, strict=False)


def parse_int(expr: pl.Expr, decimal: str = ".") -> pl.Expr:
    """Raw number → Int64; `1.0` → 1 (Square writes `Qty` as `1.0`), `1.5` → null."""
    s = number_string(expr, decimal)
    whole = pl.when(s.str.contains(r"^-?\d+(?:\.0*)?$")).then(s.str.replace(r"\.0*$", ""))
    return whole.cast(pl.Int64, strict=False)


def score_number(expr: pl.Expr, decimal: str = ".") -> pl.Expr:
    """A survey answer → Float64, allowing a label after the number (`10 - Extremely likely`)."""
    s = text(expr)
    s = pl.coalesce(s.str.extract(r"^(-?\d+(?:[.,]\d+)?)\s*[-–:]\s*\D.*$", 1), s)
    return parse_float(s, decimal)


def parse_score(expr: pl.Expr, missing_codes: tuple = (-99, -2, -3), decimal: str = ".") -> pl.Expr:
    """A survey score → Float64; survey missing codes (`-99` no answer, `-2` skipped, `-3` not
    shown) → null."""
    v = score_number(expr, decimal)
    codes = [float(c) for c in missing_codes]
    return pl.when(v.is_in(codes)).then(None).otherwise(v)
