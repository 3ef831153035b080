"""`crmkit clv fit|predict|validate` end to end on a CDNOW workspace: exit codes, JSON output,
the stored validation carried by later outputs, exports and stored predictions."""

from __future__ import annotations

import json

import polars as pl
import pytest

from crmkit.cli.main import main


@pytest.fixture
def cdnow_ws(tmp_path, cdnow_orders):
    (tmp_path / "warehouse").mkdir()
    cdnow_orders.write_parquet(tmp_path / "warehouse" / "orders.parquet")
    return tmp_path


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_fit_validate_predict(cdnow_ws, capsys) -> None:
    ws = str(cdnow_ws)
    cal = ["--calibration-end", "1997-09-30"]
    assert main(["clv", "fit", "-w", ws, *cal, "--format", "json"]) == 0
    fitted = _json(capsys)
    assert round(fitted["purchases"]["params"]["r"], 3) == 0.243
    assert round(fitted["purchases"]["loglik"], 1) == -9582.4
    assert fitted["validation"] is None

    assert main(["clv", "validate", "-w", ws, "--holdout", "39w", *cal, "--format", "json"]) == 0
    validation = _json(capsys)
    assert validation["headline"]["holdout_end"] == "1998-06-30"

    export = cdnow_ws / "clv.csv"
    args = ["clv", "predict", "-w", ws, *cal, "--horizon", "12m", "--margin", "0.3"]
    assert main([*args, "--export", str(export), "--format", "json"]) == 0
    predicted = _json(capsys)
    assert predicted["validation"] == validation["headline"]
    assert predicted["settings"]["margin"] == 0.3
    assert len(predicted["top_customers"]) == 20
    assert pl.read_csv(export).height == 2357
    stored = pl.read_parquet(cdnow_ws / "warehouse" / "clv_predictions.parquet")
    assert stored.columns[:5] == [
        "customer_key",
        "p_alive",
        "expected_purchases",
        "expected_spend",
        "clv",
    ]
    assert main(["clv", "predict", "-w", ws, *cal]) == 0
    table = capsys.readouterr().out
    assert "top 20 customers" in table and "latest validation" in table


def test_thin_data_exits_2_with_hint(cdnow_ws, capsys) -> None:
    ws = str(cdnow_ws)
    assert main(["clv", "fit", "-w", ws, "--calibration-end", "1997-01-20"]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "hint:" in err
    assert main(["clv", "fit", "-w", ws, "--model", "xgboost"]) == 2
