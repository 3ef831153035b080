"""Text basics shared by every parser: NFKC folding, trimming, placeholders, Excel guards.

Every raw cell goes through `text` first, so full-width digits and letters (全角), non-breaking
and ideographic spaces, zero-width characters and placeholder values (`N/A`, `--`, `无`, …) are
handled once, in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product

import polars as pl

from crmkit.pipeline.fastpath import routed

# Case-insensitive exact matches that mean "no value" (compared after NFKC + trim + lower-case).
PLACEHOLDERS: tuple[str, ...] = (
    "",
    "n/a",
    "na",
    "n.a.",
    "null",
    "(null)",
    "none",
    "nil",
    "nan",
    "-",
    "--",
    "---",
    "—",
    "——",
    "–",
    "/",
    "?",
    "??",
    "#n/a",
    "#value!",
    "#ref!",
    "无",
    "未知",
    "暂无",
    "空",
    "不详",
    "未填写",
    "0000-00-00",
    "0000-00-00 00:00:00",
)

_ZERO_WIDTH = "[\u200b\u200c\u200d\u2060\ufeff]"


def let(value: pl.Expr, body: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """Evaluate `value` once and return `body(v)`, where `v` refers to that single evaluation.

    Polars does not reliably share a sub-expression used several times inside one expression
    (each `when/then/otherwise` branch re-evaluates it); on 10M rows that multiplies the cost of
    regex and NFKC work. Binding the value as a struct field evaluates it exactly once.
    """
    return (
        pl.struct(value.alias("__v"))
        .struct.with_fields(body(pl.field("__v")).alias("__out"))
        .struct.field("__out")
        .name.keep()
    )


def _case_forms(word: str) -> set[str]:
    """Every spelling of `word` in upper and lower case (`na`: na, nA, Na, NA)."""
    letters = [(c.lower(), c.upper()) if c.isascii() and c.isalpha() else (c,) for c in word]
    return {"".join(chars) for chars in product(*letters)}


# Looked up as they are: lower-casing every cell first allocated a copy of each (a sixth of
# the cleaning's time). The two agree: besides ASCII capitals, only the Kelvin sign (to `k`,
# which no placeholder has) and `İ` (to `i` plus a combining dot) lower-case to ASCII letters.
_PLACEHOLDER_FORMS = sorted({form for p in PLACEHOLDERS for form in _case_forms(p)})


def null_placeholders(expr: pl.Expr) -> pl.Expr:
    """Null where an already-trimmed string is a placeholder (case-insensitive exact match)."""
    return let(expr, lambda v: pl.when(v.is_in(_PLACEHOLDER_FORMS)).then(None).otherwise(v))


def fold(expr: pl.Expr) -> pl.Expr:
    """NFKC (full-width → half-width), drop zero-width characters, trim Unicode whitespace.

    ASCII text is its own NFKC form and has no zero-width characters, so only non-ASCII values
    pay for normalising (most cells of most exports are ASCII).
    """
    return routed(
        expr.cast(pl.String),
        lambda v: v.str.len_bytes() == v.str.len_chars(),  # ASCII (much cheaper than a regex)
        lambda v: v.str.strip_chars(),
        lambda v: v.str.normalize("NFKC").str.replace_all(_ZERO_WIDTH, "").str.strip_chars(),
        pl.String(),
    )


def text(expr: pl.Expr) -> pl.Expr:
    """Folded, trimmed text with placeholder values (`N/A`, `--`, `无`, …) turned into null."""
    return null_placeholders(fold(expr))


def loose(expr: pl.Expr) -> pl.Expr:
    """Free text (comments, JSON): trimmed and placeholder-nulled but not NFKC-folded.

    NFKC would rewrite Chinese punctuation (，→ ,) inside what people wrote, so free text is
    kept as written.
    """
    return null_placeholders(expr.cast(pl.String).str.strip_chars())


def ident_from_text(t: pl.Expr) -> pl.Expr:
    """`ident` for input that already went through `text` (unchanged without guard characters:
    it is already trimmed and placeholder-free)."""
    return routed(
        t,
        lambda v: ~v.str.contains_any(["=", "'", "\t", '"']),
        lambda v: v,
        _unguarded,
        pl.String(),
    )


def _unguarded(t: pl.Expr) -> pl.Expr:
    """Excel guards stripped (`="123"`, leading `=`, `'`, tab), then trimmed and placeholders."""

    def unguard(v: pl.Expr) -> pl.Expr:
        quoted = v.str.starts_with('="') & v.str.ends_with('"') & (v.str.len_chars() >= 3)
        return pl.when(quoted).then(v.str.slice(2, v.str.len_chars() - 3)).otherwise(v)

    s = let(t, unguard).str.strip_chars_start("='\t").str.strip_chars()
    return null_placeholders(s)


def ident(expr: pl.Expr) -> pl.Expr:
    """An identifier: `text` plus Excel guards stripped (`="123"`, leading `=`, `'`, tab).

    A float-looking id such as `1234.0` is kept as written: guessing it was an integer would
    merge ids that differ.
    """
    return ident_from_text(text(expr))
