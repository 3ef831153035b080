"""k-means clusters (reproducible, k by silhouette, words) and tree rules (support, purity)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crmkit.segment.clusters import ClusterOptions, cluster_segments, describe
from crmkit.segment.rules import TreeOptions, explain


def _blobs(n_per: int = 60, seed: int = 3) -> pl.DataFrame:
    """Three well-separated groups on the log scale: recent/frequent/high, mid, lapsed/low."""
    rng = np.random.default_rng(seed)
    groups = [(5, 20, 5000), (60, 4, 300), (400, 1, 20)]
    parts = []
    for g, (r, f, m) in enumerate(groups):
        parts.append(
            pl.DataFrame(
                {
                    "customer_key": [f"G{g}-{i:03d}" for i in range(n_per)],
                    "recency_days": (r * np.exp(rng.normal(0, 0.1, n_per))).round(),
                    "frequency": np.maximum(1, (f * np.exp(rng.normal(0, 0.1, n_per))).round()),
                    "monetary": m * np.exp(rng.normal(0, 0.1, n_per)),
                }
            )
        )
    return pl.concat(parts)


def test_k_by_silhouette_finds_the_groups_and_words() -> None:
    members, fit, catalog = cluster_segments(_blobs(), ClusterOptions(seed=1))
    assert fit.k == 3
    assert set(fit.silhouettes) == set(range(2, 9))
    # each blob is one cluster
    grouped = members.with_columns(pl.col("customer_key").str.slice(0, 2).alias("g"))
    assert grouped.group_by("g").agg(pl.col("cluster").n_unique())["cluster"].to_list() == [1] * 3
    assert catalog["label_en"][0] == "C1: recent, frequent, high spend"
    assert catalog["label_en"][2] == "C3: lapsed, infrequent, low spend"
    assert catalog["label_zh"][0] == "C1：近期购买、高频、高消费"


def test_same_seed_same_clusters_regardless_of_row_order() -> None:
    df = _blobs()
    a = cluster_segments(df, ClusterOptions(seed=5, k=4))[0]
    b = cluster_segments(df.reverse(), ClusterOptions(seed=5, k=4))[0]
    assert_frame_equal(a, b)


def test_silhouette_sample_is_reported() -> None:
    _, fit, _ = cluster_segments(_blobs(), ClusterOptions(silhouette_sample=50, k_max=3))
    assert any("sample of 50 of 180" in n for n in fit.notes)


def test_describe_average_and_other_features() -> None:
    assert describe({"recency_days": 0.1, "frequency": -0.2}, 0.5) == "average"
    assert describe({"nps": 1.2}, 0.5) == "high nps"


def test_tree_rules_with_support_and_purity() -> None:
    # segment = "repeat" exactly when frequency ≥ 2; 7 of 10 are one-off buyers.
    df = pl.DataFrame(
        {
            "customer_key": [f"K{i}" for i in range(10)],
            "frequency": [1, 1, 1, 1, 1, 1, 1, 2, 3, 5],
            "recency_days": [5, 50, 500, 7, 70, 700, 9, 90, 900, 1],
        }
    ).with_columns(
        pl.when(pl.col("frequency") >= 2)
        .then(pl.lit("repeat"))
        .otherwise(pl.lit("one_off"))
        .alias("segment")
    )
    rules, settings = explain(df, "segment", ["frequency", "recency_days"], TreeOptions())
    assert rules.to_dicts() == [
        {
            "rule": "if frequency ≤ 1.5",
            "segment": "one_off",
            "customers": 7,
            "support": 0.7,
            "purity": 1.0,
        },
        {
            "rule": "if frequency > 1.5",
            "segment": "repeat",
            "customers": 3,
            "support": 0.3,
            "purity": 1.0,
        },
    ]
    assert settings["accuracy"] == 1.0


def test_tree_needs_two_classes() -> None:
    from crmkit.errors import DataError

    df = pl.DataFrame({"customer_key": ["a", "b"], "x": [1, 2], "segment": ["s", "s"]})
    with pytest.raises(DataError):
        explain(df, "segment", ["x"], TreeOptions())
