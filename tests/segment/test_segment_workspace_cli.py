"""End to end: `Workspace.segment` and `crmkit segment` on a small workspace."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from crmkit import Workspace
from crmkit.cli.main import main
from crmkit.segment.history import HISTORY_SCHEMA

from .helpers import AS_OF, RFM_ROWS, customers, make_workspace, orders
from .test_segment_rfm import RFM10


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    keys = [*"ABCDEFGHIJ", "P"]  # P never ordered: a prospect
    return make_workspace(
        tmp_path / "ws",
        {"orders": orders(RFM_ROWS), "customers": customers(keys)},
    )


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _history(path: Path) -> pl.DataFrame:
    return Workspace(path).warehouse.scan("segment_history", HISTORY_SCHEMA).collect()


def test_workspace_rfm_records_history_once_per_as_of(ws_path: Path) -> None:
    ws = Workspace(ws_path)
    r = ws.segment(method="rfm", as_of=AS_OF)
    assert dict(r.members.select("customer_key", "segment").rows()) == RFM10
    assert r.profiles["customers"].sum() == 10
    h = _history(ws_path)
    assert h.height == 10 and h.schema == HISTORY_SCHEMA
    ws.segment(method="rfm", as_of=AS_OF)  # rerun: replaces, never duplicates
    assert _history(ws_path).height == 10
    r2 = ws.segment(method="rfm", as_of=dt.date(2025, 3, 31), compare="previous")
    assert _history(ws_path).height == 20
    mv = r2.movement
    assert (mv["from"], mv["to"]) == (AS_OF, dt.date(2025, 3, 31))
    # the movement equals the two runs' memberships joined by key (independent of history code)
    joined = r.members.select("customer_key", pl.col("segment").alias("a")).join(
        r2.members.select("customer_key", pl.col("segment").alias("b")), on="customer_key"
    )
    expected = joined.group_by("a", "b").len().sort("a", "b").rows()
    assert mv["moves"].rows() == expected


def test_as_of_defaults_to_the_last_date_in_the_data(ws_path: Path) -> None:
    r = Workspace(ws_path).segment(method="rfm", record=False)
    assert r.as_of == dt.date(2025, 2, 1)  # J's late order is the last date present
    assert not (ws_path / "warehouse" / "segment_history.parquet").exists()


def test_lifecycle_counts_prospects(ws_path: Path) -> None:
    r = Workspace(ws_path).segment(method="lifecycle", as_of=AS_OF, record=False)
    stages = dict(r.members.select("customer_key", "segment").rows())
    assert stages["P"] == "prospect"
    assert r.settings["windows"]["derived_from"].startswith("only")


def test_cli_json_default_is_the_profile_table(ws_path: Path, capsys) -> None:
    code, out, _ = run(
        capsys, "segment", "-w", str(ws_path), "--as-of", "2025-01-31", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["method"] == "rfm" and data["as_of"] == "2025-01-31"
    sizes = {p["segment"]: p["customers"] for p in data["profiles"]}
    assert sizes == {
        "champions": 1,
        "potential_loyalists": 1,
        "new": 1,
        "promising": 1,
        "about_to_sleep": 2,
        "hibernating": 4,
    }
    assert any(c.startswith("R by quantiles") for c in data["settings"]["cut_points"])


def test_cli_table_prints_cut_points_and_treatments(ws_path: Path, capsys) -> None:
    code, out, _ = run(
        capsys,
        "segment",
        "-w",
        str(ws_path),
        "--as-of",
        "2025-01-31",
        "--method",
        "tiers",
        "--no-record",
    )
    assert code == 0
    assert "gold = top 20%" in out and "Retain and reward" in out


def test_cli_export_filtered_and_masked(ws_path: Path, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "hib.csv"
    code, _, err = run(
        capsys,
        "segment",
        "-w",
        str(ws_path),
        "--as-of",
        "2025-01-31",
        "--export",
        str(dest),
        "--segment",
        "Hibernating",
        "--mask-pii",
    )
    assert code == 0 and "wrote 4 members" in err
    with dest.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["customer_key"] for r in rows] == ["G", "H", "I", "J"]
    assert rows[0]["email"] == "g***@example.com"
    assert rows[0]["segment_label"] == "Hibernating" and rows[0]["r_score"] == "2"


def test_cli_errors_exit_2(ws_path: Path, tmp_path: Path, capsys) -> None:
    assert run(capsys, "segment", "-w", str(ws_path), "--map", "nope")[0] == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "kind: scores\nscores: 5\ndimensions: [r, f]\nsegments:\n  - {key: a, cells: {r: 1-4}}\n",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "segment", "-w", str(ws_path), "--map", str(bad))
    assert code == 2 and "R5F1" in err
    assert run(capsys, "segment", "-w", str(ws_path), "--export", "x.txt")[0] == 2
    assert not (ws_path / "warehouse" / "segment_history.parquet").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("--method", "kmeans", "--k", "2"),
        ("--method", "tree", "--target", "churned"),
        ("--method", "lifecycle", "--lang", "zh"),
        ("--map", "cn8", "--format", "csv"),
    ],
)
def test_cli_methods_run(ws_path: Path, capsys, args: tuple[str, ...]) -> None:
    code, out, _ = run(capsys, "segment", "-w", str(ws_path), "--as-of", "2025-01-31", *args)
    assert code == 0 and out.strip()


def test_json_is_byte_identical_across_runs(ws_path: Path, capsys) -> None:
    args = ("segment", "-w", str(ws_path), "--as-of", "2025-01-31", "--format", "json")
    first = run(capsys, *args)[1]
    second = run(capsys, *args)[1]  # also a rerun that replaces the recorded history
    assert first == second and json.loads(first)["recorded"] is True
