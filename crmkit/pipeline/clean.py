"""Clean one raw source table: parse every column by its `kind`, derive, validate, split.

`clean(frame, table, options)` takes a LazyFrame of raw strings (canonical column names, plus
`__line`, `source`, `source_file`) and returns a `CleanResult`: `checked` (every row: the
table's typed columns without `customer_key`, `__line`, `__code`, `__reason`) and its two views
`accepted` (typed columns + `__line`) and `rejects` (`__line`, `source`, `source_file`,
`reason_code`, `reason`). Every input row lands in exactly one of the views. All work
is lazy, except that phone columns are joined to a table of their distinct values
(`phones.PhoneBook`): `clean` collects those values first, so it suits an in-memory chunk.
Each raw column goes through `text` once into a helper column and every parser reads that
(NFKC runs only on non-ASCII values).

Reason codes (stable; a row with several problems gets the first in column order as its code,
and `reason` lists them all, `; `-separated):

* `bad_date` — a date/datetime that cannot be parsed, or earlier than `min_year` (1900 for
  `birth_date`).
* `future_date` — later than now + `future_days` (`birth_date`: later than today).
* `bad_amount` — a money value that cannot be parsed (or overflows Decimal(18, 2)).
* `negative_amount` — negative `gross_amount`/`net_amount` on an order whose status is not
  `refunded`/`partially_refunded`, or a negative `line_amount` in `order_lines`.
* `bad_number` — an int/float column (quantity, items_count, scores) that is not a number, or
  an int column with a fraction (`1.5`).
* `bad_score` — `nps` outside 0..10 (after missing codes -99/-2/-3 became null).
* `bad_status` — a `status` value that is not in the vocabulary (add it to `status_map:`).
* `missing_key` — a required column is empty after parsing.
* `missing_customer` — a ticket or event with none of customer_id/email/phone.

Decisions:

* Orders without any customer reference are accepted: walk-in POS receipts are real sales and
  count in revenue; identity resolution leaves their `customer_key` null. Tickets and events
  without a reference describe nobody and are rejected (`missing_customer`).
* `refund_amount` is stored as its absolute value (exports write refunds as `-12.00` or
  `12.00`); `net_amount` = gross − discount − refund (nulls as 0) when absent.
* `order_lines.line_amount` = quantity × unit_price when absent, computed exactly from the
  decimal strings and rounded half-to-even to cents.
* `currency` defaults to `options.currency` where absent or empty.
* Unparseable optional fields also reject the row (nothing is dropped silently); unknown values
  of bool/gender/country/currency/email/phone become null instead (they are descriptive).
* `customers.source_record_id`, when absent, is `h:` + sha256(email|phone|full_name|first|last)
  hex[:16] of the normalised values (hashlib, on distinct keys per batch: stable across polars
  versions, unlike `Expr.hash`). A row with none of those values gets no id → `missing_key`.
* `full_name`, when absent: `last+first` without a space when both are CJK, else `first last`.
* `email_raw`/`phone_raw` keep the original text (trimmed) whenever an email/phone was given.
* Free text (`comment`, `properties`, `ratings`) is trimmed but not NFKC-folded.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import polars as pl

from crmkit.pipeline.dates import date_from_text, datetime_from_text
from crmkit.pipeline.fastpath import per_distinct
from crmkit.pipeline.money import (
    decimal_from_text,
    float_from_text,
    int_from_text,
    money_from_text,
    score_from_text,
    without_missing_codes,
)
from crmkit.pipeline.normalize import (
    lookup,
    map_enum,
    normalize_email,
    parse_bool,
    parse_country,
    parse_currency,
    parse_gender,
    parse_tags,
)
from crmkit.pipeline.options import CleanOptions, CleanResult
from crmkit.pipeline.phones import PhoneBook
from crmkit.pipeline.text import ident_from_text, let, loose, text
from crmkit.schema import CUSTOMER_REF, MONEY, Table

__all__ = ["REASON_CODES", "CleanOptions", "CleanResult", "clean"]

REASON_CODES = (
    "bad_date",
    "future_date",
    "bad_amount",
    "negative_amount",
    "bad_number",
    "bad_score",
    "bad_status",
    "missing_key",
    "missing_customer",
)
SCORES = ("nps", "csat", "ces")
FREE_TEXT = ("comment", "properties", "ratings")
REFUNDED = ("refunded", "partially_refunded")
_BIRTH_MIN_YEAR = 1900
_RAW = "__raw__"
_TEXT = "__text__"
_NUM = "__num__"
_E164 = "__e164__"


def _raw(column: str) -> str:
    return _RAW + column


def _quoted(column: str) -> pl.Expr:
    """The raw value, trimmed and shortened, in double quotes (for reason texts)."""
    raw = pl.col(_raw(column)).str.strip_chars().str.slice(0, 80)
    return pl.concat_str(pl.lit('"'), raw, pl.lit('"'))


class _Checks:
    """Ordered (condition, code, reason) triples; the first true condition names the row."""

    def __init__(self) -> None:
        self.items: list[tuple[pl.Expr, str, pl.Expr]] = []

    def add(self, cond: pl.Expr, code: str, reason: pl.Expr | str) -> None:
        if isinstance(reason, str):
            reason = pl.lit(reason)
        self.items.append((cond, code, reason))

    def code(self) -> pl.Expr:
        return pl.coalesce([pl.when(c).then(pl.lit(code)) for c, code, _ in self.items])

    def reason(self) -> pl.Expr:
        parts = [pl.when(c).then(r) for c, _, r in self.items]
        return pl.concat_str(parts, separator="; ", ignore_nulls=True)


def _t(column: str) -> str:
    return _TEXT + column


def _text_stage(table: Table, opts: CleanOptions) -> list[pl.Expr]:
    """`text` of every raw column once (NFKC is the costly part), with preset value maps."""
    out = []
    for col in table.columns:
        raw = pl.col(_raw(col.name))
        t = loose(raw) if col.name in FREE_TEXT else text(raw)
        value_map = opts.value_maps.get(col.name) or {}
        if col.kind != "enum" and value_map:
            t = let(t, lambda v, m=value_map: lookup(v, m, default=v, texted=True))
        out.append(t.alias(_t(col.name)))
    return out


def _parse(column: str, kind: str, table: Table, opts: CleanOptions) -> pl.Expr:
    """The typed value of one column from its texted (and value-mapped) string."""
    t = pl.col(_t(column))
    match kind:
        case "id":
            return ident_from_text(t)
        case "str":
            return t
        case "datetime":
            return datetime_from_text(t, opts)
        case "date":
            return date_from_text(t, opts)
        case "money":
            return money_from_text(t, opts.decimal)
        case "int":
            return int_from_text(t, opts.decimal)
        case "float":
            if column in SCORES:
                return score_from_text(t, opts.decimal)
            return float_from_text(t, opts.decimal)
        case "email":
            return normalize_email(t, texted=True)
        case "tags":
            return parse_tags(t, texted=True)
        case "bool" | "enum" | "gender" | "country" | "currency":
            # Few distinct values per column: parse each once per batch.
            dtype = table.column(column).dtype
            return per_distinct(t, lambda v: _vocabulary(v, column, kind, table, opts), dtype)
    raise ValueError(f"unknown column kind {kind!r} for {table.name}.{column}")


def _vocabulary(t: pl.Expr, column: str, kind: str, table: Table, opts: CleanOptions) -> pl.Expr:
    """The parsers of the vocabulary kinds (booleans, enums, genders, countries, currencies)
    on texted input."""
    match kind:
        case "bool":
            return parse_bool(t, texted=True)
        case "enum":
            value_map = opts.value_maps.get(column) or {}
            return map_enum(t, column, table, opts.status_map, value_map, texted=True)
        case "gender":
            return parse_gender(t, texted=True)
        case "country":
            return parse_country(t, texted=True)
    return parse_currency(t, texted=True)


_PARSE_FAILURE = {
    "datetime": ("bad_date", "as a date/time"),
    "date": ("bad_date", "as a date"),
    "money": ("bad_amount", "as an amount"),
    "int": ("bad_number", "as a whole number"),
    "float": ("bad_number", "as a number"),
}


def _sha_prefix(keys: pl.Series) -> pl.Series:
    """`h:` + sha256 hex[:16] of each key, hashing each distinct key once."""
    distinct = [k for k in keys.unique().to_list() if k is not None]
    digests = ["h:" + hashlib.sha256(k.encode("utf-8")).hexdigest()[:16] for k in distinct]
    return keys.replace_strict(
        pl.Series(distinct, dtype=pl.String),
        pl.Series(digests, dtype=pl.String),
        default=None,
        return_dtype=pl.String,
    )


def _derived(table: Table, opts: CleanOptions) -> dict[str, pl.Expr]:
    """Columns computed from other parsed columns (each overrides the parsed value)."""
    out: dict[str, pl.Expr] = {}
    zero = pl.lit(0).cast(MONEY)
    names = set(table.names)
    if "currency" in names and opts.currency:
        out["currency"] = pl.col("currency").fill_null(pl.lit(opts.currency.upper()))
    if table.name == "orders":
        refund = pl.col("refund_amount").abs()
        out["refund_amount"] = refund
        derived = (
            pl.col("gross_amount")
            - pl.col("discount_amount").fill_null(zero)
            - refund.fill_null(zero)
        )
        out["net_amount"] = pl.coalesce(pl.col("net_amount"), derived.cast(MONEY, strict=False))
    if table.name == "order_lines":
        qty = decimal_from_text(pl.col(_t("quantity")), opts.decimal)
        product = (qty * pl.col("unit_price")).round(2).cast(MONEY, strict=False)
        out["line_amount"] = pl.coalesce(pl.col("line_amount"), product)
    if table.name == "tickets":
        # Desks such as Zendesk export durations in minutes rather than timestamps.
        for at, minutes in (
            ("first_response_at", "first_response_minutes"),
            ("resolved_at", "resolution_minutes"),
        ):
            offset = pl.duration(
                microseconds=(pl.col(minutes) * 60_000_000).round(0).cast(pl.Int64)
            )
            out[at] = pl.coalesce(pl.col(at), pl.col("created_at") + offset)
    if table.name == "customers":
        first, last = pl.col("first_name"), pl.col("last_name")
        cjk = first.str.contains(r"^\p{Han}+$") & last.str.contains(r"^\p{Han}+$")
        joined = (
            pl.when(cjk)
            .then(pl.concat_str(last, first))
            .otherwise(pl.concat_str(first, last, separator=" ", ignore_nulls=True))
        )
        full = pl.coalesce(
            pl.col("full_name"), pl.when(first.is_not_null() | last.is_not_null()).then(joined)
        )
        out["full_name"] = full
        out["email_raw"] = pl.coalesce(pl.col("email_raw"), loose(pl.col(_raw("email"))))
        out["phone_raw"] = pl.coalesce(pl.col("phone_raw"), loose(pl.col(_raw("phone"))))
        parts = [pl.col("email"), pl.col("phone"), full, first, last]
        key = pl.concat_str([p.fill_null("") for p in parts], separator="|")
        any_part = pl.any_horizontal([p.is_not_null() for p in parts])
        key = pl.when(pl.col("source_record_id").is_null() & any_part).then(key)
        hashed = key.map_batches(_sha_prefix, return_dtype=pl.String, is_elementwise=True)
        out["source_record_id"] = pl.coalesce(pl.col("source_record_id"), hashed)
    return out


def _checks(table: Table, opts: CleanOptions) -> _Checks:
    """Every validation of the table, in column order, then the row-level ones."""
    checks = _Checks()
    now = opts.current_time()
    latest = now + timedelta(days=opts.future_days)
    for col in table.columns:
        c, kind = col.name, col.kind
        value, raw_text = pl.col(c), pl.col(_t(c))
        fail = pl.lit(False)
        if kind in _PARSE_FAILURE:
            code, what = _PARSE_FAILURE[kind]
            fail = raw_text.is_not_null() & value.is_null()
            if kind == "float" and c in SCORES:  # missing codes are meant to be null
                fail = raw_text.is_not_null() & pl.col(_NUM + c).is_null()
            checks.add(
                fail,
                code,
                pl.concat_str(pl.lit(f"{c}: cannot read "), _quoted(c), pl.lit(f" {what}")),
            )
        if kind == "datetime":
            start = datetime(opts.min_year, 1, 1, tzinfo=UTC)
            checks.add(
                value < pl.lit(start),
                "bad_date",
                pl.concat_str(pl.lit(f"{c}: "), _quoted(c), pl.lit(f" is before {opts.min_year}")),
            )
            checks.add(
                value > pl.lit(latest),
                "future_date",
                # relative, not the cutoff's clock time: the same file gives the same reason
                # (the time of ingest is in the manifest)
                pl.concat_str(
                    pl.lit(f"{c}: "),
                    _quoted(c),
                    pl.lit(f" is more than {opts.future_days} days after the time of ingest"),
                ),
            )
        if kind == "date":
            birth = c == "birth_date"
            min_year = _BIRTH_MIN_YEAR if birth else opts.min_year
            last_day = now.date() if birth else latest.date()
            checks.add(
                value < pl.lit(datetime(min_year, 1, 1).date()),
                "bad_date",
                pl.concat_str(pl.lit(f"{c}: "), _quoted(c), pl.lit(f" is before {min_year}")),
            )
            checks.add(
                value > pl.lit(last_day),
                "future_date",
                pl.concat_str(
                    pl.lit(f"{c}: "),
                    _quoted(c),
                    pl.lit(
                        " is after the day of ingest"
                        if birth
                        else f" is more than {opts.future_days} days after the day of ingest"
                    ),
                ),
            )
        if c == "status" and kind == "enum":
            expected = ", ".join(table.enums.get(c, ()))
            checks.add(
                raw_text.is_not_null() & value.is_null(),
                "bad_status",
                pl.concat_str(
                    pl.lit(f"{c}: unknown value "),
                    _quoted(c),
                    pl.lit(f" (expected one of {expected}; map it with status_map:)"),
                ),
            )
        if c == "nps":
            checks.add(
                (value < 0) | (value > 10),
                "bad_score",
                pl.concat_str(pl.lit("nps: "), _quoted(c), pl.lit(" is outside 0..10")),
            )
        if col.required:
            checks.add(value.is_null() & ~fail, "missing_key", f"{c}: required but empty")
        if table.name == "orders" and c in ("gross_amount", "net_amount"):
            refunded = pl.col("status").is_in(REFUNDED).fill_null(False)
            checks.add(
                (value < 0) & ~refunded,
                "negative_amount",
                pl.concat_str(
                    pl.lit(f"{c}: negative amount "),
                    value.cast(pl.String),
                    pl.lit(" on an order that is not refunded"),
                ),
            )
        if c.endswith("_minutes"):
            checks.add(
                value < 0,
                "bad_number",
                pl.concat_str(pl.lit(f"{c}: negative duration "), _quoted(c)),
            )
        if table.name == "marketing_spend" and c == "cost":
            checks.add(
                value < 0,
                "negative_amount",
                pl.concat_str(pl.lit(f"{c}: negative spend "), value.cast(pl.String)),
            )
        if table.name == "order_lines" and c == "line_amount":
            checks.add(
                value < 0,
                "negative_amount",
                pl.concat_str(pl.lit(f"{c}: negative amount "), value.cast(pl.String)),
            )
    if table.needs_customer_ref and table.name != "orders":
        # A name alone still identifies a requester well enough to resolve (support desks often
        # know only "zhang wei"); a row with no reference at all belongs to nobody.
        refs = [*CUSTOMER_REF, "customer_name"]
        no_ref = pl.all_horizontal([pl.col(r).is_null() for r in refs])
        checks.add(
            no_ref,
            "missing_customer",
            "no customer id, e-mail, phone or name (invalid ones are empty)",
        )
    return checks


def clean(
    frame: pl.LazyFrame, table: Table, options: CleanOptions, phones: PhoneBook | None = None
) -> CleanResult:
    """Parse, derive and validate one raw table; split rows into accepted and rejects.

    `phones` (for `options.phone_region`) carries normalised phone numbers from one call to the
    next, e.g. over the chunks of one file; by default each call starts a new book.
    """
    present = set(frame.collect_schema().names())
    names = table.names
    missing = [c for c in names if c not in present]
    lineage = [
        pl.lit(None, pl.String).alias(c) for c in ("source", "source_file") if c not in present
    ]
    frame = frame.with_columns(
        *[pl.lit(None, pl.String).alias(c) for c in missing],
        *lineage,
        *[pl.col(c).cast(pl.String) for c in names if c in present],
    ).rename({c: _raw(c) for c in names})

    book = phones or PhoneBook(options.phone_region)
    if book.region != options.phone_region:
        raise ValueError(f"a phone book for {book.region}, not {options.phone_region}")
    phone_cols = [c.name for c in table.columns if c.kind == "phone" and c.name in present]
    for c in phone_cols:
        frame = book.attach(frame, _raw(c), _E164 + c)

    frame = frame.with_columns(_text_stage(table, options))
    parsed: list[pl.Expr] = []
    for col in table.columns:
        if col.kind == "phone":
            value = pl.col(_E164 + col.name) if col.name in phone_cols else pl.lit(None, pl.String)
        else:
            value = _parse(col.name, col.kind, table, options)
        parsed.append(value.cast(col.dtype).alias(col.name))
    frame = frame.with_columns(parsed)
    scores = [c for c in SCORES if c in names]
    codes = tuple(options.missing_codes)
    if scores:  # keep the parsed number for the bad_number check, then drop missing codes
        frame = frame.with_columns(
            *[pl.col(c).alias(_NUM + c) for c in scores],
            *[without_missing_codes(pl.col(c), codes).alias(c) for c in scores],
        )
    derived = _derived(table, options)
    if derived:
        frame = frame.with_columns(
            [e.cast(table.column(c).dtype).alias(c) for c, e in derived.items()]
        )

    checks = _checks(table, options)
    frame = frame.with_columns(checks.code().alias("__code"), checks.reason().alias("__reason"))

    stored = table.polars_schema()
    out_cols = [
        (pl.col("__line").cast(pl.Int64) if name == "source_line" else pl.col(name))
        .cast(dtype)
        .alias(name)
        for name, dtype in stored.items()
        if name != "customer_key"
    ]
    checked = frame.select(*out_cols, pl.col("__line").cast(pl.Int64), "__code", "__reason")
    return CleanResult(checked=checked)
