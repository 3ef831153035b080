"""Phone numbers to E.164 with `phonenumbers`, computed on distinct values only.

Rules for one raw value: NFKC (full-width digits), strip Excel guards (`'`, `=`, tab); a value
with `*` (masked, `186******05`) or `#` (encrypted, `##密文`) gives null; several numbers in one
field (`,` `;` `/` `、` `|`) → the first valid one; `00` international prefix → `+`; `(+86)` →
`+86`; extensions are dropped. A number without a country code needs `region`; a number that
`phonenumbers` does not consider valid gives null.

`phone_lookup` collects the distinct raw values of one column (the one `collect` that `clean`
does per phone column), normalises them in Python and returns a `replace_strict` expression —
cheap because real exports have far fewer distinct phones than rows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import phonenumbers
import polars as pl

_SPLIT = re.compile(r"\s+/\s+|[,;/、|，；]")
_LAYOUT = re.compile(r"[\s\-.]+")
_GUARDS = re.compile(r'^(?:="|=|\'|\t)+|"$')


def normalize_phone_value(raw: str | None, region: str | None = None) -> str | None:
    """One raw phone string → E.164 (`+8613800138000`) or None when it is not a valid number."""
    if raw is None:
        return None
    s = unicodedata.normalize("NFKC", raw).strip()
    s = _GUARDS.sub("", s).strip()
    if not s or "*" in s or "#" in s:
        return None
    for part in _SPLIT.split(s):
        number = _one(part.strip(), region)
        if number is not None:
            return number
    return None


def _one(part: str, region: str | None) -> str | None:
    part = _GUARDS.sub("", part).strip()
    if not part or not re.search(r"\d", part):
        return None
    part = re.sub(r"^\(\s*\+\s*(\d{1,3})\s*\)", r"+\1 ", part)  # (+86)138…
    part = re.sub(r"^00(?=[1-9])", "+", part)  # 0086… → +86…
    # Spacing and dashes never change the number: fold them so the many layouts of one number
    # (`138 0013 8000`, `138-0013-8000`) share one parse in the cache.
    return _parse(_LAYOUT.sub("", part), region)


@lru_cache(maxsize=1_000_000)
def _parse(part: str, region: str | None) -> str | None:
    """E.164 of one compact number, or None; cached because parsing dominates ingest time."""
    try:
        parsed = phonenumbers.parse(part, None if part.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone(
    values: Iterable[str | None], region: str | None = None
) -> dict[str, str | None]:
    """Distinct raw values → E.164 (or None); the mapping that `phone_lookup` joins back."""
    return {v: normalize_phone_value(v, region) for v in set(values) if v is not None}


def phone_lookup(frame: pl.LazyFrame, column: str, region: str | None) -> pl.Expr:
    """An expression mapping `column`'s raw values to E.164, built from its distinct values.

    Collects `frame.select(column).unique()` once (streaming engine).
    """
    distinct = frame.select(pl.col(column).cast(pl.String).unique()).collect(engine="streaming")
    mapping = normalize_phone(distinct.to_series().to_list(), region)
    keys = list(mapping)
    return pl.col(column).replace_strict(
        pl.Series(keys, dtype=pl.String),
        pl.Series([mapping[k] for k in keys], dtype=pl.String),
        default=None,
        return_dtype=pl.String,
    )
