"""Settings the metrics read: the `metrics:` config section's defaults and dotted look-ups.

Every setting a metric uses is declared on it (e.g. `windows.active_window`) and printed with its
value by `crmkit metrics explain`, so a number can always be traced to the choices behind it.
"""

from __future__ import annotations

from typing import Any

from crmkit.config import DEFAULTS, Config

# Defaults of the `metrics:` section (documented in docs/metrics.md).
METRICS_DEFAULTS: dict[str, Any] = {
    "completed_statuses": ["completed", "partially_refunded"],
    "loyalty_index_weights": {"repurchase_rate": 1, "referral_rate": 1, "nps": 1},
    "expected_lifespan_years": None,
    "gross_margin": None,
    "engagement_events": [
        "visit",
        "page_view",
        "email_open",
        "email_click",
        "social_interaction",
        "referral_sent",
        "referral_signup",
        "loyalty_join",
        "cart_add",
        "checkout",
    ],
    "referral_events": ["referral_sent", "referral_signup"],
    "satisfaction_targets": ["nps", "csat", "csat_mean", "csi", "ces"],
}

SETTING_DOCS: dict[str, str] = {
    "timezone": "time zone in which order/ticket/response times are turned into dates",
    "windows.active_window": "days: a customer is active at t with a completed order in the "
    "active_window days up to t",
    "windows.conversion_window": "days after signup within which a first order counts as a "
    "conversion",
    "scales.nps": "answer range of the NPS question (0-10)",
    "scales.csat": "answer range of CSAT; the top two boxes are its two highest values",
    "scales.ces": "answer range of CES",
    "targets": "per-metric targets, e.g. {churn_rate: {max: 0.05}, nps: {min: 30}}",
    "metrics.completed_statuses": "order statuses that count as completed (null status counts "
    "as completed)",
    "metrics.loyalty_index_weights": "weights of the loyalty index components (repurchase_rate, "
    "referral_rate, nps rescaled to 0-1)",
    "metrics.expected_lifespan_years": "customer lifespan for clv_simple; null = 1 / annual "
    "churn rate",
    "metrics.gross_margin": "gross margin ratio (0-1) used when orders.cost_amount is missing",
    "metrics.engagement_events": "event types that count as customer engagement",
    "metrics.referral_events": "event types that show taking part in the referral programme",
    "metrics.satisfaction_targets": "metrics whose targets satisfaction_target_attainment checks",
}


def get_setting(config: Config, key: str) -> Any:
    """A dotted setting (`windows.active_window`) from the config, else its default."""
    section, _, name = key.partition(".")
    if not name:
        return config.get(section, DEFAULTS.get(section))
    values = config.get(section) or {}
    if name in values and values[name] is not None:
        return values[name]
    if section == "metrics":
        return METRICS_DEFAULTS.get(name)
    return (DEFAULTS.get(section) or {}).get(name)
