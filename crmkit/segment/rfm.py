"""RFM: score recency, frequency and monetary value 1..n and map the cells to segments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crmkit.segment.maps import SegmentMap
from crmkit.segment.scoring import DEFAULT_F_THRESHOLDS, Cuts, ScoreSpec, compute_cuts, score_expr

_COLUMNS = {"r": "recency_days", "f": "frequency", "m": "monetary"}


@dataclass(frozen=True)
class RfmOptions:
    """RFM settings: the score scale, how each dimension is scored, and the segment map."""

    segment_map: SegmentMap
    scores: int = 5
    recency: ScoreSpec = field(default_factory=lambda: ScoreSpec("quantiles", (), True))
    frequency: ScoreSpec | None = None  # None → fixed thresholds DEFAULT_F_THRESHOLDS[scores]
    monetary: ScoreSpec = field(default_factory=ScoreSpec)

    def spec(self, dim: str) -> ScoreSpec:
        if dim == "r":
            return ScoreSpec(self.recency.method, self.recency.thresholds, True)
        if dim == "f":
            return self.frequency or ScoreSpec(
                "thresholds", tuple(float(x) for x in DEFAULT_F_THRESHOLDS[self.scores])
            )
        return self.monetary


def rfm_segments(facts: pl.DataFrame, opts: RfmOptions) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Score customers with a purchase in the window and assign their map segment.

    `facts` comes from `customer_facts` (collected); rows with `in_window = False` are skipped.
    Returns the members (customer_key, recency_days, frequency, monetary, r/f/m scores, `rfm`
    code, `*_level` for mean-split maps, segment) sorted by key, and the settings used.
    """
    m = opts.segment_map
    if m.kind == "scores" and m.scores != opts.scores:
        from crmkit.errors import ConfigError

        raise ConfigError(
            f"segment map {m.name} is defined for scores 1–{m.scores}, not 1–{opts.scores}",
            hint="pass --scores to match the map, or use a map for this scale (rfm10: 5, rfm3: 3)",
        )
    scored = facts.filter(pl.col("in_window")) if "in_window" in facts.columns else facts
    cuts: dict[str, Cuts] = {}
    for dim, col in _COLUMNS.items():
        cuts[dim] = compute_cuts(scored[col], opts.scores, opts.spec(dim), dim.upper())
    out = scored.select(
        "customer_key",
        "recency_days",
        "frequency",
        "monetary",
        *(score_expr(col, cuts[d], opts.scores, f"{d}_score") for d, col in _COLUMNS.items()),
    ).with_columns(
        pl.concat_str([pl.col(f"{d}_score").cast(pl.String) for d in _COLUMNS], separator="").alias(
            "rfm"
        )
    )
    settings: dict[str, Any] = {
        "scores": opts.scores,
        "map": m.name,
        "cuts": [c.as_dict() for c in cuts.values()],
        "cut_points": [c.describe() for c in cuts.values()],
    }
    notes = [n for c in cuts.values() for n in c.notes]
    if m.kind == "mean_split":
        means = {d: _mean(out[col]) for d, col in _COLUMNS.items()}
        out = out.with_columns(
            pl.when(pl.col("recency_days").cast(pl.Float64) < means["r"])
            .then(pl.lit("H"))
            .otherwise(pl.lit("L"))
            .alias("r_level"),
            *(
                pl.when(pl.col(_COLUMNS[d]).cast(pl.Float64) > means[d])
                .then(pl.lit("H"))
                .otherwise(pl.lit("L"))
                .alias(f"{d}_level")
                for d in ("f", "m")
            ),
        )
        settings["means"] = {_COLUMNS[d]: v for d, v in means.items()}
        settings["cut_points"].append(
            "H/L against the mean: "
            f"R high if recency_days < {means['r']:.4g}, F high if frequency > {means['f']:.4g},"
            f" M high if monetary > {means['m']:.4g} (equal to the mean = low)"
        )
    out = out.join(m.cells, on=m.join_columns, how="left").sort("customer_key")
    settings["notes"] = notes
    return out, settings


def _mean(s: pl.Series) -> float:
    value = s.cast(pl.Float64).mean()
    return float(value) if value is not None else 0.0
