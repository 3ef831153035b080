"""Normalisers for matching: e-mail, phone, names (Chinese and romanised), addresses, birth dates.

Each normaliser is a polars expression. The few steps that need a Python library (OpenCC for
traditional→simplified, pypinyin, phonenumbers) run on the *distinct* values of a batch only, so a
million records with a hundred thousand names cost a hundred thousand conversions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import polars as pl

HAN = r"\p{Han}"
# Two-character Chinese surnames; every other Chinese name starts with a one-character surname.
COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "令狐",
    "端木",
    "南宫",
)
# Surnames whose everyday reading differs from the surname reading (pypinyin reads 曾 as ceng).
SURNAME_PINYIN = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "朴": "piao",
    "查": "zha",
    "覃": "qin",
    "乐": "yue",
    "盖": "ge",
    "缪": "miao",
    "尉": "yu",
    "翟": "zhai",
    "种": "chong",
    "秘": "bi",
    "万": "wan",
    "重": "chong",
    "沈": "shen",
    "长孙": "zhangsun",
    "尉迟": "yuchi",
}
_ADDRESS_WORDS = {
    "street": "st",
    "str": "st",
    "strasse": "str",
    "straße": "str",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "drive": "dr",
    "lane": "ln",
    "place": "pl",
    "court": "ct",
    "crescent": "cres",
    "boulevard": "blvd",
    "highway": "hwy",
    "terrace": "tce",
    "parade": "pde",
    "circuit": "cct",
    "close": "cl",
    "square": "sq",
    "apartment": "apt",
    "unit": "unit",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}


# A long street word ending a longer word (three letters or more before it).
_GLUED_STREET_WORD = (
    r"\b(\p{L}{3,}?)(street|road|avenue|drive|lane|place|court|crescent|boulevard|highway|"
    r"terrace|parade|circuit|close|square)\b"
)


_ON_DISTINCT_CACHE = 1_000_000  # values remembered across batches (bounds memory)


def on_distinct(expr: pl.Expr, fn: Callable[[Any], Any], dtype: pl.DataType) -> pl.Expr:
    """Apply a Python function to the distinct non-null values of `expr` only, then map back."""

    done: dict[Any, Any] = {}  # across batches: a value repeated in every batch is computed once

    def batch(s: pl.Series) -> pl.Series:
        uniq = s.drop_nulls().unique()
        if uniq.len() == 0:
            return pl.Series(s.name, [None] * s.len(), dtype=dtype)
        values = uniq.to_list()
        if len(done) > _ON_DISTINCT_CACHE:
            done.clear()
        for v in values:
            if v not in done:
                done[v] = fn(v)
        new = pl.Series([done[v] for v in values], dtype=dtype)
        return s.replace_strict(uniq, new, default=None, return_dtype=dtype)

    # elementwise: the streaming engine may call it batch by batch instead of collecting the frame
    return expr.map_batches(batch, return_dtype=dtype, is_elementwise=True)


def nfkc(expr: pl.Expr) -> pl.Expr:
    """Unicode NFKC (full-width digits and letters to ASCII), skipped for pure-ASCII values."""
    e = expr.cast(pl.String)
    wide = pl.when(e.str.contains(r"[^\x00-\x7F]")).then(e)
    return pl.coalesce(wide.str.normalize("NFKC"), e)


# --------------------------------------------------------------------------------------- e-mail


def email_key(expr: pl.Expr, settings: Mapping[str, Any] | None = None) -> pl.Expr:
    """Matching key of an e-mail: trimmed, lower-case, provider rules (Gmail dots, plus tags).

    Invalid addresses (no single `@` with a dotted domain) become null: they cannot act as keys.
    """
    s = settings or {}
    aliases: Mapping[str, str] = s.get("domain_aliases", {"googlemail.com": "gmail.com"})
    dots = list(s.get("ignore_dots", ["gmail.com"]))
    plus = list(s.get("plus_tags", ["gmail.com"]))
    e = nfkc(expr).str.to_lowercase().str.replace_all(" ", "", literal=True).str.strip_chars()
    # one struct, refined field by field: the cleaned address is computed once, not per use
    parts = e.str.splitn("@", 2).struct.rename_fields(["local", "domain"])
    local, domain = pl.field("local"), pl.field("domain")
    if aliases:
        parts = parts.struct.with_fields(domain=domain.replace(dict(aliases)))
    parts = parts.struct.with_fields(
        local=pl.when(domain.is_in(plus)).then(local.str.split("+").list.first()).otherwise(local)
    ).struct.with_fields(
        local=pl.when(domain.is_in(dots))
        .then(local.str.replace_all(".", "", literal=True))
        .otherwise(local)
    )
    valid = (
        (local.str.len_bytes() > 0)
        & domain.str.contains(".", literal=True)
        & ~domain.str.contains("@", literal=True)
        & ~domain.str.ends_with(".")
        & ~domain.str.starts_with(".")
    )
    return parts.struct.with_fields(
        key=pl.when(valid).then(pl.concat_str(local, pl.lit("@"), domain))
    ).struct.field("key")


def email_blocked(key: pl.Expr, blocklist: Mapping[str, Any]) -> pl.Expr:
    """True for placeholder addresses (test@test.com, none@…, noreply@…, example.com …)."""
    local = key.str.extract(r"^([^@]+)@", 1)
    domain = key.str.extract(r"@([^@]+)$", 1)
    return (
        key.is_in(list(blocklist.get("emails", [])))
        | local.is_in(list(blocklist.get("email_locals", [])))
        | domain.is_in(list(blocklist.get("email_domains", [])))
        # aaa@: every character equals the next one
        | ((local.str.len_chars() >= 2) & (local.str.tail(-1) == local.str.head(-1)))
    ).fill_null(False)


# ---------------------------------------------------------------------------------------- phone


def _to_e164(raw: str, region: str | None) -> str | None:
    import phonenumbers

    digits = raw
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    try:
        num = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def phone_key(expr: pl.Expr, region: str | None = None, *, revalidate: bool = False) -> pl.Expr:
    """Matching key of a phone number in E.164, or null when it is not a valid number.

    Values from the cleaning stage are already E.164 and are trusted unless `revalidate`;
    anything else (full-width digits, spaces, `+86-138-…`, `0086…`) is parsed with phonenumbers
    on distinct values, using `region` for national numbers.
    """
    raw = nfkc(expr).str.replace_all(r"[\s\-().·/]", "")
    raw = pl.when(raw.str.len_bytes() > 0).then(raw)
    if revalidate:
        return on_distinct(raw, lambda v: _to_e164(v, region), pl.String())
    e164 = raw.str.contains(r"^\+[1-9]\d{6,14}$")
    other = on_distinct(pl.when(~e164).then(raw), lambda v: _to_e164(v, region), pl.String())
    return pl.when(e164).then(raw).otherwise(other)


def phone_blocked(key: pl.Expr, blocklist: Mapping[str, Any]) -> pl.Expr:
    """True for placeholder and service numbers: listed values, 400-/800- lines, 0000000 runs."""
    run = int(blocklist.get("min_repeated_digits", 6))
    prefixes = list(blocklist.get("phone_prefixes", []))
    national = key.str.slice(3)
    repeated = pl.any_horizontal(
        [national.str.contains(d * run, literal=True) for d in "0123456789"]
    )
    sequential = national.str.contains("12345678", literal=True) | national.str.contains(
        "87654321", literal=True
    )
    pref = (
        pl.any_horizontal([key.str.starts_with(x) for x in prefixes]) if prefixes else pl.lit(False)
    )
    return (key.is_in(list(blocklist.get("phones", []))) | repeated | sequential | pref).fill_null(
        False
    )


# ---------------------------------------------------------------------------------------- names


@lru_cache(maxsize=1)
def _opencc() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def _simplify(v: str) -> str:
    return _opencc().convert(v)


def _simplify_all(values: list[str]) -> list[str]:
    """`_simplify` of each value in one OpenCC call (its phrases never span a line break); one
    call per value if a value holds a line break itself."""
    out = _opencc().convert("\n".join(values)).split("\n")
    return out if len(out) == len(values) else [_simplify(v) for v in values]


def to_simplified(expr: pl.Expr) -> pl.Expr:
    """Traditional → simplified Chinese with OpenCC, only on distinct values that contain Han."""

    def batch(s: pl.Series) -> pl.Series:
        han = s.filter(s.str.contains(HAN).fill_null(False)).unique()
        if han.len() == 0:
            return s
        return s.replace(han, pl.Series(_simplify_all(han.to_list()), dtype=pl.String))

    # a single reference to `expr`: it is evaluated once
    return expr.map_batches(batch, return_dtype=pl.String())


def latin_clean(expr: pl.Expr) -> pl.Expr:
    """NFKC, lower case, apostrophes dropped, other punctuation to spaces, spaces collapsed."""
    s = nfkc(expr).str.to_lowercase()
    s = s.str.replace_all(r"['’`´]", "").str.replace_all(r"[^\p{L}\p{N}\s]|_", " ")
    return s.str.replace_all(r"\s+", " ").str.strip_chars().replace("", None)


def clean_text(expr: pl.Expr) -> pl.Expr:
    """NFKC, lower case, simplified Chinese, punctuation to spaces, whitespace collapsed."""
    return to_simplified(latin_clean(expr))


def name_from_clean(s: pl.Expr, blocked: list[str] | None = None) -> pl.Expr:
    """A cleaned name → comparison form: no spaces inside a Chinese name (张 伟 → 张伟)."""
    cjk = s.str.contains(HAN) & ~s.str.contains(r"[a-z]")
    s = pl.when(cjk).then(s.str.replace_all(" ", "", literal=True)).otherwise(s)
    if blocked:
        s = pl.when(s.is_in(blocked)).then(None).otherwise(s)
    return s


def name_norm(expr: pl.Expr, blocked: list[str] | None = None) -> pl.Expr:
    """A name for comparison: `clean_text`, and no spaces inside a Chinese name (张 伟 → 张伟)."""
    return name_from_clean(clean_text(expr), blocked)


def ascii_fold(expr: pl.Expr) -> pl.Expr:
    """Latin letters without diacritics or spaces (Müller → muller, Chloé → chloe); ß → ss."""
    wide = pl.when(expr.str.contains(r"[^\x00-\x7F]")).then(expr)
    folded = wide.str.replace_all("ß", "ss", literal=True).str.normalize("NFKD")
    folded = folded.str.replace_all(r"\p{M}", "")
    return pl.coalesce(folded, expr).str.replace_all(" ", "", literal=True)


@lru_cache(maxsize=65536)
def _char_pinyin(ch: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(ch)).lower()


def hanzi_pinyin(text: str, *, surname: bool = False) -> str:
    """Toneless pinyin of Chinese text, syllables joined (秀英 → xiuying); surname readings."""
    if surname and text in SURNAME_PINYIN:
        return SURNAME_PINYIN[text]
    return "".join(_char_pinyin(c) for c in text)


def pinyin(expr: pl.Expr, *, surname: bool = False) -> pl.Expr:
    """Romanised form for cross-script comparison: pinyin for Chinese, ASCII-folded Latin else."""
    py = on_distinct(
        pl.when(expr.str.contains(HAN)).then(expr),
        lambda v: hanzi_pinyin(v, surname=surname),
        pl.String(),
    )
    return pl.coalesce(py, ascii_fold(expr))


def _soundex(v: str) -> str | None:
    import jellyfish

    return jellyfish.soundex(v) or None


def phonetic(expr: pl.Expr) -> pl.Expr:
    """Soundex code of a romanised name part (jellyfish, on distinct values): spellings that
    sound alike share it (smith ~ smyth, catherine ~ cathrine), so a blocking key built on it
    survives most typos. Null for a missing part."""
    return on_distinct(expr, _soundex, pl.String())


def split_name(full: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(given, surname) of a normalised full name: Chinese surname first, Latin surname last."""
    cjk = full.str.contains(HAN) & ~full.str.contains(" ")
    compound = full.str.slice(0, 2).is_in(list(COMPOUND_SURNAMES)) & (full.str.len_chars() >= 3)
    cjk_sur = pl.when(compound).then(full.str.slice(0, 2)).otherwise(full.str.slice(0, 1))
    cjk_given = full.str.slice(cjk_sur.str.len_chars())
    tokens = full.str.split(" ")
    n = tokens.list.len()
    lat_sur = tokens.list.last()
    lat_given = pl.when(n >= 2).then(tokens.list.slice(0, n - 1).list.join(" "))
    given = pl.when(cjk).then(cjk_given).otherwise(lat_given)
    surname = pl.when(cjk).then(cjk_sur).otherwise(lat_sur)
    return given.replace("", None), surname


# ------------------------------------------------------------------------------------- addresses


def address_norm(expr: pl.Expr) -> pl.Expr:
    """An address line for comparison: `clean_text` plus common street-word abbreviations."""
    # a street word run into the street's name is split off: "gryllscrescent" → "grylls crescent"
    glued = clean_text(expr).str.replace_all(_GLUED_STREET_WORD, "$1 $2")
    # every word gets its own pair of spaces, so adjacent words are all matched
    padded = pl.concat_str(pl.lit(" "), glued.str.replace_all(" ", "  ", literal=True), pl.lit(" "))
    words = list(_ADDRESS_WORDS)
    out = padded.str.replace_many(
        [f" {w} " for w in words], [f" {_ADDRESS_WORDS[w]} " for w in words]
    )
    return out.str.replace_all(r"\s+", " ").str.strip_chars()


def street_number(address: pl.Expr) -> pl.Expr:
    """The house number of a normalised address line: its first run of digits (12 main st → 12)."""
    return address.str.extract(r"(\d+)", 1)


def street_name(address: pl.Expr) -> pl.Expr:
    """The street of a normalised address line: its first word of three or more letters once the
    numbers are gone (12 main st → main), so the street still matches when the number differs."""
    return address.str.replace_all(r"\d+", " ").str.extract(r"(\p{L}{3,})", 1)


def postcode_norm(expr: pl.Expr) -> pl.Expr:
    """A postcode: NFKC, upper case, no spaces, quotes or Excel guards ('200040 → 200040)."""
    s = nfkc(expr).str.to_uppercase()
    return s.str.replace_all(r"[\s'\"=]", "").replace("", None)


def birth_date_norm(expr: pl.Expr, blocked: list[str] | None = None) -> pl.Expr:
    """A plausible birth date or null: placeholder dates and dates before 1900 are dropped."""
    bad = [dt.date.fromisoformat(d) for d in (blocked or [])]
    d = expr.cast(pl.Date)
    return pl.when((d >= dt.date(1900, 1, 2)) & ~d.is_in(bad)).then(d)
