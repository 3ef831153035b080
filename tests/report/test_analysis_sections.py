"""The analysis sections (buying cycle, baskets, survey drivers, customer feedback): values
match the analysis functions run independently on the fixture tables (and hand-worked numbers),
each is unavailable with its reason when its data is missing, contacts stay hidden, zh labels.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from crmkit.analysis import (
    annotate,
    association_rules,
    basket_items,
    feedback_texts,
    gap_histogram,
    key_drivers,
    next_orders,
    overdue_valuable,
    sentiment_summary,
    theme_contrast,
)
from crmkit.cli.app import app
from crmkit.report import build_report
from crmkit.report.build import SECTION_ORDER
from crmkit.report.html import render_html
from crmkit.report.jsondoc import report_document
from crmkit.report.markdown import render_markdown
from crmkit.workspace import Workspace
from tests.report.fixture import (
    EMAILS,
    HOSTILE,
    PHONES,
    make_workspace,
    order_lines,
    orders,
    surveys,
    tickets,
)

AS_OF = dt.date(2025, 6, 30)
NEW = ("cycle", "baskets", "drivers", "feedback")
TITLES_EN = ("Buying cycle", "Baskets", "Survey drivers", "Customer feedback")
TITLES_ZH = ("购买周期", "购物篮", "满意度驱动因素", "客户反馈")


def test_sections_sit_between_satisfaction_and_metrics(report_en):
    keys = [s.key for s in report_en.sections]
    assert keys == list(SECTION_ORDER)
    i = keys.index("satisfaction")
    assert keys[i + 1 : i + 6] == [*NEW, "metrics"]
    for key, title in zip(NEW, TITLES_EN, strict=True):
        sec = report_en.section(key)
        assert sec.ok, (key, sec.reason)
        assert sec.title == title


# ----------------------------------------------------------------------------- buying cycle


def test_cycle_histogram_and_overdue_match_the_analysis(report_en):
    sec = report_en.section("cycle")
    lf = orders().lazy()
    hist = gap_histogram(lf, AS_OF).collect()
    shown = sec.table("gap_histogram").frame
    assert shown.filter(pl.col("gaps") > 0).select(hist.columns).equals(hist)
    assert shown["gaps"].sum() == 17  # every customer buys every 23 days: 17 gaps of 23
    assert shown.filter(pl.col("bucket") == "15-30")["gaps"].item() == 17
    dist = sec.table("gap_distribution").frame.row(0, named=True)
    assert dist["label"] == "All customers" and dist["median"] == 23.0
    expected = overdue_valuable(
        next_orders(lf, AS_OF), 10, as_of=AS_OF, active_window=365
    ).collect()
    overdue = sec.table("overdue")
    assert overdue.frame["customer_key"].to_list() == expected["customer_key"].to_list()
    assert overdue.frame["days_overdue"].to_list() == expected["days_overdue"].to_list()
    # Hand-worked: c6 bought on 9 Feb and every 23 days after, last on 12 May (5 purchases of
    # 98 + 7k), so was due on 4 Jun and is 26 days late as of 30 Jun, the most valuable.
    top = overdue.frame.row(0, named=True)
    assert top["customer_key"] == "c6" and top["full_name"] == "王芳"
    assert top["last_purchase"] == dt.date(2025, 5, 12)
    assert top["expected_next"] == dt.date(2025, 6, 4) and top["days_overdue"] == 26
    assert float(top["net_revenue"]) == 560.0
    labels = [c.key for c in overdue.columns]
    assert "email" not in labels and "phone" not in labels
    assert "email" not in overdue.frame.columns and "phone" not in overdue.frame.columns


def test_overdue_contacts_only_with_include_pii(ws_path: Path, tmp_path: Path):
    data = build_report(Workspace(ws_path), period="Q2", include_pii=True)
    overdue = data.section("cycle").table("overdue")
    assert [c.key for c in overdue.columns][:4] == ["customer_key", "full_name", "email", "phone"]
    assert EMAILS[6] in overdue.frame["email"].to_list()
    hidden = make_workspace(tmp_path / "ws", names="hidden")
    data = build_report(Workspace(hidden), period="Q2")
    keys = [c.key for c in data.section("cycle").table("overdue").columns]
    assert "full_name" not in keys and "email" not in keys


# ----------------------------------------------------------------------------- baskets


def test_basket_rules_match_the_analysis(report_en):
    sec = report_en.section("baskets")
    for level in ("product", "category"):
        items = basket_items(order_lines().lazy(), orders().lazy(), level=level, as_of=AS_OF)
        rules, n, _ = association_rules(
            items, min_support=0.01, min_confidence=0.1, min_lift=1.0
        )  # the `analysis:` defaults (the fixture config sets none of them)
        shown = sec.table(f"rules_{level}").frame
        assert n == 27
        assert shown.height == min(10, rules.height) > 0
        cols = ["antecedent", "consequent", "orders", "support", "confidence", "lift"]
        assert shown.select(cols).equals(rules.head(10).select(cols))
        assert shown["lift"].to_list() == sorted(shown["lift"].to_list(), reverse=True)
    # Hand-worked: CUP-BLUE is in orders 1, 5, 9, …, 25 (7 of 27), always with TEA-GREEN (the
    # 14 odd orders): confidence 1, lift 1 / (14/27) = 27/14.
    top = sec.table("rules_product").frame.row(0, named=True)
    assert (top["antecedent"], top["consequent"], top["orders"]) == ("CUP-BLUE", "TEA-GREEN", 7)
    assert top["support"] == pytest.approx(7 / 27)
    assert top["confidence"] == pytest.approx(1.0)
    assert top["lift"] == pytest.approx(27 / 14)
    assert any("support ≥ 1.00%" in n and "lift ≥ 1.00" in n for n in sec.notes)


def test_basket_thresholds_come_from_the_config(tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    cfg = ws / "crmkit.yaml"
    cfg.write_text(
        cfg.read_text().replace(
            "  drivers_min_n: 15\n", "  drivers_min_n: 15\n  basket_min_lift: 1.5\n"
        )
    )
    sec = build_report(Workspace(ws), period="Q2").section("baskets")
    assert sec.table("rules_product").frame["lift"].min() >= 1.5
    assert sec.table("rules_product").frame.height == 4
    assert sec.table("rules_category").frame.height == 0
    assert any("lift ≥ 1.50" in n for n in sec.notes)
    assert any(n.startswith("Categories: no pair") for n in sec.notes)


# ----------------------------------------------------------------------------- survey drivers


def test_drivers_match_the_analysis(report_en):
    sec = report_en.section("drivers")
    res = key_drivers(surveys().lazy(), target="nps", min_n=15)
    shown = sec.table("drivers").frame
    assert shown["attribute"].to_list() == res.drivers["attribute"].to_list()
    assert shown["importance"].to_list() == pytest.approx(res.drivers["importance"].to_list())
    assert shown["performance"].to_list() == pytest.approx(res.drivers["performance"].to_list())
    assert shown["importance"].sum() == pytest.approx(1.0)
    summary = dict(sec.table("drivers_summary").frame.select("label", "value_text").iter_rows())
    # 24 responses; one without ratings and one with the missing code -99 for price → 22.
    assert res.n == 22 and summary["Complete responses (n)"] == "22"
    assert summary["R²"] == f"{res.r2:.3f}"
    assert sec.table("fix_first").frame["attribute"].to_list() == res.fix_first == ["delivery"]
    assert shown.filter(pl.col("attribute") == "delivery")["quadrant_label"].item() == "Fix first"


# ----------------------------------------------------------------------------- feedback


@pytest.fixture(scope="module")
def annotated() -> pl.DataFrame:
    texts = feedback_texts(surveys().lazy(), tickets().lazy()).collect()
    return annotate(texts)


def test_feedback_matches_the_analysis(report_en, annotated):
    sec = report_en.section("feedback")
    contrast = theme_contrast(annotated)
    det = sec.table("themes_detractors").frame
    assert det["term"].to_list() == contrast.filter(pl.col("difference") > 0)["term"][:10].to_list()
    pro = sec.table("themes_promoters").frame
    assert set(pro["term"]) == set(contrast.filter(pl.col("difference") < 0)["term"])
    # Hand-worked: "slow" is in 9 of the 14 detractor comments and in no promoter comment.
    slow = det.filter(pl.col("term") == "slow").row(0, named=True)
    assert (slow["detractor_docs"], slow["promoter_docs"]) == (9, 0)
    assert slow["difference"] == pytest.approx(9 / 14)
    assert pro.row(0, named=True)["promoter_share"] == pytest.approx(1.0)
    senti = sentiment_summary(annotated)
    shown = sec.table("sentiment").frame
    assert shown["label"].to_list() == [
        "Detractors (0-6)",
        "Passives (7-8)",
        "Promoters (9-10)",
        "No NPS (tickets, unanswered)",
    ]
    for g, label in (("detractor", "Detractors (0-6)"), ("promoter", "Promoters (9-10)")):
        want = senti.filter(pl.col("group") == g).row(0, named=True)
        got = shown.filter(pl.col("label") == label).row(0, named=True)
        assert got["texts"] == want["texts"]
        assert got["mean_sentiment"] == pytest.approx(want["mean_sentiment"])
    mean = dict(zip(shown["label"], shown["mean_sentiment"], strict=True))
    assert mean["Promoters (9-10)"] > 0 > mean["Detractors (0-6)"]
    assert any(n.startswith("30 survey comments") for n in sec.notes)


# ----------------------------------------------------------------------------- missing data


def _rewrite(ws: Path, table: str, **nulls: type[pl.DataType]) -> None:
    path = ws / "warehouse" / f"{table}.parquet"
    df = pl.read_parquet(path)
    df.with_columns(pl.lit(None, dtype).alias(c) for c, dtype in nulls.items()).write_parquet(path)


def test_unavailable_without_lines_ratings_or_texts(tmp_path: Path):
    ws = make_workspace(tmp_path / "ws", skip=("order_lines",))
    _rewrite(ws, "survey_responses", ratings=pl.String, comment=pl.String)
    _rewrite(ws, "tickets", subject=pl.String)
    data = build_report(Workspace(ws), period="Q2")
    assert data.section("cycle").ok
    baskets, drivers, feedback = (data.section(k) for k in ("baskets", "drivers", "feedback"))
    assert not baskets.ok and "No `order_lines` table" in baskets.reason
    assert "ingest order lines" in baskets.reason
    assert not drivers.ok and "No attribute ratings" in drivers.reason
    assert not feedback.ok
    assert feedback.reason == "No survey comments or ticket subjects up to 30 Jun 2025."
    assert data.section("satisfaction").ok
    md = render_markdown(data)
    assert "## Baskets\n\n_Not available: No \\`order_lines\\` table" in md


def test_unavailable_without_orders_or_surveys(tmp_path: Path):
    ws = make_workspace(tmp_path / "ws", skip=("orders",))
    data = build_report(Workspace(ws), period="Q2")
    cycle, baskets = data.section("cycle"), data.section("baskets")
    assert not cycle.ok and "No `orders` table" in cycle.reason
    assert not baskets.ok and "No `orders` table" in baskets.reason
    ws = make_workspace(tmp_path / "ws2", skip=("survey_responses", "tickets"))
    data = build_report(Workspace(ws), period="Q2")
    drivers, feedback = data.section("drivers"), data.section("feedback")
    assert data.section("cycle").ok and data.section("baskets").ok
    assert not drivers.ok and "No `survey_responses` table" in drivers.reason
    assert not feedback.ok and "survey_responses / tickets" in feedback.reason


def test_too_few_ratings_or_repeat_purchases(tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    cfg = ws / "crmkit.yaml"
    cfg.write_text(cfg.read_text().replace("drivers_min_n: 15", "drivers_min_n: 100"))
    path = ws / "warehouse" / "orders.parquet"
    first = pl.read_parquet(path).sort("ordered_at").unique("customer_key", keep="first")
    first.write_parquet(path)  # one purchase day per customer: no gap to measure
    data = build_report(Workspace(ws), period="Q2")
    drivers, cycle = data.section("drivers"), data.section("cycle")
    assert not drivers.ok
    assert drivers.reason == (
        "Only 22 responses answer NPS and every attribute; key drivers need at least 100 "
        "(analysis.drivers_min_n)."
    )
    assert not cycle.ok and cycle.reason.startswith("No customer has two purchase days up to")
    zh = build_report(Workspace(ws), period="Q2", lang="zh")
    assert "只有 22 份问卷" in zh.section("drivers").reason


# ----------------------------------------------------------------------------- privacy, output


def _section_html(html: str, key: str) -> str:
    start = html.index(f'<section id="{key}"')
    return html[start : html.index("</section>", start)]


def test_no_contacts_in_the_new_sections(report_en, html_en):
    doc = report_document(report_en)
    for sec in doc["sections"]:
        if sec["key"] not in NEW:
            continue
        text = json.dumps(sec["tables"], ensure_ascii=False) + json.dumps(sec["notes"])
        assert "@" not in text, sec["key"]
        assert not any(p in text or p[3:] in text for p in PHONES), sec["key"]
        assert not any(e in text for e in EMAILS), sec["key"]
        part = _section_html(html_en, sec["key"])
        assert "@" not in re.sub(r"<svg.*?</svg>", "", part, flags=re.S), sec["key"]
        assert not any(p[3:] in part for p in PHONES), sec["key"]
        # Only dates, money and small counts: no run of 7+ digits (a phone) in the page text.
        visible = re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", "", part, flags=re.S))
        assert not re.search(r"\d{7,}", visible), sec["key"]


def test_html_escapes_names_and_lists_the_sections(report_en, html_en):
    cycle = _section_html(html_en, "cycle")
    assert HOSTILE not in cycle and "&lt;script&gt;alert(1)&lt;/script&gt;" in cycle
    for key, title in zip(NEW, TITLES_EN, strict=True):
        assert f'<a href="#{key}" class="">{title}</a>' in html_en
        assert f'data-section="{key}" data-status="ok"' in html_en
    for chart in ("gap_histogram", "rules_product", "rules_category", "drivers", "sentiment"):
        assert f'data-chart="{chart}"' in html_en


def test_other_formats_carry_the_sections(report_en, tmp_path: Path):
    from crmkit.report import write_report

    md = render_markdown(report_en)
    for title in TITLES_EN:
        assert f"## {title}" in md
    assert "| CUP-BLUE | TEA-GREEN | 7 | 25.9% | 100.0% | 1.93 |" in md
    doc = report_document(report_en)
    keys = [s["key"] for s in doc["sections"]]
    assert keys[keys.index("satisfaction") + 1 :][:4] == list(NEW)
    import zipfile

    path = write_report(report_en, tmp_path / "r.xlsx")
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode("utf-8")
    for title in TITLES_EN:
        assert f'<sheet name="{title}"' in book


def test_chinese_labels(report_zh):
    html = render_html(report_zh)
    for key, title in zip(NEW, TITLES_ZH, strict=True):
        assert report_zh.section(key).title == title
        assert f"<h2>{title}</h2>" in html
        assert f'<a href="#{key}" class="">{title}</a>' in html
    for label in ("逾期未购的高价值客户", "提升度", "置信度", "优先改进", "贬损者更常提到的话题"):
        assert label in html, label


def test_cli_lang_zh(ws_path: Path, tmp_path: Path):
    out = tmp_path / "r.md"
    res = CliRunner().invoke(
        app, ["report", "-w", str(ws_path), "-p", "Q2", "-o", str(out), "--lang", "zh"]
    )
    assert res.exit_code == 0, res.output
    md = out.read_text(encoding="utf-8")
    for title in TITLES_ZH:
        assert f"## {title}" in md
    assert "按提升度排名的商品组合" in md and "各 NPS 分组的情感" in md
