"""Field comparisons of candidate pairs as discrete agreement levels (vectorised, no pair loops).

Each field yields an int8 level per pair (-1 = missing on either side, 0 = disagree, higher =
closer agreement). String similarities come from `rapidfuzz.process.cpdist`, which scores the
aligned pairs of two arrays in C++ across all cores.

The cost is proportional to the pairs, not to the records: when the pairs touch fewer records
than `feat` holds (an incremental run, the random pairs for u), only those records are read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import distance, fuzz, process

from crmkit.identity.arrays import unique

# Agreement levels per field (level values 0..n-1; -1 = missing on either side).
# name: the romanised given name and surname, compared in the better of straight and swapped
# order (given and surname entered the other way round), part by part.
NAME_DIFFER = 0  # nothing agrees
NAME_SURNAME = 1  # same (or one typo away) surname, different given name: family, or a typo
NAME_GIVEN = 2  # same given name, different surname: a changed surname, or a typo
NAME_PART = 3  # one side gives a single name part, and it agrees with a part of the other
NAME_SIMILAR = 4  # similar names (Jaro-Winkler ≥ 0.80)
NAME_CLOSE = 5  # very similar names (Jaro-Winkler ≥ 0.92): a typo
NAME_PINYIN = 6  # the same romanised name (张伟 ~ zhang wei; Zoë ~ zoe)
NAME_SAME = 7  # the same name (term-frequency adjusted)
# birth date
BIRTH_DIFFER = 0
BIRTH_PARTS = 1  # two of year, month and day agree (one part mistyped or unknown)
BIRTH_TYPO = 2  # one digit of yyyymmdd differs
BIRTH_TRANSPOSED = 3  # day and month swapped (03/04 ~ 04/03)
BIRTH_SAME = 4
# location: address line, postcode and city together (they are one piece of evidence, not
# three). "Same address": token-set similarity ≥ 90, or the same house number on the same street
# (street name Jaro-Winkler ≥ 0.92). "Area": the same postcode (or one typo away) or city.
LOC_DIFFER = 0
LOC_AREA = 1  # postcode or city agrees, nothing else
LOC_AREA_BOTH = 2  # postcode and city agree, the address line does not
LOC_ADDRESS = 3  # same address line, in another postcode and city
LOC_SIMILAR = 4  # similar address line (token-set ≥ 70, or the same street) in the same area
LOC_SAME = 5  # same address in the same postcode or city
LOC_SAME_BOTH = 6  # same address, same postcode and same city

LEVELS: dict[str, int] = {
    "name": 8,
    "email": 3,  # 0 differ, 1 same local part or near-identical, 2 same
    "phone": 3,  # 0 differ, 1 one digit off / same last 8 digits, 2 same
    "birth": 5,
    "location": 7,
    "gender": 2,
}
FIELDS = tuple(LEVELS)


@dataclass
class Comparison:
    """Levels per field plus the extras the model and guards need, aligned with the pairs."""

    rid_l: np.ndarray
    rid_r: np.ndarray
    levels: dict[str, np.ndarray]
    name_sim: np.ndarray  # best romanised-name similarity (orientation-free), 0..1
    name_partial: np.ndarray  # one name is a single part of the other (Tang ~ 唐娜)
    tf_name: np.ndarray  # share of named records with the left record's exact name (nan: none)
    tf_pinyin: np.ndarray  # share of named records with the left record's pinyin key
    tf_name_avg: float  # chance that two random named records share their name: Σ share²
    tf_pinyin_avg: float
    email_guarded: np.ndarray  # same e-mail, but the value is guarded
    phone_guarded: np.ndarray

    def __len__(self) -> int:
        return len(self.rid_l)


def _codes(*cols: pl.Series) -> list[np.ndarray]:
    """Integer codes for string columns (0 = missing), comparable across the given columns:
    equality without comparing strings. A 64-bit hash, used within one run only."""
    out = []
    for c in cols:
        h = c.cast(pl.String).hash(seed=7).to_numpy().astype(np.uint64)
        h = np.where(c.is_null().to_numpy(), np.uint64(0), h | np.uint64(1))
        out.append(h)
    return out


class _Rows:
    """Per-record values of the records the pairs touch, each derived at most once."""

    def __init__(self, feat: pl.DataFrame) -> None:
        self.feat = feat
        self._memo: dict[tuple[str, ...], Any] = {}

    def _get(self, key: tuple[str, ...], make: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def code(self, col: str) -> np.ndarray:
        return self._get(("code", col), lambda: _codes(self.feat[col])[0])

    def text(self, col: str, rows: np.ndarray) -> list[str]:
        """Python strings ("" for missing) of `rows`. Many rows (one per side of many pairs):
        every record's string is made once and reused; few rows: only theirs are made."""
        if 2 * len(rows) < self.feat.height and ("text", col) not in self._memo:
            return self.feat[col].gather(rows).fill_null("").to_list()
        every = self._get(
            ("text", col), lambda: np.array(self.feat[col].fill_null("").to_list(), dtype=object)
        )
        return every[rows].tolist()

    def digits(self, col: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Digit strings as integers: value, number of digits, and kind (0: not a digit
        string, 1: digits, 2: "+" and digits), so that `_edit1` can compare them with numpy."""

        def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            v = self.feat[col]
            body = v.str.strip_prefix("+")
            ok = v.str.contains(r"^\+?[0-9]{1,18}$").fill_null(False)
            kind = np.where(ok, np.where(v.str.starts_with("+"), 2, 1), 0)
            value = body.cast(pl.Int64, strict=False).fill_null(0).to_numpy()
            return value, body.str.len_bytes().fill_null(0).to_numpy().astype(np.int64), kind

        return self._get(("digits", col), make)

    def dense(self, a: str, b: str) -> tuple[np.ndarray, np.ndarray, int]:
        """Integer ids per distinct value, shared by columns a and b, and their count."""
        if a > b:
            ib, ia, k = self.dense(b, a)
            return ia, ib, k

        def make() -> tuple[np.ndarray, np.ndarray, int]:
            ca = self.code(a)
            both = ca if a == b else np.concatenate([ca, self.code(b)])
            ids = np.unique(both, return_inverse=True)[1].ravel()  # sort-based: fast
            return ids[: len(ca)], ids[-len(ca) :], int(ids.max(initial=-1)) + 1

        return self._get(("dense", a, b), make)


def _distinct_pairs(
    rows: _Rows, a: str, b: str, left: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One representative (left, right) per distinct pair of values, and the map back."""
    ida, idb, k = rows.dense(a, b)
    key = ida[left].astype(np.int64) * k + idb[right]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return left[first], right[first], inverse.ravel()


def _psim(
    rows: _Rows,
    a: str,
    b: str,
    li: np.ndarray,
    ri: np.ndarray,
    idx: np.ndarray,
    scorer: object,
    *,
    repeats: bool = False,
) -> np.ndarray:
    """Score pairs `idx` of aligned records (a[li], b[ri]); the others get 0.

    `repeats`: the values repeat across people (name parts, cities, streets), so each distinct
    pair of values is scored once. E-mails and full names rarely repeat: not worth the sort.
    """
    out = np.zeros(len(li), dtype=np.float32)
    if len(idx) == 0:
        return out
    left, right = li[idx], ri[idx]
    back = None
    if repeats:
        left, right, back = _distinct_pairs(rows, a, b, left, right)
    scores = process.cpdist(
        rows.text(a, left), rows.text(b, right), scorer=scorer, workers=-1, dtype=np.float32
    )
    out[idx] = scores if back is None else scores[back]
    return out


def _edit1(
    rows: _Rows,
    col: str,
    li: np.ndarray,
    ri: np.ndarray,
    idx: np.ndarray,
    *,
    swaps: bool = False,
) -> np.ndarray:
    """Levenshtein distance ≤ 1 for pairs `idx` (False elsewhere); with `swaps`, the optimal
    string alignment distance (two neighbouring characters swapped also count as one edit).

    Phone numbers and most postcodes are digit strings: those are compared as integers (one
    differing digit, two neighbouring digits swapped, or one digit more), the rest with
    rapidfuzz.
    """
    out = np.zeros(len(li), dtype=bool)
    if len(idx) == 0:
        return out
    value, length, kind = rows.digits(col)
    a, b = li[idx], ri[idx]
    fast = (kind[a] > 0) & (kind[a] == kind[b])
    slow = idx[~fast]
    if len(slow):
        lev = process.cpdist(
            rows.text(col, li[slow]),
            rows.text(col, ri[slow]),
            scorer=OSA if swaps else LEV,
            workers=-1,
            score_cutoff=1,
        )
        out[slow] = lev <= 1
    a, b = a[fast], b[fast]
    va, vb, la, lb = value[a], value[b], length[a], length[b]
    hit = np.zeros(len(a), dtype=bool)
    same = np.flatnonzero(la == lb)  # at most one digit differs
    x, y = va[same], vb[same]
    differ = np.zeros(len(same), dtype=np.int64)
    # with swaps: whether the digits at k-1 and k are swapped (a ≠ b, a = b' and b = a')
    swapped = np.zeros(len(same), dtype=bool)
    px = py = None  # the previous digit of x and y (k counts from the right)
    for _ in range(int(la.max(initial=0))):
        dx, dy = x % 10, y % 10
        differ += dx != dy
        if swaps and px is not None:
            swapped |= (dx != dy) & (dx == py) & (dy == px)
        px, py = dx, dy
        x, y = x // 10, y // 10
    hit[same] = (differ <= 1) | (swapped & (differ == 2))
    one = np.flatnonzero(np.abs(la - lb) == 1)  # the shorter is the longer minus one digit
    long = np.where(la[one] > lb[one], va[one], vb[one])
    short = np.where(la[one] > lb[one], vb[one], va[one])
    found = np.zeros(len(one), dtype=bool)
    for k in range(int(np.maximum(la[one], lb[one]).max(initial=0))):
        p = np.int64(10) ** k
        found |= (long // (p * 10)) * p + long % p == short
    hit[one] = found
    out[idx[fast]] = hit
    return out


def term_frequency(feat: pl.DataFrame, col: str, rids: np.ndarray) -> tuple[np.ndarray, float]:
    """Share of the records with a value in `col` that have the value of each record in `rids`
    (1.0 where missing), and the chance that two random records with a value share it (Σ share²
    over the values: the share of a record's value, averaged over the records)."""
    named = max(int(feat[col].is_not_null().sum()), 1)
    if 4 * len(rids) > feat.height:  # most values are needed: count them all
        share = feat.select(pl.len().over(col).cast(pl.Float64) / named).to_series()
        average = share.filter(feat[col].is_not_null()).mean()
        return share.fill_null(1.0).to_numpy()[rids], float(average or 0.0)
    values = feat[col].gather(rids)
    counts = (
        feat.lazy()
        .select(col)
        .filter(pl.col(col).is_in(values.drop_nulls().unique().implode()))
        .group_by(col)
        .agg(_n=pl.len())
    )
    per = (
        pl.LazyFrame({col: values})
        .join(counts, on=col, how="left", maintain_order="left")
        .select(pl.col("_n").cast(pl.Float64) / named)
        .collect()
        .to_series()
    )
    return per.fill_null(1.0).to_numpy(), term_frequency_average(feat, col)


def term_frequency_average(feat: pl.DataFrame, col: str) -> float:
    """The chance that two random records with a value in `col` share it: Σ share² over the
    values, the average of the shares `term_frequency` gives, weighted by how often each occurs."""
    named = int(feat[col].is_not_null().sum())
    if named == 0:
        return float("nan")
    counts = feat.select(col).drop_nulls().group_by(col).len()["len"].cast(pl.Float64)
    return float(((counts / named) ** 2).sum())


JW = distance.JaroWinkler.normalized_similarity
LEV = distance.Levenshtein.distance
OSA = distance.OSA.distance


def _birth_parts(birth: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """yyyymmdd and yyyyddmm as integers (0 = missing)."""
    y = birth.dt.year().cast(pl.Int64).fill_null(0).to_numpy()
    m = birth.dt.month().cast(pl.Int64).fill_null(0).to_numpy()
    d = birth.dt.day().cast(pl.Int64).fill_null(0).to_numpy()
    return y * 10_000 + m * 100 + d, y * 10_000 + d * 100 + m


def _digits_differ(a: np.ndarray, b: np.ndarray, width: int = 8) -> np.ndarray:
    """Number of decimal positions in which two `width`-digit numbers differ."""
    out = np.zeros(len(a), dtype=np.int32)
    for _ in range(width):
        out += (a % 10) != (b % 10)
        a, b = a // 10, b // 10
    return out


def compare(feat: pl.DataFrame, pairs: pl.DataFrame, *, tf: bool = True) -> Comparison:
    """Compare every candidate pair on every field; `feat` rows are indexed by `rid`.

    Equality runs on integer codes; string similarity is computed only for the pairs whose level
    it can still change (present on both sides and not already equal). `tf=False` skips the
    name frequencies (the random pairs for u do not need them).
    """
    rid_l = pairs["rid_l"].to_numpy()
    rid_r = pairs["rid_r"].to_numpy()
    if 2 * len(rid_l) < feat.height:
        touched = unique(np.concatenate([rid_l, rid_r]))
        sub = feat[touched]
        li, ri = np.searchsorted(touched, rid_l), np.searchsorted(touched, rid_r)
    else:
        sub, li, ri = feat, rid_l, rid_r
    rows = _Rows(sub)
    lv: dict[str, np.ndarray] = {}

    def code_eq(name: str) -> tuple[np.ndarray, np.ndarray]:
        c = rows.code(name)
        both = (c[li] > 0) & (c[ri] > 0)
        return both, both & (c[li] == c[ri])

    def where(mask: np.ndarray) -> np.ndarray:
        return np.flatnonzero(mask)

    # names: exact, same pinyin, or part by part in the better of straight and swapped order
    has, same_name = code_eq("name_key")
    _, same_py = code_eq("pinyin_key")
    need = where(has & ~same_name & ~same_py)

    def jw(a: str, b: str) -> np.ndarray:
        return _psim(rows, a, b, li, ri, need, JW, repeats=True)

    gg, ss = jw("given_py", "given_py"), jw("surname_py", "surname_py")
    gs, sg = jw("given_py", "surname_py"), jw("surname_py", "given_py")
    straight, swapped = (gg + ss) / 2, (gs + sg) / 2
    full = _psim(rows, "pinyin_key", "pinyin_key", li, ri, need, JW)
    sim = np.maximum(np.maximum(straight, swapped), full)
    sim = np.where(same_name | same_py, 1.0, sim)
    # the given name and surname similarity in the better order
    turn = swapped > straight
    given_sim = np.where(turn, gs, gg)
    surname_sim = np.where(turn, sg, ss)
    gc, sc = rows.code("given_py"), rows.code("surname_py")
    gl, gr, sl, sr = gc[li], gc[ri], sc[li], sc[ri]
    both_parts = (gl > 0) & (gr > 0) & (sl > 0) & (sr > 0)
    # one side gives a single name part ("Tang", "Smith") that is a part of the other's name
    single = ((gl == 0) & (sl > 0)) | ((gr == 0) & (sr > 0)) | ((sl == 0) & (gl > 0))
    single |= (sr == 0) & (gr > 0)
    partial = ((gl == 0) & (sl > 0) & ((sl == sr) | (sl == gr))) | (
        (gr == 0) & (sr > 0) & ((sr == sl) | (sr == gl))
    )
    part_close = single & (np.maximum(np.maximum(gg, ss), np.maximum(gs, sg)) >= 0.92)
    lv["name"] = np.select(
        [
            ~has,
            same_name,
            same_py,
            sim >= 0.92,
            sim >= 0.80,
            partial | part_close,
            both_parts & (given_sim >= 0.92),
            both_parts & (surname_sim >= 0.92),
        ],
        [-1, NAME_SAME, NAME_PINYIN, NAME_CLOSE, NAME_SIMILAR, NAME_PART, NAME_GIVEN, NAME_SURNAME],
        NAME_DIFFER,
    ).astype(np.int8)

    # e-mail and phone, with guarded values treated as missing evidence
    e_both, e_eq = code_eq("email_key")
    ok_e = sub["email_ok"].to_numpy()
    (local,) = _codes(sub["email_key"].str.extract(r"^([^@]+)@", 1))
    e_near = (_psim(rows, "email_key", "email_key", li, ri, where(e_both & ~e_eq), JW) >= 0.95) | (
        (local[li] == local[ri]) & (local[li] > 0)
    )
    e_ok = ok_e[li] & ok_e[ri]
    e_lvl = np.select([~e_both, e_eq, e_near], [-1, 2, 1], 0)
    e_guard = e_eq & ~e_ok
    lv["email"] = np.where(e_both & ~e_ok, -1, e_lvl).astype(np.int8)

    p_both, p_eq = code_eq("phone_key")
    ok_p = sub["phone_ok"].to_numpy()
    (tail,) = _codes(sub["phone_key"].str.slice(-8))
    p_near = _edit1(rows, "phone_key", li, ri, where(p_both & ~p_eq)) | (
        (tail[li] == tail[ri]) & (tail[li] > 0)
    )
    p_ok = ok_p[li] & ok_p[ri]
    p_lvl = np.select([~p_both, p_eq, p_near], [-1, 2, 1], 0)
    p_guard = p_eq & ~p_ok
    lv["phone"] = np.where(p_both & ~p_ok, -1, p_lvl).astype(np.int8)

    # birth date: exact, day and month swapped, one digit off, or two of its three parts
    ymd, ydm = _birth_parts(sub["birth"])
    bl, br = ymd[li], ymd[ri]
    b_both = (bl > 0) & (br > 0)
    b_eq = b_both & (bl == br)
    b_swap = b_both & (ydm[li] == br)
    b_typo = np.zeros(len(li), dtype=bool)
    diff = where(b_both & ~b_eq)
    b_typo[diff] = _digits_differ(bl[diff], br[diff]) <= 1
    y_eq, m_eq = bl // 10_000 == br // 10_000, (bl // 100) % 100 == (br // 100) % 100
    d_eq = bl % 100 == br % 100
    b_parts = b_both & ((y_eq & m_eq) | (y_eq & d_eq) | (m_eq & d_eq))
    lv["birth"] = np.select(
        [~b_both, b_eq, b_swap, b_typo, b_parts],
        [-1, BIRTH_SAME, BIRTH_TRANSPOSED, BIRTH_TYPO, BIRTH_PARTS],
        BIRTH_DIFFER,
    ).astype(np.int8)

    # location: address line, postcode and city as one piece of evidence
    pc_both, pc_eq = code_eq("postcode_key")
    ct_both, ct_eq = code_eq("city_key")
    ad_both, ad_eq = code_eq("address_key")
    # a postcode one typo away, two neighbouring digits swapped included
    pc_eq = pc_eq | _edit1(rows, "postcode_key", li, ri, where(pc_both & ~pc_eq), swaps=True)
    ct_eq = ct_eq | (
        _psim(rows, "city_key", "city_key", li, ri, where(ct_both & ~ct_eq), JW, repeats=True)
        >= 0.92
    )
    a_sim = _psim(
        rows,
        "address_key",
        "address_key",
        li,
        ri,
        where(ad_both & ~ad_eq),
        fuzz.token_set_ratio,
        repeats=True,
    )
    a_sim[ad_eq] = 100.0
    # the house number and the street apart: "12 grylls cres" ~ "12 gryllscrescent"
    st_both, st_eq = code_eq("street_key")
    st_close = st_eq | (
        _psim(rows, "street_key", "street_key", li, ri, where(st_both & ~st_eq), JW, repeats=True)
        >= 0.92
    )
    _, no_eq = code_eq("street_number")
    a_same = (a_sim >= 90) | (no_eq & st_close)
    a_similar = a_same | (a_sim >= 70) | st_close
    area = pc_eq | ct_eq
    area_both = pc_eq & ct_eq
    anything = pc_both | ct_both | ad_both
    lv["location"] = np.select(
        [
            ~anything,
            a_same & area_both,
            a_same & area,
            a_similar & area,
            a_same,
            area_both,
            area,
        ],
        [-1, LOC_SAME_BOTH, LOC_SAME, LOC_SIMILAR, LOC_ADDRESS, LOC_AREA_BOTH, LOC_AREA],
        LOC_DIFFER,
    ).astype(np.int8)

    g_both, g_eq = code_eq("gender")
    lv["gender"] = np.select([~g_both, g_eq], [-1, 1], 0).astype(np.int8)

    nan = np.full(len(rid_l), np.nan)
    tf_name, tf_name_avg = term_frequency(feat, "name_key", rid_l) if tf else (nan, np.nan)
    tf_py, tf_py_avg = term_frequency(feat, "pinyin_key", rid_l) if tf else (nan, np.nan)
    return Comparison(
        rid_l=rid_l,
        rid_r=rid_r,
        levels=lv,
        name_sim=np.where(has, sim, np.nan).astype(np.float32),
        name_partial=partial & has,
        tf_name=tf_name,
        tf_pinyin=tf_py,
        tf_name_avg=tf_name_avg,
        tf_pinyin_avg=tf_py_avg,
        email_guarded=e_guard,
        phone_guarded=p_guard,
    )
