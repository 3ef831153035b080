"""Phone numbers to E.164 with `phonenumbers`, computed on distinct values only.

Rules for one raw value: NFKC (full-width digits), strip Excel guards (`'`, `=`, tab); a value
with `*` (masked, `186******05`) or `#` (encrypted, `##密文`) gives null; several numbers in one
field (`,` `;` `/` `、` `|`) → the first valid one; `00` international prefix → `+`; `(+86)` →
`+86`; extensions are dropped. A number without a country code needs `region`; a number that
`phonenumbers` does not consider valid gives null.

`PhoneBook` (what cleaning uses) looks rows up by hash among the values it has seen; the
`phone_e164` expression maps a column batch by batch with a cache across the batches. Either
way each distinct value is normalised once — cheap because real exports have far fewer distinct
phones than rows. The distinct values take one of two paths, which give identical answers:

* Vectorised, for the common case: a value made only of ASCII digits, `+`, blanks, `-`, `.` and
  Excel guards that folds to `+digits` (or `digits` with a `region`). It is split into country
  code and national number in polars, and validated by evaluating `phonenumbers`' own metadata
  (possible lengths, number patterns, leading digits of shared country codes) as Rust regexes,
  one country code at a time — the same checks `parse` + `is_valid_number` make, ~2 µs a value.
* Per value (`normalize_phone_value`, ~100 µs): the rules above in Python, then
  `phonenumbers.parse` + `is_valid_number`. It is the reference, and takes everything the fast
  path does not reproduce: separators, letters, extensions, parentheses, non-ASCII, an
  international or national (trunk) prefix or carrier code `parse` might strip, bare digits
  starting with the default region's calling code, and patterns the Rust regex engine cannot
  compile.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache

import numpy as np
import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import _MAX_LENGTH_FOR_NSN, _MIN_LENGTH_FOR_NSN

from crmkit.pipeline.hashfind import find, nearest, positions

_SPLIT = re.compile(r"\s+/\s+|[,;/、|，；]")
_LAYOUT = re.compile(r"[\s\-.]+")
_GUARDS = re.compile(r'^(?:="|=|\'|\t)+|"$')

# ---- per value (reference and fallback) ----------------------------------------------------


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


# ---- vectorised ----------------------------------------------------------------------------

# Values made only of these characters are one part (no separator), NFKC leaves them alone and
# Python's and Rust's `strip`/`\s` agree on them, so `_with_compact` reproduces `_one` exactly.
_FAST_CHARS = r"""^[0-9+ \t\-.'="]+$"""
_GUARDS_RS = r"""^(?:="|=|'|\t)+|"$"""  # `_GUARDS` in Rust regex syntax
_TYPES = (  # the descs `_number_type_helper` tries after `general_desc`, mobile last
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
)
_CODES = {
    n: [str(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE if len(str(c)) == n]
    for n in (1, 2, 3)
}
_NSN = pl.col("nsn")
_NSN_LEN = pl.col("nsn").str.len_bytes()  # ASCII digits only


def _with_compact(distinct: pl.DataFrame) -> pl.DataFrame:
    """Adds `compact`, the string `_one` passes to `_parse`, for values of `_FAST_CHARS` only
    (else null). Regex replaces are the slow part, so each runs only on rows that need it."""
    raw, compact = pl.col("raw"), pl.col("compact")
    eligible = raw.str.contains(_FAST_CHARS)
    frame = distinct.with_columns(compact=pl.when(eligible).then(raw.str.strip_chars()))
    # `normalize_phone_value`, then `_one`: strip, drop guards, strip. Without `'`, `=` or `"`
    # the guard pattern can only match a leading tab, which `strip` already removed.
    guarded = compact.str.contains_any(["'", "=", '"']).fill_null(False)
    unguarded = compact
    for _ in range(2):
        unguarded = unguarded.str.replace_all(_GUARDS_RS, "").str.strip_chars()
    frame = pl.concat(
        [frame.filter(~guarded), frame.filter(guarded).with_columns(compact=unguarded)]
    )
    # `^00(?=[1-9])` → `+`, then fold blanks, dashes and dots (`_LAYOUT`; tab and space are
    # the only blanks `_FAST_CHARS` lets through).
    idd = compact.str.starts_with("00") & compact.str.slice(2, 1).is_in(list("123456789"))
    return frame.with_columns(
        compact=pl.when(idd)
        .then(pl.concat_str(pl.lit("+"), compact.str.slice(2)))
        .otherwise(compact)
    ).with_columns(compact=compact.str.replace_many({" ": "", "\t": "", "-": "", ".": ""}))


def _country_code(digits: pl.Expr) -> pl.Expr:
    """`_extract_country_code`: the 1–3 digit prefix that is a calling code (they never start
    with 0, and none is a prefix of another), else null."""
    head = [digits.str.slice(0, n) for n in (1, 2, 3)]
    expr = pl.when(head[0].is_in(_CODES[1])).then(head[0])
    return (
        expr.when(head[1].is_in(_CODES[2]))
        .then(head[1])
        .when(head[2].is_in(_CODES[3]))
        .then(head[2])
    )


@cache
def _rust_ok(pattern: str) -> bool:
    """Whether polars' regex engine compiles `pattern` (phonenumbers' are written for `re`)."""
    try:
        pl.select(pl.lit("0").str.contains(pattern))
    except pl.exceptions.PolarsError:
        return False
    return True


def _prefix_match(pattern: str | None) -> pl.Expr | None:
    """`re.match(pattern, nsn)` (a match at the start); False for no pattern, None if the Rust
    engine cannot compile it."""
    if not pattern:
        return pl.lit(False)
    anchored = f"^(?:{pattern})"
    return _NSN.str.contains(anchored) if _rust_ok(anchored) else None


def _desc_match(desc) -> pl.Expr | None:
    """`_is_number_matching_desc`: length among `possible_length` (if any) and a full match of
    `national_number_pattern`. None if the pattern does not compile in Rust."""
    if desc is None or not desc.national_number_pattern:
        return pl.lit(False)
    full = f"^(?:{desc.national_number_pattern})$"
    if not _rust_ok(full):
        return None
    match = _NSN.str.contains(full)
    if desc.possible_length:
        match = _NSN_LEN.is_in(list(desc.possible_length)) & match
    return match


def _type_known(metadata) -> pl.Expr | None:
    """`_number_type_helper(nsn, metadata) != UNKNOWN`, or None if a pattern will not compile."""
    descs = [getattr(metadata, name) for name in _TYPES]
    if not metadata.same_mobile_and_fixed_line_pattern:  # else mobile is never tried on its own
        descs.append(metadata.mobile)
    general, *types = (_desc_match(d) for d in [metadata.general_desc, *descs])
    if general is None or any(t is None for t in types):
        return None
    return general & pl.any_horizontal(types)


@cache
def _region_tests(cc: int) -> tuple[tuple[pl.Expr | None, pl.Expr], ...] | None:
    """For `is_valid_number`: per region sharing `cc`, in `phonenumbers`' order, (the
    `leading_digits` test that picks that region, or None to pick it when the number is valid
    there; validity there). None if some pattern does not compile in Rust."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[cc]
    if len(regions) == 1:  # `region_code_for_number` picks it without looking (also "001")
        known = _type_known(PhoneMetadata.metadata_for_region_or_calling_code(cc, regions[0]))
        return None if known is None else ((pl.lit(True), known),)
    tests = []
    for region in regions:  # `_region_code_for_number_from_list`
        metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        known = _type_known(metadata)
        lead = None if metadata.leading_digits is None else _prefix_match(metadata.leading_digits)
        if known is None or (metadata.leading_digits is not None and lead is None):
            return None
        tests.append((lead, known))
    return tuple(tests)


def _validate(group: pl.DataFrame, tests) -> pl.DataFrame:
    """`group` (column `nsn`) with a `valid` column. Regions are tried in turn on the rows no
    earlier region picked, so a shared code (+1: 25 regions) costs little when most rows are
    picked by the first."""
    done, rest = [], group
    for lead, known in tests:
        if rest.is_empty():
            break
        if lead is None:  # picked iff valid there
            rest = rest.with_columns(valid=known)
            done.append(rest.filter("valid"))
            rest = rest.filter(~pl.col("valid")).drop("valid")
        else:
            rest = rest.with_columns(picked=lead)
            done.append(rest.filter("picked").drop("picked").with_columns(valid=known))
            rest = rest.filter(~pl.col("picked")).drop("picked")
    done.append(rest.with_columns(valid=pl.lit(False)))  # no region picked: not valid
    return pl.concat(done, how="vertical")


def _region_metadata(region: str | None):
    """Metadata of a default region `parse` accepts, else None (then bare digits give null)."""
    if region not in phonenumbers.SUPPORTED_REGIONS:
        return None
    return PhoneMetadata.metadata_for_region(region)


def _national_slow(metadata) -> pl.Expr:
    """Digits parsed with a default region: `_maybe_extract_country_code` may strip an IDD
    (`00`, `011`) or the region's own calling code first — left to the per-value path."""
    compact = pl.col("compact")
    slow = compact.str.starts_with(str(metadata.country_code))
    idd = metadata.international_prefix
    if idd is not None:  # None: `parse` never strips one
        anchored = f"^(?:{idd})"
        slow = slow | (compact.str.contains(anchored) if _rust_ok(anchored) else pl.lit(True))
    return slow


def _route(distinct: pl.DataFrame, region: str | None) -> pl.DataFrame:
    """Adds `cc`, `nsn`, `plus` and `route`: "fast", "slow" (per value) or "null" (`parse`
    fails: unknown calling code, or digits without a usable region)."""
    compact = pl.col("compact")
    plus = compact.str.contains(r"^\+[0-9]+$")
    digits = compact.str.contains(r"^[0-9]+$")
    metadata = _region_metadata(region)
    own_cc = None if metadata is None else str(metadata.country_code)
    national_slow = pl.lit(False) if metadata is None else _national_slow(metadata)
    tail = compact.str.slice(1)
    return (
        _with_compact(distinct)
        .with_columns(
            plus=plus.fill_null(False),
            cc=pl.when(plus).then(_country_code(tail)).when(digits).then(pl.lit(own_cc, pl.String)),
        )
        .with_columns(
            nsn=pl.when(plus).then(tail.str.slice(pl.col("cc").str.len_bytes())).otherwise(compact),
            route=pl.when(compact.is_null() | ~(plus | digits))
            .then(pl.lit("slow"))
            .when(pl.col("cc").is_null())
            .then(pl.lit("null"))
            .when(digits & national_slow)
            .then(pl.lit("slow"))
            .otherwise(pl.lit("fast")),
        )
    )


def _fast_group(group: pl.DataFrame, cc: str, metadata) -> tuple[pl.DataFrame, pl.Series]:
    """One calling code's rows → (`raw`, `e164`) and the raw values left to the per-value path.

    `metadata` is the one `parse` uses for the national prefix: the default region's for bare
    digits, the calling code's main region's for `+` numbers.
    """
    strip = _prefix_match(metadata.national_prefix_for_parsing)
    tests = _region_tests(int(cc))
    if strip is None or tests is None:  # a pattern Rust cannot compile: all per value
        return group.select("raw", e164=pl.lit(None, pl.String)).clear(), group["raw"]
    # A national prefix or carrier code `parse` might strip (trunk `0`, CN `1xxx` carrier
    # codes): whether it does depends on possible lengths after stripping — left to Python.
    group = group.with_columns(slow=strip)
    checked = _validate(group.filter(~pl.col("slow")), tests)
    e164 = pl.when(pl.col("valid") & _NSN_LEN.is_between(_MIN_LENGTH_FOR_NSN, _MAX_LENGTH_FOR_NSN))
    table = checked.select("raw", e164=e164.then(pl.concat_str(pl.lit(f"+{cc}"), _NSN)))
    return table, group.filter("slow")["raw"]


def _e164_table(values: pl.Series, region: str | None) -> pl.DataFrame:
    """Distinct non-null raw values → `raw`, `e164`; vectorised where possible, else per value."""
    distinct = pl.DataFrame({"raw": values.cast(pl.String)}).drop_nulls().unique()
    routed = _route(distinct, region)
    route = pl.col("route")
    tables = [routed.filter(route == "null").select("raw", e164=pl.lit(None, pl.String))]
    slow = [routed.filter(route == "slow")["raw"]]
    fast = routed.filter(route == "fast")
    region_metadata = _region_metadata(region)
    for (cc, plus), group in fast.partition_by("cc", "plus", as_dict=True).items():
        main = phonenumbers.region_code_for_country_code(int(cc))
        metadata = (
            PhoneMetadata.metadata_for_region_or_calling_code(int(cc), main)
            if plus
            else region_metadata
        )
        table, rest = _fast_group(group, cc, metadata)
        tables.append(table)
        slow.append(rest)
    rest = pl.concat(slow).to_list()
    tables.append(
        pl.DataFrame(
            {"raw": rest, "e164": [normalize_phone_value(v, region) for v in rest]},
            schema={"raw": pl.String, "e164": pl.String},
        )
    )
    return pl.concat(tables, how="vertical")


def normalize_phone(
    values: Iterable[str | None], region: str | None = None
) -> dict[str, str | None]:
    """Distinct raw values → E.164 (or None), the same mapping `phone_e164` applies."""
    table = _e164_table(pl.Series(list(set(values)), dtype=pl.String), region)
    return dict(zip(table["raw"].to_list(), table["e164"].to_list(), strict=True))


class PhoneBook:
    """E.164 of raw phone values for one default `region`, each distinct value normalised once
    for as long as the book lives (a file's chunks share one book).

    The book keeps, per value it has seen, two independent 64-bit hashes, sorted by the first,
    and where its answer is. A row finds its value by binary search of its first hash (`hashfind`);
    the second must agree too, so an unseen value cannot take a seen one's answer by a collision.
    Hashing a row is cheap, where joining a chunk of strings to the whole book on the string
    rebuilt a string hash table of every value seen so far, chunk after chunk. A value whose
    first hash another value already has (a 64-bit collision) is kept by value instead.
    """

    def __init__(self, region: str | None) -> None:
        self.region = region
        self._e164 = pl.Series("e164", [], pl.String)  # answers, in the order values came
        self._hash = np.empty(0, np.uint64)  # the values' first hashes, sorted
        self._check = np.empty(0, np.uint64)  # their second hashes, in that order
        self._slot = np.empty(0, np.int64)  # their answers' positions, in that order
        self._clashes: dict[str, str | None] = {}  # values whose first hash was taken

    def attach(self, frame: pl.LazyFrame, column: str, out: str) -> pl.LazyFrame:
        """`frame` with `out`, the E.164 of its String column `column` (null where invalid).

        Collects `frame`: meant for an in-memory chunk (for a scan, `phone_e164` streams)."""
        rows = frame.collect()
        return rows.with_columns(self.e164(rows[column]).alias(out)).lazy()

    def e164(self, values: pl.Series) -> pl.Series:
        """E.164 (or null) of each raw value, in order; values not seen before are normalised."""
        values = values.cast(pl.String)
        given = values.is_not_null().to_numpy()
        first, check = _hashes(values)
        slot, found = self._find(first, check)
        new = np.flatnonzero(~found & given)
        if new.size:
            unseen = values.gather(new).unique()
            if self._clashes:
                unseen = unseen.filter(~unseen.is_in(list(self._clashes)))
            if unseen.len():
                self._learn(unseen)
            slot[new], found[new] = self._find(first[new], check[new])
        e164 = self._e164.gather(positions(slot, found))
        clashed = np.flatnonzero(~found & given)
        if clashed.size:
            answers = [self._clashes[v] for v in values.gather(clashed).to_list()]
            e164 = e164.scatter(clashed, pl.Series(answers, dtype=pl.String))
        return e164.alias(values.name)

    def _find(self, first: np.ndarray, check: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each hash pair's answer position and whether the book has that value."""
        if not self._hash.size:
            return np.zeros(first.size, np.int64), np.zeros(first.size, bool)
        at, found = find(self._hash, self._check, first, check)
        return self._slot[at], found

    def _learn(self, new: pl.Series) -> None:
        """Normalise distinct values the book has not seen and add them. Answers are appended,
        so positions found before stay valid."""
        table = _e164_table(new, self.region)
        first, check = _hashes(table["raw"])
        clash = pl.Series(first).is_duplicated().to_numpy()
        if self._hash.size:
            clash |= self._hash[nearest(self._hash, first)] == first
        if clash.any():
            odd = table.filter(pl.Series(clash))
            self._clashes.update(zip(odd["raw"].to_list(), odd["e164"].to_list(), strict=True))
        keep = ~clash
        slots = np.arange(self._e164.len(), self._e164.len() + int(keep.sum()), dtype=np.int64)
        self._e164 = pl.concat([self._e164, table["e164"].filter(pl.Series(keep))])
        hashes = np.concatenate([self._hash, first[keep]])
        order = np.argsort(hashes, kind="stable")
        self._hash = hashes[order]
        self._check = np.concatenate([self._check, check[keep]])[order]
        self._slot = np.concatenate([self._slot, slots])[order]


def _hashes(values: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes of each value (stable within the process)."""
    return values.hash(seed=3).to_numpy(), values.hash(seed=103).to_numpy()


def phone_e164(expr: pl.Expr, region: str | None) -> pl.Expr:
    """Raw phone strings → E.164 (or null), streaming: each batch's distinct values not seen in
    an earlier batch are normalised (`_e164_table`), the rest come from a cache that lives as
    long as the expression — so a number repeated on a million orders is parsed once, and the
    file is read only once."""
    cache: dict[str, str | None] = {}
    lock = threading.Lock()  # batches arrive on several threads: parse a new number only once

    def batch(s: pl.Series) -> pl.Series:
        distinct = s.drop_nulls().unique().to_list()
        # set and map loops run in C: this holds the GIL, once per value of every batch
        with lock:
            new = set(distinct).difference(cache)
            if new:
                table = _e164_table(pl.Series(list(new), dtype=pl.String), region)
                cache.update(zip(table["raw"].to_list(), table["e164"].to_list(), strict=True))
            parsed = list(map(cache.__getitem__, distinct))
        return s.replace_strict(
            pl.Series(distinct, dtype=pl.String),
            pl.Series(parsed, dtype=pl.String),
            default=None,
            return_dtype=pl.String,
        )

    return expr.cast(pl.String).map_batches(batch, return_dtype=pl.String, is_elementwise=True)
