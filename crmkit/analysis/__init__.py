"""Behaviour and voice-of-the-customer analyses: cohorts, buying cycle, baskets, paths,
survey scores and key drivers, feedback text. Each takes LazyFrames (plus options) and has a
thin `*_workspace(ws, ...)` wrapper; see docs/analysis.md.
"""

from crmkit.analysis.basket import BasketResult, association_rules, basket_items, basket_workspace
from crmkit.analysis.cohorts import cohort_matrix, cohort_table, cohorts_workspace
from crmkit.analysis.cycle import (
    CycleResult,
    cycle_workspace,
    gap_distribution,
    gap_histogram,
    gaps,
    next_orders,
    overdue_valuable,
)
from crmkit.analysis.drivers import DriverResult, drivers_workspace, key_drivers, relative_weights
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
from crmkit.analysis.paths import customer_paths, path_counts, paths_workspace
from crmkit.analysis.survey import missing_report, ratings_wide, survey_scores, survey_workspace

__all__ = [
    "BasketResult",
    "CycleResult",
    "DriverResult",
    "FeedbackResult",
    "annotate",
    "association_rules",
    "basket_items",
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
