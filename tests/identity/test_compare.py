"""Field comparisons: the vectorised shortcuts agree with the string library they replace, and
each agreement level is given where a hand-worked example says it should be."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from rapidfuzz.distance import OSA, Levenshtein

from crmkit.identity import guards
from crmkit.identity.arrays import unique
from crmkit.identity.compare import (
    BIRTH_DIFFER,
    BIRTH_PARTS,
    BIRTH_SAME,
    BIRTH_TRANSPOSED,
    BIRTH_TYPO,
    FIELDS,
    LEVELS,
    LOC_ADDRESS,
    LOC_AREA,
    LOC_AREA_BOTH,
    LOC_DIFFER,
    LOC_SAME,
    LOC_SAME_BOTH,
    NAME_CLOSE,
    NAME_DIFFER,
    NAME_GIVEN,
    NAME_PART,
    NAME_SAME,
    NAME_SURNAME,
    Comparison,
    _digits_differ,
    _edit1,
    _Rows,
    compare,
)
from crmkit.identity.features import prepare
from crmkit.identity.model import FSModel, fit, u_from
from crmkit.identity.settings import identity_settings

from .conftest import records

PAIRS = [
    ("+8613800138000", "+8613800138000"),  # equal
    ("+8613800138000", "+8613800138001"),  # one digit differs
    ("+8613800138000", "+8613800138011"),  # two differ
    ("+8613800138000", "+861380013800"),  # one digit dropped at the end
    ("+8613800138000", "+863800138000"),  # ... in the middle
    ("+8613800138000", "+8613800138000 "),  # not a digit string: the library decides
    ("+8613800138000", "8613800138000"),  # "+" on one side only: one edit
    ("200040", "200041"),
    ("200040", "0200040"),  # a leading zero added
    ("200040", "20040"),
    ("200040", "2000400"),
    ("200040", "204000"),  # two substitutions
    ("SW1A1AA", "SW1A1AB"),  # letters: the library decides
    ("SW1A1AA", "SW1A1A"),
    ("", "1"),
    ("1", "12"),
    ("12", "21"),  # a swap is two edits
]


def test_edit1_agrees_with_levenshtein() -> None:
    values = pl.Series("v", [v for pair in PAIRS for v in pair])
    rows = _Rows(pl.DataFrame({"v": values}))
    li = np.arange(0, 2 * len(PAIRS), 2)
    ri = li + 1
    got = _edit1(rows, "v", li, ri, np.arange(len(PAIRS)))
    expected = [Levenshtein.distance(a, b) <= 1 for a, b in PAIRS]
    assert got.tolist() == expected
    # written out by hand for the first few
    assert expected[:5] == [True, True, False, True, True]


def test_edit1_leaves_pairs_outside_the_index_false() -> None:
    rows = _Rows(pl.DataFrame({"v": ["1", "1", "2", "2"]}))
    got = _edit1(rows, "v", np.array([0, 2]), np.array([1, 3]), np.array([1]))
    assert got.tolist() == [False, True]


def test_digits_differ_counts_positions() -> None:
    a = np.array([19900115, 19900115, 19900115])
    b = np.array([19900115, 19910115, 19000116])
    assert _digits_differ(a, b).tolist() == [0, 1, 2]


def test_unique_is_sorted_and_distinct() -> None:
    a = np.array([5, 3, 5, 1, 3], dtype=np.uint64)
    assert unique(a).tolist() == [1, 3, 5]
    assert unique(np.array([], dtype=np.int64)).tolist() == []


# ---------------------------------------------------------------- agreement levels, by hand


def _levels(a: dict, b: dict) -> dict[str, int]:
    """Agreement levels of one pair of records (ids "a" < "b", so rid 0 and 1)."""
    s = identity_settings({})
    feat = prepare(records([{"id": "a", **a}, {"id": "b", **b}]), s)
    feat = guards.apply_guards(feat, guards.guarded_values(feat, s))
    cmp = compare(feat, pl.DataFrame({"rid_l": [0], "rid_r": [1]}))
    return {f: int(v[0]) for f, v in cmp.levels.items()}


def _name(a: tuple[str | None, str], b: tuple[str | None, str]) -> int:
    return _levels(
        {"first_name": a[0], "last_name": a[1]}, {"first_name": b[0], "last_name": b[1]}
    )["name"]


def test_swapped_first_and_last_names_are_recognised() -> None:
    # the same words: the name key sorts them
    assert _name(("Catherine", "Walsh"), ("Walsh", "Catherine")) == NAME_SAME
    # swapped and a typo: compared the other way round, walsh = walsh and
    # JW(catherine, katherine) = (8/9 + 8/9 + 8/8) / 3 = 0.926 (no common prefix), so the two
    # parts average 0.963 ≥ 0.92; straight they would average far less
    assert _name(("Catherine", "Walsh"), ("Walsh", "Katherine")) == NAME_CLOSE


def test_name_levels_part_by_part() -> None:
    # Zoe Xu ~ Zoe Berg: given names equal; JW(xu, berg) = 0 (no common letter), so straight
    # they average 0.5; swapped JW(zoe, berg) = (1/3 + 1/4 + 1) / 3 = 0.53 and JW(xu, zoe) = 0;
    # the sorted keys "xu zoe" ~ "berg zoe" share 4 letters: (4/6 + 4/8 + 1) / 3 = 0.72. All
    # below 0.80: not similar names, but the same given name.
    assert _name(("Zoe", "Xu"), ("Zoe", "Berg")) == NAME_GIVEN
    # Zoe Xu ~ Bob Xu: surnames equal; JW(zoe, bob) = (1/3 + 1/3 + 1) / 3 = 0.56, so straight
    # they average 0.78 < 0.80
    assert _name(("Zoe", "Xu"), ("Bob", "Xu")) == NAME_SURNAME
    # only a surname on one side, and it is the other's surname; JW("xu", "bartholomew xu") = 0
    # (no x or u within the match window)
    assert _name((None, "Xu"), ("Bartholomew", "Xu")) == NAME_PART
    # nothing in common
    assert _name(("Zoe", "Xu"), ("Bob", "Berg")) == NAME_DIFFER


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("1985-03-04", "1985-03-04", BIRTH_SAME),
        ("1985-03-04", "1985-04-03", BIRTH_TRANSPOSED),  # day and month swapped
        ("1985-03-04", "1985-03-14", BIRTH_TYPO),  # 19850304 ~ 19850314: one digit
        ("1985-03-04", "1958-03-04", BIRTH_PARTS),  # two digits of the year swapped
        ("1985-03-04", "1985-03-27", BIRTH_PARTS),  # year and month agree, the day does not
        ("1985-03-04", "1972-11-20", BIRTH_DIFFER),
        ("1985-03-04", None, -1),
    ],
)
def test_birth_date_levels(a: str, b: str | None, level: int) -> None:
    day = dt.date.fromisoformat
    got = _levels({"birth_date": day(a)}, {"birth_date": day(b) if b else None})["birth"]
    assert got == level


def _loc(a: tuple[str, str | None, str | None], b: tuple[str, str | None, str | None]) -> int:
    return _levels(
        {"address_line": a[0], "postcode": a[1], "city": a[2]},
        {"address_line": b[0], "postcode": b[1], "city": b[2]},
    )["location"]


def test_location_levels() -> None:
    home = ("12 Grylls Crescent", "3018", "Sydney")
    assert _loc(home, ("12 GryllsCrescent", "3018", "Sydney")) == LOC_SAME_BOTH
    # postcode digits swapped (3018 ~ 3081): one edit with swaps; the city is missing
    assert _loc(home, ("12 Grylls Cres", "3081", None)) == LOC_SAME
    # "12 gryls cres" ~ "12 grylls cres kioma park estate": token-set similarity only 70
    # (2 · 7 / (7 + 13) for "12 cres" against "12 cres gryls"), but the same house number on the
    # same street: JW(gryls, grylls) = (5/5 + 5/6 + 1) / 3 = 0.944, + 4 · 0.1 · 0.056 = 0.967
    assert _loc(home, ("12 Gryls Cres Kioma Park Estate", "3018", "Sydney")) == LOC_SAME_BOTH
    # the same address in another postcode (three digits differ) and city (JW 0)
    assert _loc(home, ("12 Grylls Crescent", "6789", "Perth")) == LOC_ADDRESS
    # another street in the same postcode and city, or in the same postcode only
    assert _loc(home, ("88 Ocean Rd", "3018", "Sydney")) == LOC_AREA_BOTH
    assert _loc(home, ("88 Ocean Rd", "3018", "Perth")) == LOC_AREA
    assert _loc(home, ("88 Ocean Rd", "6789", "Perth")) == LOC_DIFFER


def test_edit1_with_swaps_agrees_with_osa() -> None:
    values = pl.Series("v", [v for pair in PAIRS for v in pair])
    rows = _Rows(pl.DataFrame({"v": values}))
    li = np.arange(0, 2 * len(PAIRS), 2)
    got = _edit1(rows, "v", li, li + 1, np.arange(len(PAIRS)), swaps=True)
    assert got.tolist() == [OSA.distance(a, b) <= 1 for a, b in PAIRS]
    by_hand = [("3018", "3081"), ("3018", "3810"), ("3018", "3108"), ("12", "21")]
    rows = _Rows(pl.DataFrame({"v": [v for pair in by_hand for v in pair]}))
    li = np.arange(0, 2 * len(by_hand), 2)
    swapped = _edit1(rows, "v", li, li + 1, np.arange(len(by_hand)), swaps=True)
    # 3018 ~ 3810: the 0 and the 8 swapped, but they are not neighbours
    assert swapped.tolist() == [True, False, True, True]
    plain = _edit1(rows, "v", li, li + 1, np.arange(len(by_hand)))
    assert plain.tolist() == [False, False, False, False]  # a swap is two plain edits


# ------------------------------------------------------------------------------- the model


def _comparison(levels: dict[str, list[int]], tf: list[float], avg: float) -> Comparison:
    n = len(tf)
    full = {f: np.asarray(levels.get(f, [-1] * n), dtype=np.int8) for f in FIELDS}
    nan = np.full(n, np.nan)
    return Comparison(
        rid_l=np.arange(n),
        rid_r=np.arange(n) + n,
        levels=full,
        name_sim=nan,
        name_partial=np.zeros(n, dtype=bool),
        tf_name=np.asarray(tf),
        tf_pinyin=nan,
        tf_name_avg=avg,
        tf_pinyin_avg=float("nan"),
        email_guarded=np.zeros(n, dtype=bool),
        phone_guarded=np.zeros(n, dtype=bool),
    )


def test_exact_name_weight_follows_how_rare_the_name_is() -> None:
    m = {f: np.full(LEVELS[f], 1.0 / LEVELS[f]) for f in FIELDS}
    u = {f: np.full(LEVELS[f], 1.0 / LEVELS[f]) for f in FIELDS}
    m["name"] = np.full(LEVELS["name"], 0.01)
    m["name"][NAME_SAME] = 1 - 0.01 * (LEVELS["name"] - 1)  # 0.93
    u["name"] = np.full(LEVELS["name"], 0.125)
    model = FSModel(m=m, u=u, prior=0.5)
    base = np.log2(0.93 / 0.125)
    # half as common as the average shared name: one bit more; twice as common: one bit less;
    # a thousand times as common: at most 8 bits less
    cmp = _comparison({"name": [NAME_SAME] * 4}, [0.001, 0.004, 2.0, 0.002], avg=0.002)
    got = model.contributions(cmp)["name"]
    assert got == pytest.approx([base + 1, base - 1, base - 8, base])


def test_u_discounts_the_true_matches_among_random_pairs() -> None:
    # 1,000 random pairs of a file full of duplicates: 20 of them are the same person and agree
    # on name, birth date and address; the other 980 agree on nothing
    agree = {"name": NAME_SAME, "birth": BIRTH_SAME, "location": LOC_SAME_BOTH}
    rand = _comparison(
        {f: [lvl] * 20 + [0] * 980 for f, lvl in agree.items()}, [np.nan] * 1000, np.nan
    )
    cand = _comparison({f: [lvl] * 50 for f, lvl in agree.items()}, [np.nan] * 50, np.nan)
    s = identity_settings({})
    u = u_from(rand)
    # counted as non-matches: (20 + 1) / (1000 + 8) of the pairs share the name
    assert u["name"][NAME_SAME] == pytest.approx(21 / 1008)
    model = fit(cand, u, s, total_pairs=1e6, known_matches=None, random=rand)
    # weighted by their chance of being a non-match (≈ 0 for these 20): the smoothing alone
    assert model.u["name"][NAME_SAME] == pytest.approx(1 / 988, rel=0.01)
