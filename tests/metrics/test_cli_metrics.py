"""`crmkit metrics` and `crmkit metrics explain` through the CLI: JSON, CSV, zh, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmkit.cli.main import main
from crmkit.metrics.docs import DOC_PATH, render

from . import shop


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    wh = tmp_path / "warehouse"
    wh.mkdir()
    for name, lf in shop.tables().items():
        lf.collect().write_parquet(wh / f"{name}.parquet")
    (tmp_path / "crmkit.yaml").write_text(
        "targets:\n  churn_rate: {max: 0.05}\n  nps: {min: 10}\n", encoding="utf-8"
    )
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_and_check_targets(ws, capsys):
    code, out, err = run(
        capsys,
        "metrics",
        "-w",
        str(ws),
        "--period",
        "2025Q2",
        "--as-of",
        "2025-06-30",
        "--format",
        "json",
        "--check-targets",
    )
    assert code == 1 and "churn_rate" in err
    doc = json.loads(out)
    rows = {r["metric"]: r for r in doc["metrics"]}
    assert rows["net_revenue"]["value"] == pytest.approx(405)
    assert rows["churn_rate"]["target_met"] is False
    code, _, _ = run(
        capsys,
        "metrics",
        "-w",
        str(ws),
        "--period",
        "2025Q2",
        "--as-of",
        "2025-06-30",
        "--metric",
        "nps",
        "--check-targets",
        "--format",
        "json",
    )
    assert code == 0


def test_table_in_chinese_with_compare_and_breakdowns(ws, capsys):
    code, out, _ = run(
        capsys,
        "metrics",
        "-w",
        str(ws),
        "-p",
        "2025Q2",
        "--compare",
        "yoy",
        "--lang",
        "zh",
        "--by",
        "channel",
        "--by",
        "gender",
        "-m",
        "revenue",
        "-m",
        "churn_rate",
    )
    assert code == 0
    assert "销售额" in out and "客户流失率" in out and "▲" in out


def test_csv_output(ws, capsys):
    code, out, _ = run(
        capsys,
        "metrics",
        "-w",
        str(ws),
        "-p",
        "2025Q2",
        "--format",
        "csv",
        "-m",
        "aov",
        "--by",
        "channel,cohort",
    )
    assert code == 0
    assert out.splitlines()[0].startswith("metric,name,family,unit,direction,channel,cohort,value")


def test_bad_period_exits_2(ws, capsys):
    code, _, err = run(capsys, "metrics", "-w", str(ws), "--period", "Q9")
    assert code == 2 and "unknown period" in err


def test_explain(ws, capsys):
    code, out, _ = run(
        capsys,
        "metrics",
        "explain",
        "retention_rate",
        "-w",
        str(ws),
        "-p",
        "2025Q2",
        "--as-of",
        "2025-06-30",
    )
    assert code == 0
    assert "S = 3" in out and "E = 4" in out and "N = 1" in out
    assert "windows.active_window = 365" in out
    code, out, _ = run(
        capsys, "metrics", "explain", "nps", "-w", str(ws), "--format", "json", "-p", "2025Q2"
    )
    assert code == 0 and json.loads(out)["inputs"]["promoters"] == 3


def test_docs_are_generated_from_the_registry():
    assert DOC_PATH.read_text(encoding="utf-8") == render()
