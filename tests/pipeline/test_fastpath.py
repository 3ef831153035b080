"""The fast paths of `dates` and `money` give exactly what the general parsers give.

The general parsers (one big pattern each) are the oracle: every value is parsed both ways and
compared value by value, including values that pass a gate but are not valid (`2025-02-30`,
`24:00`, an overflowing amount), which must fall through to the general parser.
"""

from __future__ import annotations

import random

import polars as pl
import pytest

from crmkit.pipeline import dates, money, text
from crmkit.pipeline.fastpath import routed
from crmkit.pipeline.options import CleanOptions


def _assert_same(values: pl.Series, got: pl.Series, want: pl.Series) -> None:
    """Value by value, nulls equal; the failing inputs are shown."""
    differ = got.ne_missing(want)
    assert not differ.any(), pl.DataFrame([values, got.alias("got"), want.alias("want")]).filter(
        differ
    )
    assert got.null_count() < len(got)  # the oracle is not trivially all-null


def _iso_values(n: int, seed: int) -> list[str | None]:
    rng = random.Random(seed)
    out: list[str | None] = []
    for _ in range(n):
        y = rng.choice([1899, 1989, 2024, 2025, 2026, 9999, rng.randint(1000, 2100)])
        mo, d = rng.randint(0, 13), rng.randint(0, 32)
        hh, mm, ss = rng.randint(0, 25), rng.randint(0, 61), rng.randint(0, 61)
        sep = rng.choice([" ", "T"])
        shape = rng.randrange(6)
        if shape == 0:
            out.append(f"{y:04d}-{mo:02d}-{d:02d}")
        elif shape == 1:
            out.append(f"{y:04d}-{mo:02d}-{d:02d}{sep}{hh:02d}:{mm:02d}")
        elif shape == 2:
            out.append(f"{y:04d}-{mo:02d}-{d:02d}{sep}{hh:02d}:{mm:02d}:{ss:02d}")
        elif shape == 3:  # not gated: unpadded, slashed, zoned, fractional, Chinese
            out.append(
                rng.choice(
                    [
                        f"{y}-{mo}-{d} {hh}:{mm:02d}",
                        f"{y}/{mo:02d}/{d:02d} {hh:02d}:{mm:02d}",
                        f"{y:04d}-{mo:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}Z",
                        f"{y:04d}-{mo:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}+08:00",
                        f"{y:04d}-{mo:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}.125",
                        f"{y}年{mo}月{d}日 {hh:02d}:{mm:02d}",
                        f"{mo:02d}/{d:02d}/{y}",
                    ]
                )
            )
        elif shape == 4:  # DST edges in the zones under test
            out.append(rng.choice(["2025-03-09 02:30:00", "2025-11-02 01:30", "2025-03-30 02:15"]))
        else:
            out.append(rng.choice([None, "45658", "1735689600", "2025-01-03 14:05:07 ", "junk"]))
    return out


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/New_York", "Europe/Berlin"])
def test_datetime_fast_path_equals_general_parser(zone: str) -> None:
    options = CleanOptions(timezone=zone)
    frame = pl.DataFrame({"t": _iso_values(20_000, seed=len(zone))})
    got = frame.select(dates.datetime_from_text(pl.col("t"), options)).to_series()
    want = frame.select(dates._general_datetime(pl.col("t"), options)).to_series()
    _assert_same(frame["t"], got, want)


def test_date_fast_path_equals_general_parser() -> None:
    options = CleanOptions(timezone="Asia/Shanghai")
    frame = pl.DataFrame({"t": _iso_values(20_000, seed=3)})
    got = frame.select(dates.date_from_text(pl.col("t"), options)).to_series()
    want = frame.select(dates._general_date(pl.col("t"), options)).to_series()
    _assert_same(frame["t"], got, want)


def _numbers(n: int, seed: int) -> list[str | None]:
    rng = random.Random(seed)
    out: list[str | None] = []
    for _ in range(n):
        whole = rng.choice([0, 1, 7, 12, 999, 1000, 123456, 10**15, 10**17, 10**19, 10**25])
        whole = rng.randint(0, whole)
        frac = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 4)))
        sign = rng.choice(["", "", "-"])
        plain = f"{sign}{whole}" + (f".{frac}" if frac else "")
        out.append(
            rng.choice(
                [
                    plain,
                    plain,
                    f"{sign}{whole}." if rng.random() < 0.5 else f"{sign}.{frac or '5'}",
                    f"¥{whole:,}.{frac or '00'}",
                    f"({whole}.{frac or '0'})",
                    f"{whole},{frac or '5'}",
                    f"+{whole}",
                    "007",
                    "1e5",
                    None,
                ]
            )
        )
    return out


@pytest.mark.parametrize("decimal", [".", ","])
def test_number_fast_paths_equal_general_parser(decimal: str) -> None:
    frame = pl.DataFrame({"t": _numbers(20_000, seed=ord(decimal))})
    text = money.number_from_text(pl.col("t"), decimal)
    pairs = {
        "money": (money.money_from_text(pl.col("t"), decimal), money._money(text)),
        "decimal": (
            money.decimal_from_text(pl.col("t"), decimal),
            text.cast(money._WIDE, strict=False),
        ),
        "float": (
            money.float_from_text(pl.col("t"), decimal),
            text.cast(pl.Float64, strict=False),
        ),
    }
    for fast, general in pairs.values():
        got, want = frame.select(fast).to_series(), frame.select(general).to_series()
        _assert_same(frame["t"], got, want)


def test_int_fast_path_keeps_whole_number_rule() -> None:
    frame = pl.DataFrame({"t": ["1", "1.0", "1.00", "1.5", "-3", "007", "1,234", "x", None]})
    got = frame.select(money.int_from_text(pl.col("t"))).to_series().to_list()
    assert got == [1, 1, 1, None, -3, 7, 1234, None, None]


def test_routed_runs_general_parser_only_on_rows_the_gate_refuses() -> None:
    seen: list[list[str | None]] = []

    def general(v: pl.Expr) -> pl.Expr:
        def spy(s: pl.Series) -> pl.Series:
            seen.append(s.to_list())
            return s.str.len_chars()

        return v.map_batches(spy, return_dtype=pl.UInt32)

    expr = routed(pl.col("t"), r"^[0-9]+$", lambda v: v.str.len_chars(), general, pl.UInt32)
    out = pl.DataFrame({"t": ["12", "abc", None, "3", "x1"]}).select(expr).to_series()
    assert out.to_list() == [2, 3, None, 1, 2]
    assert seen == [["abc", "x1"]]


def test_fold_skips_nfkc_only_where_it_changes_nothing() -> None:
    rng = random.Random(11)
    pieces = [
        "abc",
        " 12 ",
        "\t",
        "Ｔｅｌ",
        "１３８",
        "\u200b",
        "\u3000",
        "王",
        "ﬁ",
        "\u00a0",
        "x\u0301",
    ]
    values = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 4))) for _ in range(5000)]
    frame = pl.DataFrame({"t": [*values, "\u3000Ｔｅｌ１３８王\u200b ", None]})
    want = (
        pl.col("t")
        .str.normalize("NFKC")
        .str.replace_all("[\u200b\u200c\u200d\u2060\ufeff]", "")
        .str.strip_chars()
    )
    got = frame.select(text.fold(pl.col("t"))).to_series()
    _assert_same(frame["t"], got, frame.select(want).to_series())
    assert got[-2] == "Tel138王"  # full-width folded, zero-width dropped, spaces trimmed


def test_per_distinct_equals_direct_parse_with_nulls() -> None:
    from crmkit.pipeline.fastpath import per_distinct

    def parse(v: pl.Expr) -> pl.Expr:  # null maps to a value, one value maps to null
        return pl.when(v.is_null()).then(pl.lit("none")).when(v == "b").then(None).otherwise(v)

    few = ["a", "b", None, "c", "a", None] * 200  # few distinct values: mapped back
    many = [str(i) for i in range(1000)] + [None, "b"]  # many: parsed directly
    for values in (few, many):
        frame = pl.DataFrame({"t": values})
        got = frame.select(per_distinct(pl.col("t"), parse, pl.String())).to_series()
        want = frame.select(parse(pl.col("t"))).to_series()
        _assert_same(frame["t"], got, want)


def test_ident_fast_path_keeps_guard_rules() -> None:
    values = ["O-1", '="007"', "'0012", "\tA1", "=42", 'a"b', "N/A", "'N/A", None]
    got = pl.DataFrame({"t": values}).select(text.ident(pl.col("t"))).to_series().to_list()
    assert got == ["O-1", "007", "0012", "A1", "42", 'a"b', None, None, None]
