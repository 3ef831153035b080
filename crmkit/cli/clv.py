"""`crmkit clv fit|predict|validate`: predictive customer lifetime value.

Thin: parse the options, call `crmkit.models`, render. Every output carries the settings used
and the latest holdout validation figures stored in `<workspace>/models/`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from crmkit.cli.common import (
    AsOfOpt,
    ConfigOpt,
    FormatOpt,
    LangOpt,
    QuietOpt,
    VerboseOpt,
    WorkspaceOpt,
    resolve,
)
from crmkit.cli.output import emit_csv, emit_json, err, out, rich_table

clv_app = typer.Typer(
    help="Predictive customer lifetime value: BG/NBD, Pareto/NBD, MBG/NBD, Gamma-Gamma.",
    no_args_is_help=True,
)

ModelOpt = Annotated[
    str, typer.Option("--model", "-m", help="bgnbd, pareto, mbgnbd or gamma-gamma.")
]
CalEndOpt = Annotated[
    str | None,
    typer.Option("--calibration-end", help="Last day of the calibration period (YYYY-MM-DD)."),
]
UnitOpt = Annotated[str, typer.Option("--unit", help="Time unit of the model: days or weeks.")]
TOP_COLUMNS = [
    "customer_key",
    "frequency",
    "recency",
    "T",
    "p_alive",
    "expected_purchases",
    "spend_per_purchase",
    "expected_spend",
    "clv",
]

TABLE_COLUMNS = ["customer_key", "frequency", "p_alive", "expected_purchases", "clv"]


def register(app: typer.Typer) -> None:
    """Add `crmkit clv` to the app."""
    app.add_typer(clv_app, name="clv")


def _models_dir(ws: Any) -> Path:  # validation figures kept between runs
    return Path(ws.path) / "models"


def _summary(ws: Any, calibration_end: str | None, as_of: dt.date | None, unit: str) -> Any:
    from crmkit.models.workspace import workspace_summary

    return workspace_summary(ws, calibration_end or as_of, unit)


def _render_fit(fit_dict: dict[str, Any]) -> None:
    for key in ("purchases", "spend"):
        part = fit_dict.get(key)
        if not part:
            continue
        ses = part.get("standard_errors") or {}
        rows = [
            {"parameter": k, "estimate": v, "std_error": ses.get(k)}
            for k, v in part["params"].items()
        ]
        title = (
            f"{part['model']}: log-likelihood {part['loglik']:,.2f}, "
            f"{part['n_customers']:,} customers"
        )
        out.print(rich_table(rows, title=title))


def _render_validation(validation: dict[str, Any] | None) -> None:
    if validation is None:
        out.print("validation: none yet (run `crmkit clv validate --holdout 26w`)")
        return
    out.print(
        f"latest validation ({validation['model']}, holdout {validation['holdout']} after "
        f"{validation['calibration_end']}): MAE {validation['mae']:.3f}, bias "
        f"{validation['bias']:+.3f} purchases per customer; predicted "
        f"{validation['predicted_purchases']:,.0f} vs actual "
        f"{validation['actual_purchases']:,.0f} ({validation['aggregate_error_pct']:+.1f}%)",
        highlight=False,
    )


@clv_app.command("fit")
def fit_cmd(
    ctx: typer.Context,
    model: ModelOpt = "bgnbd",
    calibration_end: CalEndOpt = None,
    unit: UnitOpt = "weeks",
    se: Annotated[bool, typer.Option("--se", help="Also compute standard errors.")] = False,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Fit a model and show its parameters and log-likelihood."""
    from crmkit.models import fit
    from crmkit.models.store import load_validation

    g = resolve(ctx, workspace, config, as_of, lang, fmt, quiet, verbose)
    ws = g.open_workspace()
    summary = _summary(ws, calibration_end, g.as_of, unit)
    result = fit(summary, model=model, spend=True, standard_errors=se)
    for w in result.warnings:
        err.print(f"warning: {w}")
    validation = load_validation(_models_dir(ws))
    payload = {**result.to_dict(), "counts": summary.counts, "validation": validation}
    if g.format == "json":
        emit_json(payload)
        return
    if g.format == "csv":
        rows = [
            {"model": part["model"], "parameter": k, "estimate": v}
            for part in (payload["purchases"], payload["spend"])
            if part
            for k, v in part["params"].items()
        ]
        emit_csv(pl.DataFrame(rows))
        return
    out.print(
        f"[bold]CLV model fit[/] — calibration ends {summary.calibration_end}, unit {unit}, "
        f"{summary.n_customers:,} customers",
        highlight=False,
    )
    _render_fit(payload)
    _render_validation(validation)


@clv_app.command("predict")
def predict_cmd(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Option("--model", help="bgnbd, pareto or mbgnbd (config clv.model).")
    ] = None,
    calibration_end: CalEndOpt = None,
    unit: Annotated[
        str | None, typer.Option("--unit", help="days or weeks (config clv.unit, weeks).")
    ] = None,
    horizon: Annotated[
        str | None, typer.Option("--horizon", help="e.g. 12m, 26w, 2y (config, 12m).")
    ] = None,
    discount: Annotated[
        float | None, typer.Option("--discount", help="Monthly discount rate (config, 0.01).")
    ] = None,
    margin: Annotated[
        float | None, typer.Option("--margin", help="Profit share of spend, 0-1 (config, 1).")
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Customers shown in the table.")] = 20,
    export: Annotated[
        Path | None, typer.Option("--export", help="Write all predictions to .csv/.xlsx/.parquet.")
    ] = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Predict P(alive), purchases, spend and CLV per customer; store them for reports."""
    from crmkit.export import write_export
    from crmkit.models.workspace import predict_workspace

    g = resolve(ctx, workspace, config, as_of, lang, fmt, quiet, verbose)
    ws = g.open_workspace()
    done = predict_workspace(
        ws,
        model=model,
        calibration_end=calibration_end,
        as_of=g.as_of,
        unit=unit,
        horizon=horizon,
        discount=discount,
        margin=margin,
    )
    result, pred, validation, equity = done.fit, done.predictions, done.validation, done.equity
    for w in result.warnings:
        err.print(f"warning: {w}")
    err.print(f"stored {pred.frame.height:,} predictions in the warehouse table clv_predictions")
    if export is not None:
        path = write_export(pred.frame, export, sheet="clv")
        err.print(f"wrote {pred.frame.height:,} customers to {path}")
    top_rows = pred.top(top).select([c for c in TOP_COLUMNS if c in pred.frame.columns])
    if g.format == "json":
        emit_json(
            {
                "settings": pred.settings(),
                "fit": result.to_dict(),
                "customer_equity": equity,
                "top_customers": top_rows,
                "validation": validation,
            }
        )
        return
    if g.format == "csv":
        emit_csv(pred.frame.select([c for c in TOP_COLUMNS if c in pred.frame.columns]))
        return
    s, used = pred.settings(), done.settings
    out.print(
        f"[bold]Predicted CLV[/] — {s['model']} + {s['spend_model']}, calibration ends "
        f"{s['calibration_end']}, horizon {used['horizon']}, discount "
        f"{used['discount']:.2%}/month, margin {used['margin']:.0%}",
        highlight=False,
    )
    _render_fit(result.to_dict())
    out.print(rich_table(equity.drop("segment"), title="customer equity"))
    out.print(rich_table(top_rows.select(TABLE_COLUMNS), title=f"top {top} customers by CLV"))
    _render_validation(validation)


@clv_app.command("validate")
def validate_cmd(
    ctx: typer.Context,
    holdout: Annotated[str, typer.Option("--holdout", help="Holdout length, e.g. 26w.")] = "26w",
    model: ModelOpt = "bgnbd",
    calibration_end: CalEndOpt = None,
    unit: UnitOpt = "weeks",
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Fit on a calibration period and compare predictions with the holdout."""
    from crmkit.models import parse_duration_days, validate
    from crmkit.models.store import save_validation

    g = resolve(ctx, workspace, config, as_of, lang, fmt, quiet, verbose)
    ws = g.open_workspace()
    if calibration_end is None and g.as_of is not None:
        # --as-of is the end of the holdout: calibrate up to as-of minus the holdout
        days = round(parse_duration_days(holdout))
        calibration_end = (g.as_of - dt.timedelta(days=days)).isoformat()
    result = validate(
        ws.table("orders"),
        holdout=holdout,
        calibration_end=calibration_end,
        unit=unit,
        model=model,
    )
    save_validation(_models_dir(ws), result)
    if g.format == "json":
        emit_json(result.to_dict())
        return
    if g.format == "csv":
        emit_csv(result.by_frequency)
        return
    out.print(
        f"[bold]CLV validation[/] — {model}, calibration to {result.calibration_end}, holdout "
        f"{holdout} to {result.holdout_end}, {result.n_customers:,} customers",
        highlight=False,
    )
    _render_fit({"purchases": result.fit.to_dict()})
    _render_validation(result.headline())
    out.print(rich_table(result.by_frequency, title="holdout purchases by calibration frequency"))
    out.print(rich_table(result.tracking.tail(12), title="cumulative repeat purchases (last 12)"))
