"""Behaviour and voice-of-the-customer analyses: cohorts, buying cycle, baskets, paths,
survey scores and key drivers, feedback text. Each takes LazyFrames (plus options) and has a
thin `*_workspace(ws, ...)` wrapper; see docs/analysis.md.

The modules load on first use (`crmkit.analysis.cycle_workspace` imports only the cycle): the
survey analyses pull in scipy, which a report without survey data does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmkit.analysis.basket import (
        BasketLines,
        BasketResult,
        association_rules,
        basket_items,
        basket_lines,
        basket_workspace,
    )
    from crmkit.analysis.cohorts import (
        cohort_matrix,
        cohort_table,
        cohorts_workspace,
    )
    from crmkit.analysis.cycle import (
        CycleResult,
        cycle_workspace,
        gap_distribution,
        gap_histogram,
        gaps,
        next_orders,
        overdue_valuable,
    )
    from crmkit.analysis.drivers import (
        DriverResult,
        drivers_workspace,
        key_drivers,
        relative_weights,
    )
    from crmkit.analysis.feedback import (
        FeedbackResult,
        annotate,
        feedback_texts,
        feedback_workspace,
        sentiment_summary,
        theme_contrast,
        themes,
        tokenize,
    )
    from crmkit.analysis.paths import (
        customer_paths,
        path_counts,
        paths_workspace,
    )
    from crmkit.analysis.survey import (
        missing_report,
        ratings_wide,
        survey_scores,
        survey_workspace,
    )

_MODULES = {
    "BasketLines": "basket",
    "BasketResult": "basket",
    "association_rules": "basket",
    "basket_items": "basket",
    "basket_lines": "basket",
    "basket_workspace": "basket",
    "cohort_matrix": "cohorts",
    "cohort_table": "cohorts",
    "cohorts_workspace": "cohorts",
    "CycleResult": "cycle",
    "cycle_workspace": "cycle",
    "gap_distribution": "cycle",
    "gap_histogram": "cycle",
    "gaps": "cycle",
    "next_orders": "cycle",
    "overdue_valuable": "cycle",
    "DriverResult": "drivers",
    "drivers_workspace": "drivers",
    "key_drivers": "drivers",
    "relative_weights": "drivers",
    "FeedbackResult": "feedback",
    "annotate": "feedback",
    "feedback_texts": "feedback",
    "feedback_workspace": "feedback",
    "sentiment_summary": "feedback",
    "theme_contrast": "feedback",
    "themes": "feedback",
    "tokenize": "feedback",
    "customer_paths": "paths",
    "path_counts": "paths",
    "paths_workspace": "paths",
    "missing_report": "survey",
    "ratings_wide": "survey",
    "survey_scores": "survey",
    "survey_workspace": "survey",
}

__all__ = [
    "BasketLines",
    "BasketResult",
    "CycleResult",
    "DriverResult",
    "FeedbackResult",
    "annotate",
    "association_rules",
    "basket_items",
    "basket_lines",
    "basket_workspace",
    "cohort_matrix",
    "cohort_table",
    "cohorts_workspace",
    "customer_paths",
    "cycle_workspace",
    "drivers_workspace",
    "feedback_texts",
    "feedback_workspace",
    "gap_distribution",
    "gap_histogram",
    "gaps",
    "key_drivers",
    "missing_report",
    "next_orders",
    "overdue_valuable",
    "path_counts",
    "paths_workspace",
    "ratings_wide",
    "relative_weights",
    "sentiment_summary",
    "survey_scores",
    "survey_workspace",
    "theme_contrast",
    "themes",
    "tokenize",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines `name` the first time it is asked for."""
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
