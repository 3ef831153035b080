"""The analysis steps of `crmkit run` after ingest: metrics, segments, CLV and reports.

Each step reads the `run:` settings (documented in `crmkit.run`) and records what it did in its
`StepResult`: row counts, files written (with sha256), and problems that make the run exit 1
(missed targets). A step that cannot run for lack of data is a failure with the reason, except
CLV, whose thin-data refusal is expected on young shops and is recorded as a warning.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from crmkit.jsonable import to_jsonable
from crmkit.run import RunContext, Step, StepResult, file_output

DEFAULT_PERIODS = ["last-90d"]
DEFAULT_SEGMENTS = ["rfm", "tiers", "lifecycle"]
DEFAULT_REPORTS = ["html", "xlsx", "md"]


def _periods(ctx: RunContext) -> list[str]:
    periods = ctx.settings.get("periods") or DEFAULT_PERIODS
    return [str(p) for p in (periods if isinstance(periods, list) else [periods])]


def _out_dir(ctx: RunContext) -> Path:
    out = Path(ctx.settings.get("out_dir") or "reports")
    return out if out.is_absolute() else ctx.ws.path / out


def _write_json(path: Path, payload: dict[str, Any]) -> Path:
    """Write JSON atomically with owner-only permissions (outputs may describe customers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    text = json.dumps(to_jsonable(payload), indent=2, ensure_ascii=False)
    tmp.write_text(text, "utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def step_metrics(ctx: RunContext, res: StepResult) -> None:
    """Compute every metric for each configured period and check the targets."""
    from crmkit.metrics.engine import compute_results

    compare = ctx.settings.get("compare", "previous")
    periods = _periods(ctx)
    # one context for all periods: the orders are read once for all of them
    results = compute_results(
        ctx.ws.tables(), ctx.ws.config, periods, compare=compare, as_of=ctx.as_of
    )
    for period, result in zip(periods, results, strict=True):
        doc = result.to_document()
        label = doc["period"]["label"]
        path = _write_json(ctx.ws.path / "runs" / ctx.run_id / f"metrics-{period}.json", doc)
        res.outputs.append(file_output(path, "metrics"))
        res.rows[f"metrics {label}"] = result.frame.height
        for row in result.targets_missed.to_dicts():
            target = row["target_min"] if row["target_min"] is not None else row["target_max"]
            bound = "min" if row["target_min"] is not None else "max"
            res.problems.append(
                f"target missed: {row['metric']} = {row['value']:.4g} ({bound} {target}) in {label}"
            )
        ctx.results.setdefault("metrics", {})[period] = result


def step_segment(ctx: RunContext, res: StepResult) -> None:
    """Segment the customers with each configured method and record the memberships."""
    from crmkit.segment import segment_workspace
    from crmkit.segment.run import Inputs

    methods = ctx.settings.get("segments") or DEFAULT_SEGMENTS
    as_of = ctx.as_of or ctx.ws.last_date()
    # read once, for every method (no orders: segment_workspace says so)
    inputs = Inputs(ctx.ws, as_of, ctx.ws.config.timezone) if as_of else None
    for method in methods:
        result = segment_workspace(
            ctx.ws,
            method,
            as_of=as_of,
            record=True,
            run_id=ctx.run_id,
            profiles=False,
            inputs=inputs,
        )
        res.rows[f"{method} customers"] = result.members.height
        ctx.results.setdefault("segment", {})[method] = result


def step_clv(ctx: RunContext, res: StepResult) -> None:
    """Fit the CLV models and store per-customer predictions (`clv_predictions`) for reports.

    Too little history is a normal state for a young shop, not a failure: the refusal and its
    reason are recorded and the run goes on.
    """
    from crmkit.models.exceptions import InsufficientDataError
    from crmkit.models.workspace import predict_workspace

    try:
        done = predict_workspace(ctx.ws, as_of=ctx.as_of, run_id=ctx.run_id)
    except InsufficientDataError as exc:
        res.message = f"not fitted: {exc.message}"
        return
    params = done.fit.purchases.params
    res.rows["customers predicted"] = done.predictions.frame.height
    res.detail = {
        "settings": done.settings,
        "purchase_model": {k: round(float(v), 6) for k, v in params.items()},
        "loglik": done.fit.purchases.loglik,
        "warnings": done.fit.warnings,
    }


def step_report(ctx: RunContext, res: StepResult) -> None:
    """Write the reports for the report period in every configured format."""
    from crmkit.report import build_report, write_report

    period = ctx.settings.get("report_period") or _periods(ctx)[0]
    lang = ctx.settings.get("lang", "en")
    formats = ctx.settings.get("reports") or DEFAULT_REPORTS
    metrics = ctx.results.get("metrics", {}).get(period)  # reused when it is the report's
    data = build_report(ctx.ws, period=period, as_of=ctx.as_of, lang=lang, metrics=metrics)
    for fmt in formats:
        path = write_report(data, _out_dir(ctx) / f"report-{period}.{fmt}")
        res.outputs.append(file_output(path, f"report:{fmt}"))


STEPS: dict[str, Step] = {
    "metrics": step_metrics,
    "segment": step_segment,
    "clv": step_clv,
    "report": step_report,
}
