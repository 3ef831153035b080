"""The `report:` config section: defaults, validation, and the headline metric list."""

from __future__ import annotations

from typing import Any

from crmkit.errors import ConfigError
from crmkit.report.privacy import check_names

DEFAULTS: dict[str, Any] = {
    "title": None,  # report title; default "Customer report" / "客户分析报告"
    "names": "initials",  # customer names: full | initials | hidden
    "top_customers": 20,  # rows in the top-CLV table
    "trend_months": 12,  # months in the trend charts (ending with the as-of month)
    "cohort_months": 12,  # most recent first-purchase cohorts (and periods) in the heatmap
    "migration_rows": 15,  # largest segment movements listed per method
    "headline": [
        "net_revenue",
        "orders",
        "aov",
        "new_customers",
        "repurchase_rate",
        "churn_rate",
        "nps",
        "csat",
        "clv_predicted",
    ],
}


def report_settings(config: Any) -> dict[str, Any]:
    """The `report:` section over the defaults; unknown keys and bad values are a ConfigError."""
    raw = config.section("report") if config is not None else {}
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise ConfigError(
            f"unknown report setting(s): {', '.join(unknown)}",
            hint=f"known: {', '.join(DEFAULTS)}",
        )
    out = {**DEFAULTS, **raw}
    check_names(str(out["names"]))
    for key in ("top_customers", "trend_months", "cohort_months", "migration_rows"):
        if not isinstance(out[key], int) or out[key] < 1:
            raise ConfigError(f"report.{key} must be a positive whole number, not {out[key]!r}")
    if not isinstance(out["headline"], list) or not all(
        isinstance(m, str) for m in out["headline"]
    ):
        raise ConfigError("report.headline must be a list of metric names")
    return out
