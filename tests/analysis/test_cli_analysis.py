"""The analysis commands end to end on a tiny workspace: exit codes and parsed JSON/CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmkit.cli.main import main

from .helpers import frame, line, order, ts, workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    orders = [
        order("o1", "a", "2025-01-05", 10),
        order("o2", "a", "2025-02-05", 20),
        order("o3", "b", "2025-01-20", 30),
        order("o4", "b", "2025-03-01", 40),
    ]
    lines = [
        line("o1", "TEA-1"),
        line("o1", "CUP-1", no=2),
        line("o2", "TEA-1"),
        line("o2", "CUP-1", no=2),
        line("o3", "TEA-1"),
        line("o4", "POT-1"),
    ]
    responses = [
        {
            "response_id": str(i),
            "customer_key": "a",
            "responded_at": ts("2025-03-01"),
            "nps": float(n),
            "comment": "Great tea" if n >= 9 else "物流太慢",
        }
        for i, n in enumerate([10, 9, 3])
    ]
    events = [
        {"customer_key": "a", "occurred_at": ts("2025-01-01"), "event_type": "visit"},
        {"customer_key": "a", "occurred_at": ts("2025-01-02"), "event_type": "cart_add"},
        {"customer_key": "c", "occurred_at": ts("2025-01-02"), "event_type": "visit"},
    ]
    return workspace(
        tmp_path_factory.mktemp("analysis") / "ws",
        {
            "orders": frame("orders", orders),
            "order_lines": frame("order_lines", lines),
            "survey_responses": frame("survey_responses", responses),
            "events": frame("events", events),
        },
    )


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cohort_json_and_table(ws, capsys):
    code, out, _ = run(capsys, "cohort", "-w", str(ws), "--as-of", "2025-03-31", "--format", "json")
    assert code == 0
    cells = json.loads(out)["cells"]
    jan1 = next(c for c in cells if c["cohort"] == "2025-01" and c["period"] == 1)
    assert (jan1["customers"], jan1["retained_share"]) == (1, 1 / 2)  # a of {a, b}
    assert jan1["revenue"] == "20.00"  # exact money as a string
    code, out, _ = run(capsys, "cohort", "-w", str(ws), "--as-of", "2025-03-15")
    assert code == 0 and "2025-01" in out


def test_cycle_csv(ws, capsys):
    code, out, _ = run(capsys, "--format", "csv", "cycle", "-w", str(ws), "--as-of", "2025-04-30")
    assert code == 0
    header, *rows = out.strip().splitlines()
    assert header.startswith("customer_key,")
    assert [r.split(",")[0] for r in rows] == ["b", "a"]  # both overdue; b has more revenue


def test_basket_json_and_category_unavailable(ws, capsys):
    code, out, _ = run(capsys, "basket", "-w", str(ws), "--min-support", "0.5", "-f", "json")
    assert code == 0
    payload = json.loads(out)
    assert payload["orders"] == 4
    rule = next(r for r in payload["rules"] if r["antecedent"] == "CUP-1")
    assert (rule["consequent"], rule["confidence"]) == ("TEA-1", 1.0)  # 2/4 ÷ 2/4
    code, _, err = run(capsys, "basket", "-w", str(ws), "--level", "category")
    assert code == 2 and "category is unavailable" in err and "derive" in err


def test_paths_json(ws, capsys):
    code, out, _ = run(capsys, "paths", "-w", str(ws), "--steps", "2", "-f", "json")
    assert code == 0
    paths = {p["path"]: p for p in json.loads(out)["paths"]}
    assert paths["visit > cart_add"]["conversion"] == 1.0
    assert paths["visit"]["conversion"] == 0.0


def test_survey_json_and_drivers_refused_without_ratings(ws, capsys):
    code, out, _ = run(capsys, "survey", "-w", str(ws), "-f", "json")
    assert code == 0
    row = json.loads(out)["scores"][0]
    assert (row["nps_n"], row["nps"]) == (3, pytest.approx((2 - 1) / 3 * 100))
    code, _, err = run(capsys, "survey", "-w", str(ws), "--drivers", "nps")
    assert code == 2 and "no attribute ratings" in err


def test_feedback_json(ws, capsys):
    code, out, _ = run(capsys, "feedback", "-w", str(ws), "-f", "json")
    assert code == 0
    payload = json.loads(out)
    det = [t["term"] for t in payload["groups"] if t["group"] == "detractor"]
    assert det == ["太慢", "物流"]  # one text each: ties by term (太 U+592A < 物 U+7269)
