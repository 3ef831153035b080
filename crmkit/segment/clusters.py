"""k-means clusters on log-scaled, standardised customer features, described in words.

Features are transformed with `sign(x)·log1p(|x|)` (so heavy-tailed money and counts do not
dominate) and standardised to mean 0, sd 1. k is chosen by the silhouette score over
`k_min..k_max` when not given; above `silhouette_sample` customers the silhouette is computed on
a seeded random sample of that size, and above `selection_sample` the candidate k are fitted on a
seeded sample of that size before the chosen k is fitted on everyone (both said in the notes).
The same seed gives the same clusters; clusters are numbered by a value order (most recent,
frequent, high-spending first).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from crmkit.errors import DataError, UsageError

WORDS = {
    "recency_days": (("recent", "近期购买"), ("lapsed", "久未购买")),  # low days = recent
    "frequency": (("frequent", "高频"), ("infrequent", "低频")),
    "monetary": (("high spend", "高消费"), ("low spend", "低消费")),
}
GOOD_WHEN_LOW = {"recency_days"}


@dataclass(frozen=True)
class ClusterOptions:
    """k (None = by silhouette), the k range, features, seed and silhouette sample size."""

    k: int | None = None
    k_min: int = 2
    k_max: int = 8
    features: tuple[str, ...] = ("recency_days", "frequency", "monetary")
    seed: int = 0
    silhouette_sample: int = 20_000
    selection_sample: int = 200_000  # above this, k is chosen on a sample, then fitted on all
    n_init: int = 4  # for the final fit; candidate k are fitted with `selection_n_init`
    selection_n_init: int = 2
    threshold: float = 0.5  # |standardised centroid| above this is "high"/"low"


@dataclass
class ClusterFit:
    """What the clustering found: chosen k, silhouettes tried, centroids, notes."""

    k: int
    silhouettes: dict[int, float] = field(default_factory=dict)
    centroids: pl.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


def _transform(df: pl.DataFrame, features: tuple[str, ...]) -> np.ndarray:
    x = df.select(pl.col(f).cast(pl.Float64).fill_null(0.0) for f in features).to_numpy()
    x = np.sign(x) * np.log1p(np.abs(x))
    mean, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    return (x - mean) / sd


def describe(z: dict[str, float], threshold: float, lang: str = "en") -> str:
    """Words for a standardised centroid: `recent, frequent, high spend` (average if none)."""
    i = 1 if lang == "zh" else 0
    words = []
    for f, v in z.items():
        if abs(v) <= threshold:
            continue
        good = (v < 0) if f in GOOD_WHEN_LOW else (v > 0)
        if f in WORDS:
            words.append(WORDS[f][0 if good else 1][i])
        else:
            words.append(
                f"{'高' if v > 0 else '低'}{f}" if i else f"{'high' if v > 0 else 'low'} {f}"
            )
    if not words:
        return "平均水平" if i else "average"
    return ("、" if i else ", ").join(words)


def cluster_segments(
    facts: pl.DataFrame, opts: ClusterOptions
) -> tuple[pl.DataFrame, ClusterFit, pl.DataFrame]:
    """Cluster customers. Returns members (customer_key, cluster no., segment), the fit, and a
    catalog (segment, label_en/zh = words from the centroid, centroid in original units)."""
    from sklearn import config_context
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    missing = [f for f in opts.features if f not in facts.columns]
    if missing:
        raise UsageError(
            f"unknown feature(s) {', '.join(missing)}",
            hint=f"numeric columns available: {', '.join(_numeric(facts))}",
        )
    df = facts.sort("customer_key")
    n = df.height
    if n < max(opts.k_min, 2) + 1:
        raise DataError(f"only {n} customers: too few to cluster")
    x = _transform(df, opts.features)
    fit = ClusterFit(k=opts.k or 0)
    rng = np.random.default_rng(opts.seed)
    if opts.k is None:
        xs_fit = x
        if n > opts.selection_sample:
            pick = np.sort(rng.choice(n, opts.selection_sample, replace=False))
            xs_fit = x[pick]
            fit.notes.append(
                f"k chosen on a random sample of {opts.selection_sample:,} of {n:,} customers"
                f" (seed {opts.seed}); the chosen k is then fitted on all of them"
            )
        m = xs_fit.shape[0]
        sample = None
        if m > opts.silhouette_sample:
            sample = np.sort(rng.choice(m, opts.silhouette_sample, replace=False))
            fit.notes.append(
                f"silhouette computed on a random sample of {opts.silhouette_sample:,} of "
                f"{n:,} customers (seed {opts.seed})"
            )
        best: tuple[float, int] | None = None
        for k in range(opts.k_min, min(opts.k_max, n - 1) + 1):
            km = KMeans(n_clusters=k, n_init=opts.selection_n_init, random_state=opts.seed)
            labels = km.fit(xs_fit).labels_
            xs, ls = (xs_fit, labels) if sample is None else (xs_fit[sample], labels[sample])
            with config_context(working_memory=256):  # MB per distance chunk: bounds the RSS
                score = float(silhouette_score(xs, ls)) if len(set(ls.tolist())) > 1 else -1.0
            fit.silhouettes[k] = round(score, 4)
            if best is None or score > best[0] + 1e-12:
                best = (score, k)
        assert best is not None
        fit.k = best[1]
        km = KMeans(n_clusters=fit.k, n_init=opts.n_init, random_state=opts.seed).fit(x)
    else:
        if not 1 <= opts.k < n:
            raise UsageError(f"--k {opts.k} must be between 1 and the number of customers − 1")
        km = KMeans(n_clusters=opts.k, n_init=opts.n_init, random_state=opts.seed).fit(x)
        fit.k = opts.k
    centers = km.cluster_centers_
    # Order clusters by value: −recency + frequency + monetary (+ other features) on the z scale.
    sign = np.array([-1.0 if f in GOOD_WHEN_LOW else 1.0 for f in opts.features])
    order = np.lexsort((np.arange(fit.k), -(centers * sign).sum(axis=1)))
    renumber = np.empty(fit.k, dtype=np.int64)
    renumber[order] = np.arange(1, fit.k + 1)
    members = df.select("customer_key", *opts.features).with_columns(
        pl.Series("cluster", renumber[km.labels_], dtype=pl.Int64)
    )
    orig = (
        members.group_by("cluster")
        .agg(pl.col(f).cast(pl.Float64).mean().alias(f) for f in opts.features)
        .sort("cluster")
    )
    rows = []
    for new_no, old in enumerate(order, start=1):
        z = {f: float(centers[old][i]) for i, f in enumerate(opts.features)}
        rows.append(
            {
                "segment": f"cluster_{new_no}",
                "label_en": f"C{new_no}: {describe(z, opts.threshold, 'en')}",
                "label_zh": f"C{new_no}：{describe(z, opts.threshold, 'zh')}",
                "treatment_en": "",
                "treatment_zh": "",
                **{f"z_{f}": round(v, 4) for f, v in z.items()},
            }
        )
    catalog = pl.DataFrame(rows).with_columns(
        pl.col("segment").str.strip_prefix("cluster_").cast(pl.Int64).alias("cluster")
    )
    catalog = catalog.join(orig, on="cluster", how="left").drop("cluster")
    fit.centroids = catalog
    out = members.select(
        "customer_key",
        "cluster",
        pl.concat_str(pl.lit("cluster_"), pl.col("cluster").cast(pl.String)).alias("segment"),
    )
    return out, fit, catalog


def _numeric(df: pl.DataFrame) -> list[str]:
    return [c for c, t in df.schema.items() if t.is_numeric()]
