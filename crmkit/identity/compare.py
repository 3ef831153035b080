"""Field comparisons of candidate pairs as discrete agreement levels (vectorised, no pair loops).

Each field yields an int8 level per pair (-1 = missing on either side, 0 = disagree, higher =
closer agreement). String similarities come from `rapidfuzz.process.cpdist`, which scores the
aligned pairs of two arrays in C++ across all cores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import distance, fuzz, process

# Field -> number of agreement levels (level values 0..n-1; -1 = missing).
LEVELS: dict[str, int] = {
    "name": 5,  # 0 differ, 1 similar, 2 very similar, 3 same pinyin, 4 same name
    "email": 3,  # 0 differ, 1 same local part or near-identical, 2 same
    "phone": 3,  # 0 differ, 1 one digit off / same last 8 digits, 2 same
    "birth": 3,  # 0 differ, 1 one digit off or day/month swapped, 2 same
    # address line, postcode and city together (they are one piece of evidence, not three):
    # 0 differ, 1 same postcode or city only, 2 same address line in another postcode/city,
    # 3 similar address (token-set ≥ 70) in the same area, 4 same address in the same area
    "location": 5,
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
    tf_name: np.ndarray  # share of named records with the left record's exact name
    tf_pinyin: np.ndarray  # share of named records with the left record's pinyin key
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


def _psim(
    a: pl.Series,
    b: pl.Series,
    li: np.ndarray,
    ri: np.ndarray,
    idx: np.ndarray,
    scorer: object,
    dtype: type = np.float32,
    fill: float = 0,
) -> np.ndarray:
    """Score pairs `idx` of aligned records (a[li], b[ri]); the others get `fill`."""
    out = np.full(len(li), fill, dtype=dtype)
    if len(idx):
        out[idx] = process.cpdist(
            a.gather(li[idx]).fill_null("").to_list(),
            b.gather(ri[idx]).fill_null("").to_list(),
            scorer=scorer,
            workers=-1,
            dtype=dtype,
        )
    return out


def _tf(feat: pl.DataFrame, col: str) -> np.ndarray:
    """Per-record relative frequency of its value among records that have one."""
    named = feat[col].is_not_null().sum()
    counts = feat.select(pl.len().over(col).cast(pl.Float64) / max(int(named), 1)).to_series()
    return counts.fill_null(1.0).to_numpy()


JW = distance.JaroWinkler.normalized_similarity
LEV = distance.Levenshtein.distance


def compare(feat: pl.DataFrame, pairs: pl.DataFrame) -> Comparison:
    """Compare every candidate pair on every field; `feat` rows are indexed by `rid`.

    Equality runs on integer codes; string similarity is computed only for the pairs whose level
    it can still change (present on both sides and not already equal).
    """
    li = pairs["rid_l"].to_numpy()
    ri = pairs["rid_r"].to_numpy()
    lv: dict[str, np.ndarray] = {}
    col = feat.get_column

    def code_eq(name: str) -> tuple[np.ndarray, np.ndarray]:
        (c,) = _codes(col(name))
        both = (c[li] > 0) & (c[ri] > 0)
        return both, both & (c[li] == c[ri])

    def where(mask: np.ndarray) -> np.ndarray:
        return np.flatnonzero(mask)

    # names: exact, same pinyin, or the best of straight / swapped / sorted-token similarity
    has, same_name = code_eq("name_key")
    _, same_py = code_eq("pinyin_key")
    g, s, pk = col("given_py"), col("surname_py"), col("pinyin_key")
    gc, sc = _codes(g, s)
    need = where(has & ~same_name & ~same_py)
    straight = (_psim(g, g, li, ri, need, JW) + _psim(s, s, li, ri, need, JW)) / 2
    swapped = (_psim(g, s, li, ri, need, JW) + _psim(s, g, li, ri, need, JW)) / 2
    sim = np.maximum(np.maximum(straight, swapped), _psim(pk, pk, li, ri, need, JW))
    sim = np.where(same_name | same_py, 1.0, sim)
    # one side gives a single name part ("Tang") that is a part of the other's name (唐娜)
    gl, gr, sl, sr = gc[li], gc[ri], sc[li], sc[ri]
    partial = ((gl == 0) & (sl > 0) & ((sl == sr) | (sl == gr))) | (
        (gr == 0) & (sr > 0) & ((sr == sl) | (sr == gl))
    )
    lv["name"] = np.select(
        [~has, same_name, same_py, sim >= 0.92, (sim >= 0.80) | partial], [-1, 4, 3, 2, 1], 0
    ).astype(np.int8)

    # e-mail and phone, with guarded values treated as missing evidence
    e_both, e_eq = code_eq("email_key")
    ok_e = col("email_ok").to_numpy()
    (local,) = _codes(col("email_key").str.extract(r"^([^@]+)@", 1))
    em = col("email_key")
    e_near = (_psim(em, em, li, ri, where(e_both & ~e_eq), JW) >= 0.95) | (
        (local[li] == local[ri]) & (local[li] > 0)
    )
    e_ok = ok_e[li] & ok_e[ri]
    e_lvl = np.select([~e_both, e_eq, e_near], [-1, 2, 1], 0)
    e_guard = e_eq & ~e_ok
    lv["email"] = np.where(e_both & ~e_ok, -1, e_lvl).astype(np.int8)

    p_both, p_eq = code_eq("phone_key")
    ok_p = col("phone_ok").to_numpy()
    (tail,) = _codes(col("phone_key").str.slice(-8))
    ph = col("phone_key")
    p_near = (_psim(ph, ph, li, ri, where(p_both & ~p_eq), LEV, np.int32, 99) <= 1) | (
        (tail[li] == tail[ri]) & (tail[li] > 0)
    )
    p_ok = ok_p[li] & ok_p[ri]
    p_lvl = np.select([~p_both, p_eq, p_near], [-1, 2, 1], 0)
    p_guard = p_eq & ~p_ok
    lv["phone"] = np.where(p_both & ~p_ok, -1, p_lvl).astype(np.int8)

    # birth date: exact, one digit off, or day and month swapped
    bd = col("birth").dt.strftime("%Y%m%d")
    bd_c, sw_c = _codes(bd, col("birth").dt.strftime("%Y%d%m"))
    b_both = (bd_c[li] > 0) & (bd_c[ri] > 0)
    b_eq = b_both & (bd_c[li] == bd_c[ri])
    b_near = (_psim(bd, bd, li, ri, where(b_both & ~b_eq), LEV, np.int32, 99) <= 1) | (
        b_both & (sw_c[li] == bd_c[ri])
    )
    lv["birth"] = np.select([~b_both, b_eq, b_near], [-1, 2, 1], 0).astype(np.int8)

    # location: address line, postcode and city as one piece of evidence
    pc_both, pc_eq = code_eq("postcode_key")
    ct_both, ct_eq = code_eq("city_key")
    ad_both, _ = code_eq("address_key")
    pc, ct, ad = col("postcode_key"), col("city_key"), col("address_key")
    pc_eq = pc_eq | (_psim(pc, pc, li, ri, where(pc_both & ~pc_eq), LEV, np.int32, 99) <= 1)
    ct_eq = ct_eq | (_psim(ct, ct, li, ri, where(ct_both & ~ct_eq), JW) >= 0.92)
    a_sim = _psim(ad, ad, li, ri, where(ad_both), fuzz.token_set_ratio)
    area = pc_eq | ct_eq
    anything = pc_both | ct_both | ad_both
    lv["location"] = np.select(
        [~anything, (a_sim >= 90) & area, (a_sim >= 70) & area, a_sim >= 90, area],
        [-1, 4, 3, 2, 1],
        0,
    ).astype(np.int8)

    g_both, g_eq = code_eq("gender")
    lv["gender"] = np.select([~g_both, g_eq], [-1, 1], 0).astype(np.int8)

    return Comparison(
        rid_l=li,
        rid_r=ri,
        levels=lv,
        name_sim=np.where(has, sim, np.nan).astype(np.float32),
        name_partial=partial & has,
        tf_name=_tf(feat, "name_key")[li],
        tf_pinyin=_tf(feat, "pinyin_key")[li],
        email_guarded=e_guard,
        phone_guarded=p_guard,
    )
