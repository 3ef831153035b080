"""Blocking: an incremental run builds exactly the candidate pairs of a full run that involve a
new record (when no block is over its cap)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from itertools import combinations

import numpy as np
import polars as pl

from crmkit.identity import guards
from crmkit.identity.blocking import CONTACT_KEYS, KEYS, candidate_pairs
from crmkit.identity.features import prepare
from crmkit.identity.settings import identity_settings

from .febrl import as_records, febrl_records


def test_incremental_pairs_are_the_full_pairs_of_new_records() -> None:
    s = identity_settings({})
    feat = prepare(as_records(febrl_records("febrl3")[0]), s)
    feat = guards.apply_guards(feat, guards.guarded_values(feat, s))
    full, full_stats = candidate_pairs(feat, s)
    assert full_stats["skipped_blocks"].sum() == 0  # no cap in play: the sets must agree
    new = pl.Series(np.arange(0, feat.height, 7), dtype=pl.Int64)
    inc, _ = candidate_pairs(feat, s, new=new)
    is_new = pl.col("rid_l").is_in(new.implode()) | pl.col("rid_r").is_in(new.implode())
    expected = full.filter(is_new)
    assert inc.height > 100
    assert inc.rows() == expected.rows()  # same pairs, same order, same first blocking key


def test_pairs_match_a_plain_python_blocking() -> None:
    """Every pair of records that share a key value in a block within its cap, named by the
    first key (in configured order) that pairs them; counted per key (a pair in two blocks of
    one key once)."""
    s = identity_settings({"blocking": {"max_block_size": 3}})
    feat = prepare(as_records(febrl_records("febrl3")[0]), s)
    feat = guards.apply_guards(feat, guards.guarded_values(feat, s))
    expected: dict[tuple[int, int], str] = {}
    per_key: dict[str, int] = {}
    skipped: dict[str, int] = {}
    for name in s["blocking"]["keys"]:
        cap = s["blocking"]["max_contact_block_size" if name in CONTACT_KEYS else "max_block_size"]
        blocks: dict[str, list[int]] = defaultdict(list)
        for rid, key in feat.select("rid", key=KEYS[name]).iter_rows():
            # a key may give a record several values (either name part): one block each
            for k in set(key if isinstance(key, list) else [key]):
                if k is not None:
                    blocks[k].append(rid)
        skipped[name] = sum(len(b) > cap for b in blocks.values())
        found = [p for b in blocks.values() if len(b) <= cap for p in combinations(sorted(b), 2)]
        per_key[name] = len(set(found))
        for p in found:
            expected.setdefault(p, name)
    pairs, stats = candidate_pairs(feat, s)
    assert sum(skipped.values()) > 0  # the small cap is in play
    got = {(a, b): k for a, b, k in pairs.iter_rows()}
    assert got == expected
    assert pairs.select("rid_l", "rid_r").rows() == sorted(expected)
    assert dict(stats.select("key", "pairs").iter_rows()) == per_key
    assert dict(stats.select("key", "skipped_blocks").iter_rows()) == skipped


def test_either_name_part_and_the_street_bring_typos_and_swaps_together() -> None:
    """Pairs that no exact name key finds: given name and surname the other way round with a
    typo (walsh sounds like walsh: W420), one house on one street with different names, and a
    record that gives only a surname."""
    from .conftest import records

    s = identity_settings({})
    born = dt.date(1980, 1, 2)
    rows = [
        {"id": "a", "first_name": "Catherine", "last_name": "Walsh", "birth_date": born},
        {"id": "b", "first_name": "Walsh", "last_name": "Katherine", "birth_date": born},
        {"id": "c", "first_name": "Tom", "last_name": "Lee", "address_line": "12 Grylls Cres"},
        {"id": "d", "first_name": "Tim", "last_name": "Leigh", "address_line": "12 Grylls St"},
        # only a surname on one side: smyth sounds like smith (S530)
        {"id": "e", "last_name": "Smyth", "birth_date": born},
        {"id": "f", "first_name": "John", "last_name": "Smith", "birth_date": born},
    ]
    feat = prepare(records(rows), s)
    feat = guards.apply_guards(feat, guards.guarded_values(feat, s))
    pairs, _ = candidate_pairs(feat, s)
    assert pairs.rows() == [
        (0, 1, "phonetic_birth"),
        (2, 3, "number_street"),
        (4, 5, "phonetic_birth"),
    ]
