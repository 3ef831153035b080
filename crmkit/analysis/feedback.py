"""Feedback text: themes and sentiment of survey comments and ticket subjects (Chinese and
English), overall and by NPS group — what detractors talk about that promoters do not.

Chinese is segmented with jieba; stop words come from small curated lists shipped in
`crmkit/analysis/data/`. Tokenising and scoring run once per distinct text.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from crmkit.analysis import sentiment
from crmkit.analysis.common import end_of, resolve_as_of, settings, workspace_segments
from crmkit.analysis.survey import clean_score
from crmkit.errors import DataError, UsageError

if TYPE_CHECKING:
    from crmkit.workspace import Workspace

Source = Literal["survey", "tickets", "all"]
SOURCES = ("survey", "tickets", "all")
NO_NPS = "(no nps)"
# Single Chinese characters that carry a complaint or praise on their own.
KEEP_SINGLE = frozenset("慢贵差快香苦涩淡甜脏破坏旧")
_WORD = re.compile(r"[a-z\u3400-\u9fff]")
NOISE = r"(?i)[(（]?\s*(?:订单|order)?\s*#\s*\d+\s*[)）]?"
_NOISE = re.compile(NOISE)


@cache
def stopwords() -> frozenset[str]:
    """The curated zh + en stop words shipped with crmkit."""
    words: set[str] = set()
    for name in ("stopwords_en.txt", "stopwords_zh.txt"):
        text = (resources.files("crmkit.analysis") / "data" / name).read_text("utf-8")
        words.update(w.strip() for w in text.splitlines() if w.strip() and w[0] != "#")
    return frozenset(words)


@cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # the library never prints
    return jieba


def tokenize(text: str) -> list[str]:
    """Content words of a text: jieba segmentation, lower-case, no stop words or noise."""
    stop = stopwords()
    clean = _NOISE.sub(" ", text).lower()
    out = []
    for raw in _jieba().lcut(clean):
        tok = raw.strip().strip("'\"")
        if not tok or tok in stop or not _WORD.search(tok) or any(c.isdigit() for c in tok):
            continue
        if len(tok) == 1 and tok not in KEEP_SINGLE:
            continue
        out.append(tok)
    return out


def nps_group(col: str = "nps") -> pl.Expr:
    """promoter (9–10), passive (7–8), detractor (0–6) or "(no nps)"."""
    v = pl.col(col)
    return (
        pl.when(v >= 9)
        .then(pl.lit("promoter"))
        .when(v >= 7)
        .then(pl.lit("passive"))
        .when(v.is_not_null())
        .then(pl.lit("detractor"))
        .otherwise(pl.lit(NO_NPS))
        .alias("nps_group")
    )


def feedback_texts(
    responses: pl.LazyFrame | None,
    tickets: pl.LazyFrame | None,
    *,
    missing_codes: Sequence[float] = (-99, -2, -3),
) -> pl.LazyFrame:
    """Survey comments and ticket subjects as (source, id, customer_key, at, text, nps_group)."""
    frames = []
    if responses is not None:
        frames.append(
            responses.with_columns(clean_score("nps", (0, 10), missing_codes)).select(
                pl.lit("survey").alias("source"),
                pl.col("response_id").alias("id"),
                "customer_key",
                pl.col("responded_at").alias("at"),
                pl.col("comment").str.strip_chars().alias("text"),
                nps_group(),
            )
        )
    if tickets is not None:
        frames.append(
            tickets.select(
                pl.lit("ticket").alias("source"),
                pl.col("ticket_id").alias("id"),
                "customer_key",
                pl.col("created_at").alias("at"),
                pl.col("subject").str.strip_chars().alias("text"),
                pl.lit(NO_NPS).alias("nps_group"),
            )
        )
    if not frames:
        raise UsageError("feedback needs survey responses or tickets")
    return pl.concat(frames).filter(pl.col("text").is_not_null() & (pl.col("text") != ""))


def annotate(texts: pl.DataFrame) -> pl.DataFrame:
    """Add lang, terms (list), sentiment (-1..1) and sentiment_label, per distinct text.

    Order numbers ("#12345", "(订单 #12345)") are removed first, so ticket subjects that differ
    only by the order number are scored once.
    """
    texts = texts.with_columns(
        pl.col("text").str.replace_all(NOISE, " ").str.strip_chars().alias("_key")
    )
    distinct = texts["_key"].unique().sort().to_list()
    scores = sentiment.scores(distinct)
    table = pl.DataFrame(
        {
            "_key": distinct,
            "lang": [sentiment.language(t) for t in distinct],
            "terms": [tokenize(t) for t in distinct],
            "sentiment": [scores[t] for t in distinct],
        },
        schema={
            "_key": pl.String,
            "lang": pl.String,
            "terms": pl.List(pl.String),
            "sentiment": pl.Float64,
        },
    ).with_columns(
        pl.when(pl.col("sentiment") >= sentiment.POSITIVE)
        .then(pl.lit("positive"))
        .when(pl.col("sentiment") <= sentiment.NEGATIVE)
        .then(pl.lit("negative"))
        .otherwise(pl.lit("neutral"))
        .alias("sentiment_label")
    )
    return texts.join(table, on="_key", how="left", maintain_order="left").drop("_key")


def themes(annotated: pl.DataFrame, *, by: str | None = None, top: int = 20) -> pl.DataFrame:
    """Top terms by the number of texts mentioning them (docs) and their share of the texts."""
    key = by or "_all"
    df = annotated.with_columns(pl.lit("(all)").alias("_all")) if by is None else annotated
    sizes = df.group_by(key).agg(pl.len().alias("texts"))
    return (
        df.select(key, pl.col("terms").list.unique())
        .explode("terms")
        .drop_nulls("terms")
        .group_by(key, "terms")
        .agg(pl.len().alias("docs"))
        .join(sizes, on=key)
        .with_columns((pl.col("docs") / pl.col("texts")).alias("share"))
        .sort([key, "docs", "terms"], descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1).over(key).alias("rank"))
        .filter(pl.col("rank") <= top)
        .select(pl.col(key).alias("group"), pl.col("terms").alias("term"), "docs", "share", "rank")
        .with_columns(pl.col("docs").cast(pl.Int64), pl.col("rank").cast(pl.Int64))
    )


def theme_contrast(annotated: pl.DataFrame, *, min_docs: int = 2) -> pl.DataFrame:
    """Terms by share of detractor texts minus share of promoter texts (positive: detractors)."""
    groups = {}
    for g in ("detractor", "promoter"):
        sub = annotated.filter(pl.col("nps_group") == g)
        counts = (
            sub.select(pl.col("terms").list.unique())
            .explode("terms")
            .drop_nulls()
            .group_by("terms")
            .agg(pl.len().cast(pl.Int64).alias(f"{g}_docs"))
            .with_columns((pl.col(f"{g}_docs") / max(sub.height, 1)).alias(f"{g}_share"))
        )
        groups[g] = counts
    both = groups["detractor"].join(groups["promoter"], on="terms", how="full", coalesce=True)
    return (
        both.with_columns(
            pl.col("detractor_docs", "promoter_docs").fill_null(0),
            pl.col("detractor_share", "promoter_share").fill_null(0.0),
        )
        .filter(pl.col("detractor_docs") + pl.col("promoter_docs") >= min_docs)
        .with_columns((pl.col("detractor_share") - pl.col("promoter_share")).alias("difference"))
        .rename({"terms": "term"})
        .sort(["difference", "term"], descending=[True, False])
    )


def sentiment_summary(annotated: pl.DataFrame, *, by: str = "nps_group") -> pl.DataFrame:
    """Texts, mean sentiment and positive/negative shares per group."""
    return (
        annotated.group_by(by)
        .agg(
            pl.len().cast(pl.Int64).alias("texts"),
            pl.col("sentiment").mean().alias("mean_sentiment"),
            (pl.col("sentiment_label") == "positive").mean().alias("positive_share"),
            (pl.col("sentiment_label") == "negative").mean().alias("negative_share"),
        )
        .sort(by)
        .rename({by: "group"})
    )


@dataclass(frozen=True)
class FeedbackResult:
    """Annotated texts and the views `crmkit feedback` shows."""

    texts: pl.DataFrame
    themes: pl.DataFrame
    themes_by_group: pl.DataFrame
    contrast: pl.DataFrame
    sentiment: pl.DataFrame


def feedback_workspace(
    ws: Workspace,
    *,
    as_of: dt.date | None = None,
    source: Source = "all",
    top: int | None = None,
) -> FeedbackResult:
    """Themes and sentiment of a workspace's comments and ticket subjects up to as-of."""
    if source not in SOURCES:
        raise UsageError(f"unknown feedback source {source!r}", hint="use survey, tickets or all")
    day = resolve_as_of(ws, as_of)
    limit = end_of(day)
    resp = tick = None
    if source in ("survey", "all") and ws.has_table("survey_responses"):
        resp = ws.table("survey_responses").filter(pl.col("responded_at") < limit)
    if source in ("tickets", "all") and ws.has_table("tickets"):
        tick = ws.table("tickets").filter(pl.col("created_at") < limit)
    if resp is None and tick is None:
        raise DataError("feedback needs survey_responses or tickets; neither has rows")
    texts = feedback_texts(resp, tick, missing_codes=ws.config["missing_codes"]).collect()
    if texts.height == 0:
        raise DataError(f"no comments or ticket subjects up to {day}")
    segs = workspace_segments(ws, day)
    if segs is not None:
        texts = texts.join(segs.collect(), on="customer_key", how="left")
    n = int(top or settings(ws)["feedback_top"])
    ann = annotate(texts)
    return FeedbackResult(
        texts=ann,
        themes=themes(ann, top=n),
        themes_by_group=themes(ann, by="nps_group", top=n),
        contrast=theme_contrast(ann),
        sentiment=sentiment_summary(ann),
    )
