"""Readable if-then rules from a shallow decision tree that explains a segmentation or target.

Each leaf of the tree becomes one rule: the conditions on the path (merged per feature into
`a < x ≤ b`), the predicted segment, its support (customers in the leaf and their share) and
purity (share of the leaf's customers that really are in that segment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from crmkit.errors import DataError


@dataclass(frozen=True)
class TreeOptions:
    """Depth and minimum leaf size (as a share of customers) of the explaining tree."""

    max_depth: int = 3
    min_leaf_share: float = 0.01
    seed: int = 0


def _fmt(v: float) -> str:
    return f"{v:,.2f}".rstrip("0").rstrip(".")


def explain(
    frame: pl.DataFrame, target: str, features: list[str], opts: TreeOptions
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Fit the tree on `features` to predict `target` and return one rule per leaf.

    Rules are ordered by predicted segment, then by support (largest first). The settings give
    the depth, leaf size and the overall accuracy (share of customers the rules classify right).
    """
    from sklearn.tree import DecisionTreeClassifier

    df = frame.filter(pl.col(target).is_not_null()).sort("customer_key")
    n = df.height
    if n < 2 or df[target].n_unique() < 2:
        raise DataError(f"the tree needs at least two customers and two values of {target}")
    x = df.select(pl.col(f).cast(pl.Float64).fill_null(0.0) for f in features).to_numpy()
    y = df[target].cast(pl.String).to_numpy()
    min_leaf = max(1, int(np.ceil(opts.min_leaf_share * n)))
    tree = DecisionTreeClassifier(
        max_depth=opts.max_depth, min_samples_leaf=min_leaf, random_state=opts.seed
    ).fit(x, y)
    t = tree.tree_
    classes = tree.classes_
    leaf_of = tree.apply(x)
    rows = []
    stack: list[tuple[int, dict[str, list[float | None]]]] = [(0, {})]
    while stack:
        node, bounds = stack.pop()
        if t.children_left[node] == -1:
            members = leaf_of == node
            support = int(members.sum())
            values, counts = np.unique(y[members], return_counts=True)
            top = int(np.lexsort((values, -counts))[0])
            rows.append(
                {
                    "rule": _conditions(bounds) or "all customers",
                    "segment": str(values[top]),
                    "customers": support,
                    "support": round(support / n, 4),
                    "purity": round(int(counts[top]) / support, 4),
                }
            )
            continue
        f, thr = features[t.feature[node]], float(t.threshold[node])
        lo, hi = bounds.get(f, [None, None])
        left = {**bounds, f: [lo, thr if hi is None else min(hi, thr)]}
        right = {**bounds, f: [thr if lo is None else max(lo, thr), hi]}
        stack.append((int(t.children_right[node]), right))
        stack.append((int(t.children_left[node]), left))
    rules = pl.DataFrame(rows).sort(
        ["segment", "customers", "rule"], descending=[False, True, False]
    )
    accuracy = float((tree.predict(x) == y).mean())
    settings = {
        "target": target,
        "features": features,
        "max_depth": opts.max_depth,
        "min_leaf": min_leaf,
        "accuracy": round(accuracy, 4),
        "classes": [str(c) for c in classes],
        "cut_points": [
            f"decision tree: depth ≤ {opts.max_depth}, leaves ≥ {min_leaf} customers; "
            f"the rules classify {accuracy:.1%} of customers correctly"
        ],
    }
    return rules, settings


def _conditions(bounds: dict[str, list[float | None]]) -> str:
    parts = []
    for f, (lo, hi) in bounds.items():
        if lo is not None and hi is not None:
            parts.append(f"{_fmt(lo)} < {f} ≤ {_fmt(hi)}")
        elif lo is not None:
            parts.append(f"{f} > {_fmt(lo)}")
        elif hi is not None:
            parts.append(f"{f} ≤ {_fmt(hi)}")
    return "if " + " and ".join(parts) if parts else ""
