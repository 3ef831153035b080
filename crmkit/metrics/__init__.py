"""Customer metrics: a registry of declared metrics computed as shared lazy polars queries.

`compute(ws, period=..., by=..., compare=..., metrics=..., as_of=...)` backs
`Workspace.metrics(...)`; `compute_tables(tables, config, period, ...)` works from in-memory
frames; `explain(...)` traces one metric to its inputs and settings. See docs/metrics.md.
"""

from __future__ import annotations

from crmkit.metrics.engine import (
    MetricsResult,
    compute,
    compute_result,
    compute_results,
    compute_tables,
    workspace_result,
)
from crmkit.metrics.explain import Explanation, explain, explain_tables
from crmkit.metrics.registry import REGISTRY, Metric, Unavailable, load

load()

__all__ = [
    "REGISTRY",
    "Explanation",
    "Metric",
    "MetricsResult",
    "Unavailable",
    "compute",
    "compute_result",
    "compute_results",
    "compute_tables",
    "explain",
    "explain_tables",
    "load",
    "workspace_result",
]
