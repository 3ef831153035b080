"""The command line: exit codes, JSON output, options before or after the command, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crmkit.cli.main import main
from tests.lockholder import lock_held_elsewhere

HEADER = "Order No,Email,Order Date,Total,Status\n"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "crmkit.yaml").write_text(
        "sources:\n  - name: shop\n    path: ../orders.csv\n    table: orders\n"
        "    columns: {order_id: Order No, customer_email: Email, ordered_at: Order Date,"
        " gross_amount: Total, status: Status}\n",
        encoding="utf-8",
    )
    (tmp_path / "orders.csv").write_text(
        HEADER + "A1,a@x.com,2025-01-03 10:00,5.00,completed\n"
        "A2,b@x.com,2025-02-03 10:00,7.50,completed\n",
        encoding="utf-8",
    )
    return ws


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_then_status_as_json(shop, capsys):
    code, out, _ = run(capsys, "ingest", "-w", str(shop), "--format", "json")
    assert code == 0
    payload = json.loads(out)
    assert payload["files"][0]["rows_accepted"] == 2
    assert payload["tables"]["orders"] == 2
    code, out, _ = run(capsys, "--format", "json", "status", "-w", str(shop))  # option first
    assert code == 0
    status = json.loads(out)
    orders = next(t for t in status["tables"] if t["table"] == "orders")
    assert (orders["rows"], orders["first"], orders["last"]) == (2, "2025-01-03", "2025-02-03")


def test_usage_errors_exit_2_with_one_line_and_a_hint(shop, capsys):
    code, _, err = run(capsys, "ingest", "-w", str(shop), "--table", "ordres", "x.csv")
    assert code == 2
    assert "unknown table 'ordres'" in err and "hint:" in err
    assert "Traceback" not in err
    code, _, err = run(capsys, "ingest", "-w", str(shop), "nope.csv")
    assert code == 2 and "no such file: nope.csv" in err


def test_config_errors_exit_2(tmp_path, capsys):
    (tmp_path / "crmkit.yaml").write_text("timezone: Nowhere/City\n")
    code, _, err = run(capsys, "ingest", "-w", str(tmp_path))
    assert code == 2 and "unknown timezone" in err


def test_a_locked_workspace_exits_75(shop, capsys):
    with lock_held_elsewhere(shop):
        code, _, err = run(capsys, "ingest", "-w", str(shop))
    assert code == 75 and "locked" in err


def test_refused_file_exits_1_and_names_the_missing_columns(shop, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("Order No,Email\nA9,a@x.com\n", encoding="utf-8")
    code, _, err = run(capsys, "ingest", "-w", str(shop), str(bad), "--table", "orders")
    assert code == 1
    assert "bad.csv" in err and "ordered_at" in err and "Order No" in err


def test_doctor_writes_nothing(shop, capsys):
    code, out, _ = run(capsys, "doctor", "-w", str(shop), "--format", "json")
    findings = json.loads(out)
    assert code == 0, findings
    assert any(f["level"] == "ok" and "mapping config" in f["message"] for f in findings)
    assert not (shop / "warehouse").exists()


def test_init_from_a_folder_detects_sources(tmp_path, capsys):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "orders.csv").write_text(
        "Order Number,Customer Email,Order Date,Total\n1001,a@x.com,2025-01-01,9.00\n"
    )
    code, out, _ = run(
        capsys, "init", str(tmp_path / "ws"), "--from", str(exports), "--format", "json"
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["sources"][0]["table"] == "orders"
    text = (tmp_path / "ws" / "crmkit.yaml").read_text(encoding="utf-8")
    assert "# Time zone" in text and "../exports/orders.csv" in text
    code, _, err = run(capsys, "init", str(tmp_path / "ws"))
    assert code == 2 and "already exists" in err


def test_python_dash_m_and_a_closed_pipe_exit_quietly(shop):
    subprocess.run([sys.executable, "-m", "crmkit", "ingest", "-w", str(shop), "-q"], check=True)
    proc = subprocess.run(
        f"{sys.executable} -m crmkit status -w {shop} --format json | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("{")
    assert "Traceback" not in proc.stderr


def test_a_new_workspace_adopts_the_config_it_was_first_run_with(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "orders.csv").write_text(HEADER + "A1,a@x.com,2025-01-03 10:00,5.00,completed\n")
    cfg = tmp_path / "conf" / "shop.yaml"
    cfg.parent.mkdir()
    cfg.write_text(
        "timezone: Asia/Shanghai\nsources:\n  - name: shop\n    path: ../data/orders.csv\n"
        "    table: orders\n    columns: {order_id: Order No, customer_email: Email,"
        " ordered_at: Order Date, gross_amount: Total, status: Status}\n",
        encoding="utf-8",
    )
    ws = tmp_path / "ws"
    code, _, err = run(capsys, "ingest", "-w", str(ws), "--config", str(cfg))
    assert code == 0 and "wrote" in err
    own = (ws / "crmkit.yaml").read_text(encoding="utf-8")
    assert "path: ../data/orders.csv" in own and "timezone: Asia/Shanghai" in own
    # Later commands need only -w: the adopted config still finds the source (nothing new).
    code, out, _ = run(capsys, "ingest", "-w", str(ws), "--format", "json")
    assert code == 0 and json.loads(out)["files"][0]["status"] == "unchanged"
