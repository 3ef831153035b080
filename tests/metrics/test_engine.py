"""Compare periods, targets, empty periods, explain, the workspace API and the registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmkit.errors import DataError, UsageError
from crmkit.metrics import REGISTRY, compute_result, compute_results, explain_tables
from crmkit.workspace import Workspace

from . import shop


def test_compare_yoy_and_previous():
    r = shop.results("revenue", compare="yoy")["revenue"]
    # 2024Q2: A 100 (2024-05-10) + B 80 (2024-05-01)
    assert r["compare_value"] == pytest.approx(100 + 80)
    assert r["delta"] == pytest.approx(435 - 180)
    assert r["delta_pct"] == pytest.approx((435 - 180) / 180)
    prev = shop.results("revenue", compare="previous")["revenue"]  # 2025Q1: no orders
    assert prev["compare_value"] == 0 and prev["delta"] == pytest.approx(435)
    assert prev["delta_pct"] is None


def test_targets_and_attainment():
    cfg = shop.config(targets={"churn_rate": {"max": 0.05}, "nps": {"min": 10}})
    result = compute_result(shop.tables(), cfg, "2025Q2", as_of=shop.AS_OF)
    rows = {r["metric"]: r for r in result.frame.to_dicts()}
    assert rows["churn_rate"]["target_met"] is False
    assert rows["churn_rate"]["attainment"] == pytest.approx(0.05 / (1 / 3))
    assert rows["nps"]["target_met"] is True
    assert rows["nps"]["attainment"] == pytest.approx((100 * (3 - 2) / 6) / 10)
    assert rows["revenue"]["target_met"] is None
    assert result.targets_missed["metric"].to_list() == ["churn_rate"]
    ok = shop.config(targets={"nps": {"min": 10}})
    assert compute_result(shop.tables(), ok, "2025Q2", as_of=shop.AS_OF).targets_missed.height == 0


def test_empty_period_gives_zero_counts_and_undefined_ratios():
    # February 2024 lies inside the data but nothing happened in it
    r = shop.results(period="2024-02")
    assert r["orders"]["value"] == 0 and r["revenue"]["value"] == 0
    assert r["new_customers"]["value"] == 0
    assert r["aov"]["value"] is None and r["aov"]["status"] == "undefined"
    assert r["retention_rate"]["value"] is None  # S = 0: D's 2023-01-10 order is > 365 days old
    assert r["nps"]["status"] == "unavailable"  # surveys start in 2025
    assert all(row["value"] is not None or row["reason"] for row in r.values())


def test_period_errors():
    with pytest.raises(DataError):
        shop.results("revenue", period="2019")
    with pytest.raises(UsageError):
        shop.results("revenue", period="2025Q9")
    with pytest.raises(UsageError, match="unknown metric"):
        shop.results("revenu")


def test_every_metric_row_has_a_value_or_a_reason():
    for tabs in (shop.tables(), {"orders": shop.tables()["orders"]}):
        for row in shop.results(tabs=tabs).values():
            assert (row["value"] is None) == (row["status"] != "ok")
            assert row["value"] is not None or row["reason"], row["metric"]


def test_explain_lists_inputs_settings_and_caveats():
    e = explain_tables(shop.tables(), shop.config(), "retention_rate", "2025Q2", as_of=shop.AS_OF)
    assert e.inputs == {"S": 3, "E": 4, "N": 1}
    assert e.value == pytest.approx((4 - 1) / 3)
    assert e.settings["windows.active_window"] == 365
    assert e.caveats and e.formula.startswith("(E − N) / S")


def test_document_shape():
    cfg = shop.config(targets={"churn_rate": {"max": 0.05}})
    doc = compute_result(
        shop.tables(),
        cfg,
        "2025Q2",
        by="channel",
        compare="yoy",
        as_of=shop.AS_OF,
        metrics=["churn_rate"],
    ).to_document()
    assert set(doc) == {
        "version",
        "as_of",
        "period",
        "compare",
        "by",
        "settings",
        "warnings",
        "metrics",
    }
    assert doc["compare"]["mode"] == "yoy" and doc["by"] == ["channel"]
    row = doc["metrics"][0]
    assert set(row) == {
        "metric",
        "name",
        "family",
        "unit",
        "direction",
        "group",
        "value",
        "n",
        "status",
        "reason",
        "compare_value",
        "delta",
        "delta_pct",
        "target",
        "target_met",
        "attainment",
        "details",
    }
    assert row["target"] == {"min": None, "max": 0.05}
    json.dumps(doc, default=str)


def test_workspace_metrics_api(tmp_path: Path):
    wh = tmp_path / "warehouse"
    wh.mkdir()
    for name, lf in shop.tables().items():
        lf.collect().write_parquet(wh / f"{name}.parquet")
    ws = Workspace(tmp_path)
    df = ws.metrics(period="2025Q2", metrics=["net_revenue", "retention_rate"])
    assert df["metric"].to_list() == ["net_revenue", "retention_rate"]
    assert df["value"][0] == pytest.approx(405)
    # as-of defaults to the last date in the data: the walk-in order on 2025-06-10
    assert str(df["as_of"][0]) == "2025-06-10"


def test_every_registered_metric_is_tested_by_name():
    text = "".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("test_*.py"))
    missing = [name for name in REGISTRY if f'"{name}"' not in text]
    assert not missing


def test_every_metric_has_names_and_a_formula():
    for m in REGISTRY.values():
        assert m.en and m.zh and m.formula and m.definition and m.tables


def test_dates_follow_the_workspace_time_zone():
    import polars as pl

    tabs = shop.tables()
    late = shop.order("o12", "B", "2025-03-31", "completed", 10)
    late["ordered_at"] = shop.ts("2025-03-31 20:00")  # 2025-04-01 04:00 in Shanghai
    tabs["orders"] = pl.concat([tabs["orders"], shop.frame("orders", [late])])
    utc = shop.results("orders", tabs=tabs)["orders"]["value"]
    sh = shop.results("orders", tabs=tabs, cfg=shop.config(timezone="Asia/Shanghai"))
    assert utc == 5 and sh["orders"]["value"] == 5 + 1


def test_only_surveys_still_answers_every_metric_with_a_value_or_a_reason():
    tabs = {"survey_responses": shop.tables()["survey_responses"]}
    rows = shop.results(tabs=tabs)
    assert rows["nps"]["value"] == pytest.approx(100 * (3 - 2) / 6)
    assert rows["revenue"]["reason"] == "needs orders"
    assert all(r["value"] is not None or r["reason"] for r in rows.values())


def test_warns_when_the_active_window_reaches_before_the_data():
    young = compute_result(shop.tables(), shop.config(), "2023Q2", as_of=shop.AS_OF)
    assert any("active window" in w for w in young.warnings)
    grown = compute_result(shop.tables(), shop.config(), "2025Q2", as_of=shop.AS_OF)
    assert not any("active window" in w for w in grown.warnings)


def test_data_missing_a_column_give_a_reason_not_a_crash():
    tabs = shop.tables()
    tabs["events"] = tabs["events"].drop("event_type")
    row = shop.results("email_open_rate", tabs=tabs)["email_open_rate"]
    assert row["status"] == "unavailable" and "event_type" in row["reason"]


@pytest.mark.parametrize("by", [None, "channel"])
def test_several_periods_in_one_pass_equal_each_alone(by, monkeypatch):
    # Periods that end on the same day share one context (one facts pass); each result must be
    # what the period gives alone. Three ends here: 2025-06-30, 2024-02-29 and 2024-03-31.
    from crmkit.metrics import context

    passes = []
    real = context._all_facts
    monkeypatch.setattr(context, "_all_facts", lambda shared: passes.append(1) or real(shared))
    cfg = shop.config(targets={"churn_rate": {"max": 0.05}})
    periods = ["2025Q2", "2024-02", "last-90d", "2024Q1", "2025-06", "2024-03", "last-365d"]
    together = compute_results(shop.tables(), cfg, periods, by=by, compare="yoy", as_of=shop.AS_OF)
    assert len(passes) == 3
    assert [r.period.label for r in together][:2] == ["2025Q2", "2024-02"]
    for text, got in zip(periods, together, strict=True):
        alone = compute_result(shop.tables(), cfg, text, by=by, compare="yoy", as_of=shop.AS_OF)
        assert got.frame.equals(alone.frame), text
        assert got.warnings == alone.warnings and got.compare == alone.compare
    if by is None:  # the hand-worked 2025Q2 values of test_compare_yoy_and_previous
        rows = {r["metric"]: r for r in together[0].frame.to_dicts()}
        assert rows["revenue"]["value"] == pytest.approx(435)
        assert rows["revenue"]["compare_value"] == pytest.approx(180)
