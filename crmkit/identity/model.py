"""Fellegi–Sunter scoring: m and u per comparison level, EM for m, term-frequency adjustment.

u (agreement among non-matches) is measured on random record pairs; m (agreement among matches)
starts from the deterministic matches and is refined by EM on the candidate pairs, run on the
distinct agreement patterns (a few thousand) rather than on the pairs themselves. A pair's match
weight is the sum of log2(m/u) over its fields plus the prior log-odds; an exact name match is
weighted by how rare that name is (log2(average frequency / its frequency) added), so 王芳
counts for less than 欧阳娜娜.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from crmkit.identity.compare import (
    FIELDS,
    LEVELS,
    NAME_PINYIN,
    NAME_SAME,
    Comparison,
    compare,
)

DEFAULT_M: dict[str, list[float]] = {
    "name": [0.02, 0.02, 0.02, 0.02, 0.04, 0.10, 0.14, 0.64],
    "email": [0.10, 0.05, 0.85],
    "phone": [0.10, 0.05, 0.85],
    "birth": [0.04, 0.02, 0.03, 0.01, 0.90],
    "location": [0.08, 0.06, 0.06, 0.05, 0.15, 0.20, 0.40],
    "gender": [0.04, 0.96],
}
_EPS = 1e-6
# How far a name's frequency moves the weight of an exact name match (bits down / up).
TF_DOWN, TF_UP = 8.0, 4.0


@dataclass
class FSModel:
    """Fitted m and u per field level, the prior match probability and the weight clip."""

    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    prior: float
    max_weight: float = 16.0
    iterations: int = 0

    def weights(self) -> dict[str, np.ndarray]:
        """log2(m/u) per field level, clipped to ±max_weight."""
        return {
            f: np.clip(np.log2(self.m[f] / self.u[f]), -self.max_weight, self.max_weight)
            for f in FIELDS
        }

    def contributions(self, cmp: Comparison) -> dict[str, np.ndarray]:
        """Per-field weight of every pair (0 where the field is missing), with TF adjustment."""
        w = self.weights()
        out: dict[str, np.ndarray] = {}
        for f in FIELDS:
            lv = cmp.levels[f]
            table = np.append(w[f], 0.0)  # index -1 -> the appended 0
            out[f] = table[lv].astype(np.float64)
        lvn = cmp.levels["name"]
        for level, tf, avg in (
            (NAME_SAME, cmp.tf_name, cmp.tf_name_avg),
            (NAME_PINYIN, cmp.tf_pinyin, cmp.tf_pinyin_avg),
        ):
            # a name twice as rare as the average shared name is one bit more evidence
            with np.errstate(invalid="ignore", divide="ignore"):
                adj = np.clip(np.log2(avg / np.maximum(tf, _EPS)), -TF_DOWN, TF_UP)
            adj = np.where(np.isfinite(adj), adj, 0.0)
            out["name"] = np.where(lvn == level, out["name"] + adj, out["name"])
        return out

    def prior_weight(self) -> float:
        return float(np.log2(self.prior / (1 - self.prior)))

    def score(self, cmp: Comparison) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """(total match weight, match probability, per-field contributions) of every pair."""
        contrib = self.contributions(cmp)
        total = self.prior_weight() + np.sum(np.vstack(list(contrib.values())), axis=0)
        prob = 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))
        return total, prob, contrib

    def to_frame(self) -> pl.DataFrame:
        """m, u and weight of every field level (for the report and the docs)."""
        w = self.weights()
        rows = [
            (f, lvl, float(self.m[f][lvl]), float(self.u[f][lvl]), float(w[f][lvl]))
            for f in FIELDS
            for lvl in range(LEVELS[f])
        ]
        return pl.DataFrame(rows, schema=["field", "level", "m", "u", "weight"], orient="row")


def _level_freq(
    cmp: Comparison,
    mask: np.ndarray | None = None,
    smooth: float = 1.0,
    weights: np.ndarray | None = None,
) -> dict:
    out = {}
    for f in FIELDS:
        lv = cmp.levels[f] if mask is None else cmp.levels[f][mask]
        ok = lv >= 0
        w = None if weights is None else weights[ok]
        counts = np.bincount(lv[ok], weights=w, minlength=LEVELS[f]).astype(np.float64) + smooth
        out[f] = counts / counts.sum()
    return out


def random_pairs(feat: pl.DataFrame, settings: Mapping[str, Any]) -> Comparison | None:
    """Comparisons of `model.u_sample_pairs` random record pairs (seeded), for u."""
    n = feat.height
    cfg = settings["model"]
    if n < 2:
        return None
    size = int(min(cfg["u_sample_pairs"], n * (n - 1) // 2))
    rng = np.random.default_rng(cfg["seed"])
    a = rng.integers(0, n, size)
    b = rng.integers(0, n, size)
    keep = a != b
    pairs = pl.DataFrame({"rid_l": np.minimum(a, b)[keep], "rid_r": np.maximum(a, b)[keep]})
    return compare(feat, pairs, tf=False)


def u_from(rand: Comparison | None, nonmatch: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """u per level from random pairs, each counted with its weight in `nonmatch` (default 1),
    smoothed towards a floor of one pseudo-observation so unseen agreement is rare, not
    impossible."""
    if rand is None:
        return {f: np.full(LEVELS[f], 1.0 / LEVELS[f]) for f in FIELDS}
    return _level_freq(rand, smooth=1.0, weights=nonmatch)


def _encode(cmp: Comparison) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct agreement patterns, their counts, and the pattern index of every pair."""
    code = np.zeros(len(cmp), dtype=np.int64)
    for f in FIELDS:
        code = code * 16 + (cmp.levels[f].astype(np.int64) + 1)
    uniq, inverse, counts = np.unique(code, return_inverse=True, return_counts=True)
    pats = np.zeros((len(uniq), len(FIELDS)), dtype=np.int64)
    rest = uniq.copy()
    for j in range(len(FIELDS) - 1, -1, -1):
        pats[:, j] = rest % 16 - 1
        rest //= 16
    return pats, counts.astype(np.float64), inverse


def _loglik(pats: np.ndarray, probs: dict[str, np.ndarray]) -> np.ndarray:
    total = np.zeros(len(pats))
    for j, f in enumerate(FIELDS):
        lv = pats[:, j]
        table = np.append(np.log(probs[f]), 0.0)
        total += table[lv]
    return total


def fit(
    cmp: Comparison,
    u: dict[str, np.ndarray],
    settings: Mapping[str, Any],
    *,
    total_pairs: float,
    known_matches: np.ndarray | None = None,
    random: Comparison | None = None,
) -> FSModel:
    """Estimate m by EM on the candidate pairs; u for scoring stays the random-pair u.

    Candidate non-matches agree on their blocking key, so they do not look like random pairs:
    EM therefore fits its own non-match distribution (initialised from u) next to m. The prior
    for scoring is the share of *all* record pairs that match: the EM match share times the
    number of candidate pairs, over `total_pairs` (unless `model.prior` fixes it).
    """
    cfg = settings["model"]
    m = {f: np.asarray(DEFAULT_M[f], dtype=np.float64) for f in FIELDS}
    if known_matches is not None and known_matches.sum() >= 50:
        freq = _level_freq(cmp, known_matches, smooth=0.5)
        for f in FIELDS:
            if f not in ("email", "phone"):  # the rules select on these: biased there
                m[f] = freq[f]
    uc = {f: u[f].copy() for f in FIELDS}
    lam = 0.3
    iterations = 0
    if len(cmp) >= 20:
        pats, counts, _ = _encode(cmp)
        for step in range(1, int(cfg["em_iterations"]) + 1):
            iterations = step
            logit = np.log(lam) + _loglik(pats, m) - np.log1p(-lam) - _loglik(pats, uc)
            p = 1.0 / (1.0 + np.exp(-np.clip(logit, -50, 50)))
            new_m, new_u = {}, {}
            for j, f in enumerate(FIELDS):
                lv = pats[:, j]
                ok = lv >= 0
                cm = np.bincount(lv[ok], weights=(counts * p)[ok], minlength=LEVELS[f]) + 0.5
                cu = np.bincount(lv[ok], weights=(counts * (1 - p))[ok], minlength=LEVELS[f]) + 0.5
                new_m[f], new_u[f] = cm / cm.sum(), cu / cu.sum()
            lam = float(np.clip((counts * p).sum() / counts.sum(), 1e-6, 1 - 1e-6))
            delta = max(float(np.abs(new_m[f] - m[f]).max()) for f in FIELDS)
            m, uc = new_m, new_u
            if delta < 1e-5:
                break
    if cfg.get("prior") is not None:
        prior = float(cfg["prior"])
    else:
        prior = float(np.clip(lam * len(cmp) / max(total_pairs, 1.0), 1e-12, 0.5))
    model = FSModel(
        m=m, u=u, prior=prior, max_weight=float(cfg["max_weight"]), iterations=iterations
    )
    if random is not None and len(random):
        # Random pairs of a file with many duplicates hold true matches too (a person with five
        # records gives ten): counted as non-matches they make agreement look common and weigh
        # too little. Each random pair counts by its probability of being a non-match instead.
        for _ in range(3):
            w = model.weights()
            total = model.prior_weight() + sum(
                np.append(w[f], 0.0)[random.levels[f]] for f in FIELDS
            )
            nonmatch = 1.0 - 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))
            model.u = u_from(random, nonmatch)
    return model
