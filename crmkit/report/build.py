"""`build_report`: collect every section's data for one period; nothing here formats or writes.

Each section is built independently: a missing table or module, or an error inside one section,
makes that section unavailable with a one-line reason and leaves the others intact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError, UsageError
from crmkit.periods import compare_period, parse_period
from crmkit.report import analysis_sections as A
from crmkit.report import sections as S
from crmkit.report.data import ReportData, Section
from crmkit.report.i18n import LANGS, t
from crmkit.report.settings import report_settings

if TYPE_CHECKING:
    from crmkit.metrics.engine import MetricsResult
    from crmkit.periods import Period
    from crmkit.workspace import Workspace

DEFAULT_PERIOD = "last-90d"
SECTION_ORDER = (
    "headline",
    "trends",
    "cohorts",
    "segments",
    "clv",
    "satisfaction",
    "cycle",
    "baskets",
    "drivers",
    "feedback",
    "metrics",
    "quality",
    "appendix",
)
LAST_ORDERS_READER = "cycle"  # trends, cohorts and cycle share `Ctx.customer_orders()`


def build_report(
    ws: Workspace,
    period: str | None = None,
    compare: str | None = "previous",
    as_of: dt.date | None = None,
    lang: str = "en",
    include_pii: bool = False,
    metrics: MetricsResult | None = None,
) -> ReportData:
    """Every section's data for `period` (default last-90d) as of `as_of` (default: last date).

    `metrics`: the metrics of this period, compare mode and as-of date, already computed (as
    `crmkit run` has them from its metrics step); computed here when not given or not those.
    """
    if lang not in LANGS:
        raise UsageError(f"unknown language {lang!r}", hint="use en or zh")
    if compare not in (None, "previous", "yoy"):
        raise UsageError(f"unknown comparison {compare!r}", hint="use previous or yoy")
    settings = report_settings(ws.config)
    currency = str(ws.config.get("currency") or "USD")
    title = settings["title"] or t(lang, "title")
    from crmkit import __version__

    day = as_of or ws.last_date()
    base = {
        "title": title,
        "lang": lang,
        "currency": currency,
        "include_pii": include_pii,
        "names": settings["names"],
        "settings": settings,
        "version": __version__,
        "workspace": ws.path.resolve().name,
    }
    if day is None:  # an empty workspace: every section says so
        reason = t(lang, "r_no_table", table="orders", how=t(lang, "how_ingest"))
        secs = [Section(k, t(lang, k), "unavailable", reason) for k in SECTION_ORDER]
        return ReportData(period={}, compare=None, as_of=None, sections=secs, **base)
    fy = int(ws.config.get("fiscal_year_start") or 1)
    p = parse_period(period or DEFAULT_PERIOD, day, fy)
    cmp = compare_period(p, compare)
    ctx = S.Ctx(ws, day, p, cmp, lang, settings, include_pii)
    try:
        from crmkit.metrics import workspace_result

        if _matches(metrics, p, compare, day):
            ctx.metrics = metrics.in_language(lang)
        else:
            ctx.metrics = workspace_result(ws, p, compare=compare, as_of=day, lang=lang)
    except ImportError:
        ctx.metrics_error = t(lang, "r_module", module="crmkit.metrics")
    except CrmkitError as exc:
        ctx.metrics_error = exc.message
    except Exception as exc:  # a metrics bug must not take the whole report down
        ctx.metrics_error = f"{type(exc).__name__}: {exc}"
    builders: dict[str, Callable[[S.Ctx], Section]] = {
        "headline": S.headline,
        "trends": S.trends,
        "cohorts": S.cohorts,
        "segments": S.segments,
        "clv": S.clv,
        "satisfaction": S.satisfaction,
        "cycle": A.cycle,
        "baskets": A.baskets,
        "drivers": A.drivers,
        "feedback": A.feedback,
        "metrics": S.all_metrics,
        "quality": S.quality,
        "appendix": lambda c: S.appendix(c, settings),
    }
    secs = []
    for key in SECTION_ORDER:
        secs.append(_safe(key, builders[key], ctx))
        if key == LAST_ORDERS_READER:  # free the numbered orders before the baskets' lines
            ctx.drop_customer_orders()
    return ReportData(
        period={"label": p.label, "start": p.start, "end": p.end},
        compare=None if cmp is None else {"mode": compare, "start": cmp.start, "end": cmp.end},
        as_of=day,
        sections=secs,
        **base,
    )


def _matches(
    metrics: MetricsResult | None, period: Period, compare: str | None, as_of: dt.date
) -> bool:
    """Whether a precomputed result is the report's: same period, comparison and as-of date,
    every metric, no breakdown."""
    from crmkit.metrics.engine import select_metrics

    return (
        metrics is not None
        and metrics.period == period
        and metrics.compare_mode == compare
        and metrics.as_of == as_of
        and not metrics.by
        and metrics.frame["metric"].n_unique() == len(select_metrics(None))
    )


def _safe(key: str, builder: Callable[[S.Ctx], Section], ctx: S.Ctx) -> Section:
    """Run one builder; turn a missing input or an error into an unavailable section."""
    reason: str
    try:
        return builder(ctx)
    except S.Missing as exc:
        reason = str(exc)
    except CrmkitError as exc:
        reason = t(ctx.lang, "r_error", error=exc.message)
    except Exception as exc:  # one broken section must not hide the others
        reason = t(ctx.lang, "r_error", error=f"{type(exc).__name__}: {exc}")
    return Section(key, t(ctx.lang, key), "unavailable", _one_line(reason))


def _one_line(text: Any) -> str:
    from crmkit.report.privacy import scrub

    line = " ".join(str(text).split())
    return scrub(line[:300]) or ""
