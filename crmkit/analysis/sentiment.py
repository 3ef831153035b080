"""Sentiment per text from models that ship inside their packages (no downloads at run time).

Chinese: SnowNLP's bundled naive-Bayes model trained on shopping reviews (P(positive) → 2p − 1).
English: VADER's bundled lexicon and rules (compound score). Both give a score in [-1, 1];
labels: positive ≥ 0.05, negative ≤ -0.05, else neutral (VADER's published thresholds).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache

from crmkit.errors import ConfigError

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
POSITIVE, NEGATIVE = 0.05, -0.05


def language(text: str) -> str:
    """ "zh" when the text holds any CJK ideograph, else "en"."""
    return "zh" if CJK.search(text) else "en"


@cache
def _vader() -> Callable[[str], float]:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:  # pragma: no cover - a declared dependency
        raise ConfigError(
            "English sentiment needs the vaderSentiment package", hint="pip install vaderSentiment"
        ) from None
    analyzer = SentimentIntensityAnalyzer()
    return lambda text: float(analyzer.polarity_scores(text)["compound"])


@cache
def _snownlp() -> Callable[[str], float]:
    try:
        from snownlp import SnowNLP
    except ImportError:  # pragma: no cover - a declared dependency
        raise ConfigError(
            "Chinese sentiment needs the snownlp package", hint="pip install snownlp"
        ) from None
    return lambda text: 2.0 * float(SnowNLP(text).sentiments) - 1.0


def score(text: str) -> float:
    """Sentiment of one text in [-1, 1], model chosen by language."""
    return _snownlp()(text) if language(text) == "zh" else _vader()(text)


def scores(texts: Iterable[str]) -> dict[str, float]:
    """Sentiment of each distinct text."""
    return {t: score(t) for t in dict.fromkeys(texts)}


def label(value: float) -> str:
    """positive / negative / neutral by the ±0.05 thresholds."""
    return "positive" if value >= POSITIVE else "negative" if value <= NEGATIVE else "neutral"
