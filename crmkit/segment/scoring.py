"""Scores 1..n from values: by value quantiles (ties always share a score) or fixed thresholds.

Both methods reduce to a list of ascending cut points c1 < … and the rule
`score = 1 + #(cuts strictly below the value)`, i.e. bins are right-closed:
value ≤ c1 → 1, c1 < value ≤ c2 → 2, …, value > c_last → n. Because a score depends only on
the value, equal values always get the same score (never split by row order). For recency,
where fewer days is better, the score is reversed (`n + 1 − …`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from crmkit.errors import ConfigError

Method = Literal["quantiles", "thresholds"]

# Fixed frequency thresholds (upper bounds of scores 1..n-1), the default for F.
DEFAULT_F_THRESHOLDS = {5: [1, 2, 3, 5], 3: [1, 3]}


@dataclass(frozen=True)
class ScoreSpec:
    """How one dimension is scored: method, number of scores and (for thresholds) the cuts."""

    method: Method = "quantiles"
    thresholds: tuple[float, ...] = ()
    reverse: bool = False  # True for recency: fewer days → higher score

    @staticmethod
    def from_config(raw: Any, *, n: int, default: ScoreSpec, name: str) -> ScoreSpec:
        """Read `quantiles`, a list of thresholds, or {method, thresholds} from the config."""
        if raw is None:
            spec = default
        elif raw == "quantiles":
            spec = ScoreSpec("quantiles", (), default.reverse)
        elif isinstance(raw, list):
            spec = ScoreSpec("thresholds", tuple(float(x) for x in raw), default.reverse)
        elif isinstance(raw, dict) and raw.get("method") in ("quantiles", "thresholds"):
            cuts = tuple(float(x) for x in raw.get("thresholds") or ())
            spec = ScoreSpec(raw["method"], cuts, default.reverse)
        else:
            raise ConfigError(
                f"segment.rfm.{name}: expected `quantiles` or a list of {n - 1} thresholds",
                hint="e.g. frequency: [1, 2, 3, 5]",
            )
        if spec.method == "thresholds":
            cuts = list(spec.thresholds)
            if len(cuts) != n - 1 or cuts != sorted(set(cuts)):
                raise ConfigError(
                    f"segment.rfm.{name}: {n} scores need {n - 1} strictly ascending thresholds,"
                    f" got {cuts}"
                )
        return spec


@dataclass(frozen=True)
class Cuts:
    """The cut points used for one dimension, for printing and for scoring."""

    name: str
    method: Method
    cuts: tuple[float, ...]
    reverse: bool = False
    notes: list[str] = field(default_factory=list)

    def bands(self) -> list[tuple[int, float | None, float | None]]:
        """(score, lower exclusive, upper inclusive) per used score; None = unbounded."""
        n = len(self.cuts) + 1
        edges: list[float | None] = [None, *self.cuts, None]
        out = []
        for b in range(n):  # b = number of cuts strictly below the value
            lo, hi = edges[b], edges[b + 1]
            if lo is not None and hi is not None and lo >= hi:
                continue  # coinciding quantiles: no value falls here
            out.append((n - b if self.reverse else b + 1, lo, hi))
        return sorted(out)

    def describe(self) -> str:
        """`R (quantiles): 5 ≤3 · 4 (3, 10] · …` — printed with every result."""
        parts = []
        for score, lo, hi in self.bands():
            if lo is None and hi is None:
                rng = "all"
            elif lo is None:
                rng = f"≤{_num(hi)}"
            elif hi is None:
                rng = f">{_num(lo)}"
            else:
                rng = f"({_num(lo)}, {_num(hi)}]"
            parts.append(f"{score}: {rng}")
        return f"{self.name} by {self.method}: " + " · ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (cuts and the value range of each score)."""
        return {
            "dimension": self.name,
            "method": self.method,
            "cuts": list(self.cuts),
            "bands": [{"score": s, "above": lo, "up_to": hi} for s, lo, hi in self.bands()],
        }


def _num(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e6 else f"{x:.0f}"


def quantile_cuts(values: pl.Series, n: int) -> tuple[float, ...]:
    """The i/n value quantiles, i = 1..n−1 (linear interpolation at position (N−1)·q, like
    numpy's default), rounded to 6 decimals. Duplicates are kept: with heavy ties several cuts
    coincide and the scores between them are simply not used, so equal values share a score."""
    v = values.cast(pl.Float64).drop_nulls()
    if v.len() == 0:
        return ()
    return tuple(round(float(v.quantile(i / n, interpolation="linear")), 6) for i in range(1, n))


def compute_cuts(values: pl.Series, n: int, spec: ScoreSpec, name: str) -> Cuts:
    """Cut points for one dimension: the value quantiles, or the configured thresholds."""
    if spec.method == "thresholds":
        return Cuts(name, "thresholds", tuple(spec.thresholds), spec.reverse)
    cuts = quantile_cuts(values, n)
    notes = []
    if len(set(cuts)) < len(cuts):
        notes.append(f"{name}: tied values make some quantiles coincide; those scores are unused")
    return Cuts(name, "quantiles", cuts, spec.reverse, notes)


def score_expr(col: str, cuts: Cuts, n: int, alias: str) -> pl.Expr:
    """`1 + #(cuts strictly below the value)`; for recency `n − #(…)`. Int8 result.

    With no values at all (no cuts) every score is the middle one.
    """
    if not cuts.cuts:
        return pl.lit((n + 1) // 2, dtype=pl.Int8).alias(alias)
    x = pl.col(col).cast(pl.Float64)
    above = pl.sum_horizontal([(x > c).cast(pl.Int8) for c in cuts.cuts])
    score = (n - above) if cuts.reverse else (above + 1)
    return score.cast(pl.Int8).alias(alias)
