"""`crmkit run`: run.json, step selection, exit codes, the lock, failures keeping old outputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from crmkit.cli.main import main
from tests.lockholder import lock_held_elsewhere

HEADER = "Order No,Email,Order Date,Total,Status\n"
ROWS = [
    "A1,a@x.com,2025-01-03 10:00,50.00,completed",
    "A2,b@x.com,2025-02-03 10:00,70.00,completed",
    "A3,a@x.com,2025-03-03 10:00,30.00,completed",
    "A4,c@x.com,2025-03-20 10:00,20.00,refunded",
]


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "crmkit.yaml").write_text(
        "report: {title: Test shop}\n"
        "run: {periods: [2025Q1], reports: [html, md]}\n"
        "targets: {repurchase_rate: {min: 0.2}}\n"
        "sources:\n  - name: shop\n    path: ../orders.csv\n    table: orders\n"
        "    columns: {order_id: Order No, customer_email: Email, ordered_at: Order Date,"
        " gross_amount: Total, status: Status}\n",
        encoding="utf-8",
    )
    (tmp_path / "orders.csv").write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    return ws


def _run(capsys, *args: str) -> tuple[int, dict]:
    code = main(["run", *args, "--format", "json", "--quiet"])
    return code, json.loads(capsys.readouterr().out)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_json_records_inputs_steps_outputs_and_exit_code(shop, tmp_path, capsys):
    code, record = _run(capsys, "-w", str(shop), "--skip", "clv")
    assert code == 0 and record["exit_code"] == 0
    on_disk = json.loads((shop / "runs" / record["run_id"] / "run.json").read_text("utf-8"))
    assert on_disk == record
    assert (shop / "runs" / record["run_id"] / "run.json").stat().st_mode & 0o777 == 0o600
    assert [s["name"] for s in record["steps"]] == ["ingest", "metrics", "segment", "report"]
    assert all(s["status"] == "ok" and s["seconds"] >= 0 for s in record["steps"])
    (inp,) = record["inputs"]
    assert inp["sha256"] == _sha(tmp_path / "orders.csv")
    assert (inp["rows_read"], inp["rows_accepted"], inp["rows_rejected"]) == (4, 4, 0)
    ingest = record["steps"][0]
    assert ingest["rows"]["orders"] == 4
    report = record["steps"][-1]
    kinds = sorted(o["kind"] for o in report["outputs"])
    assert kinds == ["report:html", "report:md"]
    for out in report["outputs"]:
        assert out["sha256"] == _sha(Path(out["path"]))
    assert record["crmkit_version"] and record["config"]["report"]["title"] == "Test shop"
    assert record["arguments"]["skip"] == ["clv"]


def test_a_missed_target_exits_1_with_outputs_written(shop, capsys):
    # Repurchase in 2025Q1: a@x.com has 2 completed orders of the 2 purchasing customers → 1/2.
    config = (shop / "crmkit.yaml").read_text("utf-8").replace("min: 0.2", "min: 0.9")
    (shop / "crmkit.yaml").write_text(config, "utf-8")
    code, record = _run(capsys, "-w", str(shop), "--only", "ingest", "--only", "metrics")
    assert code == 1 and record["exit_code"] == 1
    metrics = record["steps"][1]
    assert metrics["status"] == "ok"
    assert any("repurchase_rate" in p and "0.5" in p for p in metrics["problems"])
    assert metrics["outputs"] and Path(metrics["outputs"][0]["path"]).is_file()


def test_a_failing_step_keeps_the_previous_report_and_the_warehouse(shop, capsys, monkeypatch):
    code, first = _run(capsys, "-w", str(shop), "--only", "ingest", "--only", "report")
    assert code == 0
    html = next(
        Path(o["path"]) for o in first["steps"][-1]["outputs"] if o["kind"].endswith("html")
    )
    before_report = _sha(html)
    before_orders = _sha(shop / "warehouse" / "orders.parquet")

    import crmkit.report.write as write

    def broken(_suffix):
        def render(_data):
            raise RuntimeError("renderer crashed half way")

        return render

    monkeypatch.setattr(write, "_renderer", broken)
    code, second = _run(capsys, "-w", str(shop), "--only", "ingest", "--only", "report")
    assert code == 1 and second["exit_code"] == 1
    report = second["steps"][-1]
    assert report["status"] == "failed" and "renderer crashed" in report["message"]
    assert _sha(html) == before_report
    assert _sha(shop / "warehouse" / "orders.parquet") == before_orders
    assert not list(html.parent.glob(".*tmp*"))


def test_dependent_steps_are_skipped_when_ingest_fails(tmp_path, capsys):
    ws = tmp_path / "empty"
    ws.mkdir()
    (ws / "crmkit.yaml").write_text("timezone: UTC\n", encoding="utf-8")
    code, record = _run(capsys, "-w", str(ws), "--only", "ingest", "--only", "metrics")
    assert code == 1
    assert [s["status"] for s in record["steps"]] == ["failed", "skipped"]
    assert "nothing to ingest" in record["steps"][0]["message"]
    assert record["steps"][1]["message"] == "needs ingest, which failed"


def test_unknown_step_is_a_usage_error(shop, capsys):
    assert main(["run", "-w", str(shop), "--only", "everything"]) == 2
    assert "unknown step 'everything'" in capsys.readouterr().err


def test_a_locked_workspace_exits_75_and_writes_no_record(shop, capsys):
    with lock_held_elsewhere(shop):
        assert main(["run", "-w", str(shop), "--quiet"]) == 75
    assert not (shop / "runs").exists()
