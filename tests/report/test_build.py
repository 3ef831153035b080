"""build_report: every section from the fixture; missing data gives a one-line reason, no crash."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from crmkit.errors import UsageError
from crmkit.report import build_report
from crmkit.report import sections as S
from crmkit.report.build import SECTION_ORDER
from crmkit.workspace import Workspace
from tests.report.fixture import make_workspace, orders


def test_every_section_ok_on_the_fixture(report_en):
    assert [s.key for s in report_en.sections] == list(SECTION_ORDER)
    assert {s.key: s.status for s in report_en.sections} == dict.fromkeys(SECTION_ORDER, "ok")
    assert report_en.as_of == dt.date(2025, 6, 30)
    assert report_en.period["start"] == dt.date(2025, 4, 1)
    assert report_en.compare["end"] == dt.date(2025, 3, 31)


def test_trend_numbers_match_the_orders(report_en):
    # Independent check: sum the fixture's completed orders of June 2025 directly.
    o = orders().filter(pl.col("ordered_at").dt.month() == 6)
    monthly = report_en.section("trends").table("monthly").frame
    june = monthly.filter(pl.col("month") == dt.date(2025, 6, 1)).row(0, named=True)
    assert june["orders"] == o.height
    assert june["net_revenue"] == pytest.approx(float(o["net_amount"].sum()))
    assert june["active_customers"] == o["customer_key"].drop_nulls().n_unique()
    assert monthly.height == 12


def test_segments_distribution_and_migration(report_en):
    sec = report_en.section("segments")
    dist = sec.table("dist_rfm").frame
    assert dist["customers"].sum() == 8
    assert dist.filter(pl.col("label") == "Loyal")["customers"].item() == 2
    moves = sec.table("migration_rfm").frame
    assert moves["customers"].sum() > 0
    assert (moves["from_segment"] != moves["to_segment"]).all()


def test_clv_top_customers_sorted_and_without_contacts(report_en):
    top = report_en.section("clv").table("top_customers")
    assert top.frame["clv"].to_list() == sorted(top.frame["clv"].to_list(), reverse=True)
    assert "email" not in top.frame.columns and "phone" not in top.frame.columns
    hist = report_en.section("clv").table("clv_hist").frame
    assert hist["customers"].sum() == 8


def test_quality_counts_rejects_and_unresolved(report_en):
    sec = report_en.section("quality")
    rejects = sec.table("rejects").frame
    assert rejects.filter(pl.col("reason_code") == "bad_date")["rows"].item() == 2
    unresolved = sec.table("unresolved").frame.filter(pl.col("table") == "orders")
    assert unresolved["unresolved_rows"].item() == 1  # the ghost@example.com order


def test_appendix_lists_formulas_and_settings(report_en):
    sec = report_en.section("appendix")
    formulas = sec.table("formulas").frame
    assert "churn_rate" in formulas["name"].to_list()
    settings = dict(sec.table("settings").frame.iter_rows())
    assert settings["report.names"] == "full"
    assert settings["windows.active_window"] == "365"


def test_missing_tables_make_sections_unavailable(tmp_path: Path):
    ws = make_workspace(tmp_path / "ws", skip=("clv_predictions", "segment_history"))
    data = build_report(Workspace(ws), period="Q2")
    clv, seg = data.section("clv"), data.section("segments")
    assert clv.status == "unavailable" and "clv_predictions" in clv.reason
    assert seg.status == "unavailable" and "segment_history" in seg.reason
    assert data.section("trends").ok


def test_empty_workspace_is_all_unavailable(tmp_path: Path):
    (tmp_path / "crmkit.yaml").write_text("currency: EUR\n")
    data = build_report(Workspace(tmp_path))
    assert all(not s.ok and s.reason for s in data.sections)


def test_a_failing_section_does_not_take_the_report_down(report_en, ws_path, monkeypatch):
    def boom(ctx):
        raise RuntimeError("kaput")

    monkeypatch.setattr(S, "cohorts", boom)
    data = build_report(Workspace(ws_path), period="Q2")
    assert data.section("cohorts").status == "unavailable"
    assert "kaput" in data.section("cohorts").reason
    assert data.section("trends").ok


def test_bad_arguments(ws_path):
    with pytest.raises(UsageError):
        build_report(Workspace(ws_path), lang="fr")
    with pytest.raises(UsageError):
        build_report(Workspace(ws_path), compare="sideways")


def test_metrics_computed_before_are_reused_in_the_reports_language(
    ws_path, report_zh, monkeypatch
):
    """`crmkit run` hands its metrics step's result to the report: the report must show those
    rows (names in the report's language) without computing them again; a result for another
    period is not used."""
    from crmkit import metrics as M
    from crmkit.metrics import workspace_result

    ws = Workspace(ws_path)
    done = workspace_result(ws, "Q2", compare="previous")
    other = workspace_result(ws, "Q1", compare="previous")

    def refuse(*_a, **_k):
        raise AssertionError("metrics computed again")

    monkeypatch.setattr(M, "workspace_result", refuse)
    data = build_report(ws, period="Q2", lang="zh", metrics=done)
    got = data.section("metrics").tables[0].frame
    want = report_zh.section("metrics").tables[0].frame
    assert got.equals(want)  # the report computed by itself, in Chinese
    assert "新客户数" in set(done.in_language("zh").frame["name"]) - set(done.frame["name"])
    # another period's result is not the report's: it computes its own (here: refused)
    sec = build_report(ws, period="Q2", metrics=other).section("metrics")
    assert sec.status == "unavailable" and "computed again" in sec.reason
