"""Blocking: an incremental run builds exactly the candidate pairs of a full run that involve a
new record (when no block is over its cap)."""

from __future__ import annotations

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
    first key (in configured order) that pairs them; counted per key."""
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
            if key is not None:
                blocks[key].append(rid)
        skipped[name] = sum(len(b) > cap for b in blocks.values())
        found = [p for b in blocks.values() if len(b) <= cap for p in combinations(sorted(b), 2)]
        per_key[name] = len(found)
        for p in found:
            expected.setdefault(p, name)
    pairs, stats = candidate_pairs(feat, s)
    assert sum(skipped.values()) > 0  # the small cap is in play
    got = {(a, b): k for a, b, k in pairs.iter_rows()}
    assert got == expected
    assert pairs.select("rid_l", "rid_r").rows() == sorted(expected)
    assert dict(stats.select("key", "pairs").iter_rows()) == per_key
    assert dict(stats.select("key", "skipped_blocks").iter_rows()) == skipped
