"""Feedback text: segmentation, stop words, themes by NPS group and sentiment."""

from __future__ import annotations

import polars as pl
import pytest

from crmkit.analysis.feedback import (
    annotate,
    feedback_texts,
    sentiment_summary,
    theme_contrast,
    themes,
    tokenize,
)
from crmkit.analysis.sentiment import label, language, score

from .helpers import frame, ts


def test_chinese_is_segmented_and_stop_words_removed():
    assert tokenize("物流太慢，包装很好") == ["物流", "太慢", "包装"]  # 很 stop word, 好 one char
    assert tokenize("客服很耐心，发货也快，好评") == ["客服", "耐心", "发货", "快", "好评"]
    assert tokenize("退款什么时候到账?(订单 #12047)")[0] == "退款"  # order number removed
    assert not any(ch.isdigit() for t in tokenize("退款什么时候到账?(订单 #12047)") for ch in t)


def test_english_tokens_lower_case_without_stop_words():
    assert tokenize("The delivery was late and the tea is great!") == [
        "delivery",
        "late",
        "tea",
        "great",
    ]
    assert tokenize("Refund request #37209") == ["refund", "request"]


# Hand-made annotated texts: 2 detractors, 2 promoters, 1 passive.
ANNOTATED = pl.DataFrame(
    {
        "nps_group": ["detractor", "detractor", "promoter", "promoter", "passive"],
        "terms": [["物流", "太慢"], ["物流", "物流", "价格"], ["好喝", "物流"], ["好喝"], ["价格"]],
        "sentiment": [-0.8, -0.4, 0.9, 0.5, 0.0],
        "sentiment_label": ["negative", "negative", "positive", "positive", "neutral"],
    }
)


def test_themes_count_texts_not_repeats():
    overall = themes(ANNOTATED, top=2)
    # 物流 appears in 3 of 5 texts (twice in one: counted once); 价格 and 好喝 in 2 each,
    # tie broken by the term (价 U+4EF7 < 好 U+597D).
    assert overall.select("term", "docs", "rank").rows() == [("物流", 3, 1), ("价格", 2, 2)]
    assert overall["share"].to_list() == pytest.approx([3 / 5, 2 / 5])
    by = themes(ANNOTATED, by="nps_group", top=1)
    assert by.select("group", "term", "docs", "share").rows() == [
        ("detractor", "物流", 2, 2 / 2),
        ("passive", "价格", 1, 1 / 1),
        ("promoter", "好喝", 2, 2 / 2),
    ]


def test_contrast_detractors_vs_promoters():
    c = theme_contrast(ANNOTATED, min_docs=1)
    got = {r["term"]: r for r in c.to_dicts()}
    assert got["物流"]["difference"] == pytest.approx(2 / 2 - 1 / 2)
    assert got["好喝"]["difference"] == pytest.approx(0 / 2 - 2 / 2)
    assert got["太慢"]["detractor_docs"] == 1 and got["太慢"]["promoter_docs"] == 0
    assert c["term"][-1] == "好喝"  # what promoters talk about most, relative to detractors


def test_sentiment_summary_by_group():
    s = sentiment_summary(ANNOTATED)
    det = s.filter(pl.col("group") == "detractor").row(0, named=True)
    assert (det["texts"], det["mean_sentiment"], det["negative_share"]) == (
        2,
        pytest.approx((-0.8 - 0.4) / 2),
        1.0,
    )


def test_sentiment_models_by_language():
    assert (language("物流太慢"), language("slow delivery")) == ("zh", "en")
    assert score("质量很差，非常失望") < -0.05
    assert score("Terrible service, very disappointed") < -0.05
    assert score("Lovely tea, great packaging") > 0.05
    assert (label(0.5), label(-0.5), label(0.0)) == ("positive", "negative", "neutral")


def test_feedback_texts_and_annotate_from_tables():
    responses = frame(
        "survey_responses",
        [
            {
                "response_id": "r1",
                "responded_at": ts("2025-01-01"),
                "nps": 2.0,
                "comment": "物流太慢",
            },
            {"response_id": "r2", "responded_at": ts("2025-01-01"), "nps": -99.0, "comment": "ok"},
            {"response_id": "r3", "responded_at": ts("2025-01-01"), "nps": 9.0, "comment": "  "},
        ],
    )
    tickets = frame(
        "tickets",
        [{"ticket_id": "t1", "created_at": ts("2025-01-02"), "subject": "Refund request #1"}],
    )
    texts = feedback_texts(responses, tickets, missing_codes=[-99]).collect()
    assert texts.select("source", "id", "nps_group").rows() == [
        ("survey", "r1", "detractor"),
        ("survey", "r2", "(no nps)"),  # -99 is a missing code, not a detractor
        ("ticket", "t1", "(no nps)"),
    ]
    ann = annotate(texts)
    assert ann["terms"].to_list() == [["物流", "太慢"], ["ok"], ["refund", "request"]]
    assert ann["lang"].to_list() == ["zh", "en", "en"]
