"""Automatic header matching: score (canonical column, header) pairs and assign one-to-one.

Scores: an exact synonym match is 1.0, containment or token overlap is lower, a near-miss
spelling (rapidfuzz) lower still; sample values that look right (dates, emails, phones, money)
keep a score, values that look wrong shrink it. Headers are sorted by their text before the
assignment so the result never depends on column order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import polars as pl
from rapidfuzz import fuzz

from crmkit.schema import CUSTOMER_REF, SOURCE_TABLES
from crmkit.sources.synonyms import SYNONYMS, header_key, normalize_header

MIN_SCORE = 0.6  # below this a header is not a match
_TIE = 1e-9
_CJK = re.compile(r"[\u3400-\u9fff]")
REF_GROUP = "customer_ref"

# Sample-value checks by schema kind: a fraction of conforming values confirms a match.
_NUM = r"^[(-]?\s*[$¥￥€£]?\s*-?\d[\d,]*(\.\d+)?\s*(元)?\)?$"
_CHECKS: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "datetime": lambda v: v.str.contains(
        r"\d{1,4}[-/.年]\d{1,2}[-/.月]\d{1,4}|^[A-Za-z]{3,9}\.? \d{1,2},? \d{4}|^\d{10,13}$"
    ),
    "email": lambda v: v.str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    "phone": lambda v: v.str.replace_all(r"[\s\-+()'=\t.]", "").str.contains(r"^[\d*]{7,15}$"),
    "money": lambda v: v.str.contains(_NUM),
    "int": lambda v: v.str.contains(r"^-?\d+(\.0+)?$"),
    "float": lambda v: v.str.contains(r"^-?\d+([.,]\d+)?$"),
}
_CHECKS["date"] = _CHECKS["datetime"]


@dataclass(frozen=True)
class AutoResult:
    """The automapper's answer for one table."""

    table: str
    columns: dict[str, str]  # canonical column -> header
    scores: dict[str, float]  # canonical column -> score of its header
    confidence: float  # min over required columns (customer_ref counted once)
    fit: float  # mean over required columns (0 for missing), used to rank tables
    missing: tuple[str, ...] = ()
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing and not self.ambiguous


# Requirement groups: a row needs one of the members. Customers without an id of their own get
# a hash of the normalised row from cleaning, so an email or phone is enough to map them.
GROUPS: dict[str, tuple[str, ...]] = {
    REF_GROUP: CUSTOMER_REF,
    "customer_key": ("source_record_id", "email", "phone"),
}
GROUP_LABELS = {
    REF_GROUP: "customer_ref (one of customer_id, customer_email, customer_phone)",
    "customer_key": "source_record_id (or an email or phone to derive it from)",
}


def requirements(table: str) -> list[tuple[str, tuple[str, ...]]]:
    """A table's required items as (name, columns any one of which satisfies it)."""
    tbl = SOURCE_TABLES[table]
    items = []
    for col in tbl.required:
        if table == "customers" and col == "source_record_id":
            items.append(("customer_key", GROUPS["customer_key"]))
        else:
            items.append((col, (col,)))
    if tbl.needs_customer_ref:
        items.append((REF_GROUP, GROUPS[REF_GROUP]))
    return items


@cache
def _synonym_keys(table: str, column: str) -> tuple[tuple[str, str], ...]:
    words = [column.replace("_", " "), *SYNONYMS.get(table, {}).get(column, [])]
    return tuple(dict.fromkeys((header_key(w), normalize_header(w)) for w in words))


@cache
def name_score(table: str, column: str, header: str) -> float:
    """How well a header's text names a canonical column (0..1)."""
    hk, hn = header_key(header), normalize_header(header)
    if not hk:
        return 0.0
    best = 0.0
    tokens = set(hn.split())
    for sk, sn in _synonym_keys(table, column):
        if hk == sk:
            return 1.0
        short, long_ = sorted((sk, hk), key=len)
        ratio = len(short) / len(long_)
        if _CJK.search(short) and len(short) >= 2 and short in long_:
            best = max(best, 0.5 + 0.4 * ratio)
        elif not _CJK.search(sk) and set(sn.split()) <= tokens and len(sk) / len(hk) >= 0.4:
            best = max(best, 0.5 + 0.4 * len(sk) / len(hk))
        if len(sk) >= 5 and not _CJK.search(sk):
            similarity = fuzz.ratio(hk, sk) / 100
            if similarity >= 0.85:
                best = max(best, 0.9 * similarity)
    return best


def evidence(
    sample: pl.DataFrame | None, headers: list[str], kinds: set[str]
) -> dict[tuple[str, str], float]:
    """{(header, kind): fraction of the header's non-empty sample values that fit the kind}."""
    if sample is None or sample.height == 0:
        return {}
    present = [h for h in headers if h in sample.columns]
    exprs = []
    for h in present:
        values = pl.col(h).cast(pl.String).str.strip_chars().head(200)
        values = values.filter(values.is_not_null() & (values != ""))
        for kind in kinds & set(_CHECKS):
            exprs.append(_CHECKS[kind](values).cast(pl.Float64).mean().alias(f"{kind}\x1f{h}"))
    if not exprs:
        return {}
    row = sample.select(exprs).row(0, named=True)
    out = {}
    for name, frac in row.items():
        kind, h = name.split("\x1f", 1)
        if frac is not None:
            out[(h, kind)] = float(frac)
    return out


def score_matrix(
    table: str, headers: list[str], sample: pl.DataFrame | None = None
) -> tuple[list[str], np.ndarray]:
    """Scores of every (canonical column, header) pair, value evidence included."""
    tbl = SOURCE_TABLES[table]
    cols = tbl.names
    ev = evidence(sample, headers, {c.kind for c in tbl.columns})
    scores = np.zeros((len(cols), len(headers)))
    for i, col in enumerate(cols):
        kind = tbl.column(col).kind
        for j, h in enumerate(headers):
            s = name_score(table, col, h)
            if s > 0 and (h, kind) in ev:
                s *= 0.75 + 0.25 * ev[(h, kind)]
            scores[i, j] = s
    return cols, scores


def automap(
    headers: list[str],
    table: str,
    *,
    sample: pl.DataFrame | None = None,
    exclude: set[str] | frozenset[str] = frozenset(),
    only: set[str] | None = None,
) -> AutoResult:
    """Match `headers` to `table`'s columns one-to-one (Hungarian on name + value scores).

    `exclude` removes headers already used (by a config), `only` limits the canonical columns.
    """
    usable = sorted(dict.fromkeys(h for h in headers if h not in exclude and header_key(h)))
    usable.sort(key=lambda h: (header_key(h), h))
    cols, scores = score_matrix(table, usable, sample)
    required = set(SOURCE_TABLES[table].required)
    weight = np.where(scores >= MIN_SCORE, scores, 0.0)
    for i, col in enumerate(cols):
        if only is not None and col not in only:
            weight[i, :] = 0.0
        elif col in required:
            weight[i, :] *= 2.0
    assigned: dict[str, str] = {}
    got: dict[str, float] = {}
    if usable:
        # (imported here: scipy.optimize takes ~0.6 s to import, and most commands never map)
        from scipy.optimize import linear_sum_assignment

        rows, cols_idx = linear_sum_assignment(-weight)
        for i, j in zip(rows, cols_idx, strict=True):
            if weight[i, j] > 0:
                assigned[cols[i]] = usable[j]
                got[cols[i]] = float(scores[i, j])
    used = set(assigned.values())
    ambiguous: dict[str, tuple[str, ...]] = {}
    notes: list[str] = []
    for i, col in enumerate(cols):
        if col not in assigned:
            continue
        s = got[col]
        rivals = [
            usable[j]
            for j in range(len(usable))
            if usable[j] != assigned[col] and scores[i, j] >= s - _TIE and usable[j] not in used
        ]
        if rivals:
            cands = tuple(sorted([assigned[col], *rivals]))
            if col in required:
                ambiguous[col] = cands
            else:
                notes.append(f"{col}: {' / '.join(cands)} fit equally; chose {assigned[col]!r}")
    items = [
        (name, members)
        for name, members in requirements(table)
        if only is None or any(m in only for m in members)
    ]
    item_scores = []
    missing = []
    for name, members in items:
        s = max(got.get(c, 0.0) for c in members)
        item_scores.append(s)
        if s < MIN_SCORE:
            missing.append(name)
    return AutoResult(
        table=table,
        columns=assigned,
        scores=got,
        confidence=min(item_scores) if item_scores else 1.0,
        fit=sum(item_scores) / len(item_scores) if item_scores else 0.0,
        missing=tuple(missing),
        ambiguous=ambiguous,
        notes=tuple(notes),
    )


def rank_tables(headers: list[str], sample: pl.DataFrame | None = None) -> list[AutoResult]:
    """Automap results for every table, best first: tables whose required items are all found,
    then by how much of the file they explain (sum of scores), then by required-item fit."""
    results = [automap(headers, t, sample=sample) for t in SOURCE_TABLES]
    return sorted(results, key=lambda r: tuple(-x for x in _rank_key(r)))


def _rank_key(r: AutoResult) -> tuple[float, float, float]:
    return (float(not r.missing), round(sum(r.scores.values()), 9), round(r.fit, 9))


def tables_tie(a: AutoResult, b: AutoResult) -> bool:
    """Two tables fit a file equally well (the automapper refuses to choose)."""
    ka, kb = _rank_key(a), _rank_key(b)
    return all(abs(x - y) < _TIE for x, y in zip(ka, kb, strict=True))
