"""`crmkit metrics explain NAME`: a metric's definition, formula, inputs with counts, settings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from crmkit.config import Config
from crmkit.metrics.engine import compute_result, select_metrics
from crmkit.metrics.settings import SETTING_DOCS, get_setting


@dataclass
class Explanation:
    """Everything needed to trace one metric's number back to its data and choices."""

    name: str
    display: str
    family: str
    definition: str
    formula: str
    unit: str
    direction: str
    tables: list[str]
    period: dict[str, str]
    as_of: str
    value: float | None
    n: int | None
    status: str
    reason: str | None
    inputs: dict[str, Any]
    input_docs: dict[str, str]
    settings: dict[str, Any]
    setting_docs: dict[str, str]
    caveats: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def explain_tables(
    tables: Mapping[str, pl.LazyFrame],
    config: Config,
    name: str,
    period: str | None = None,
    *,
    as_of: date | None = None,
    lang: str = "en",
) -> Explanation:
    """Explain one metric computed for `period` from the given tables."""
    (m,) = select_metrics([name])
    result = compute_result(tables, config, period, metrics=[name], as_of=as_of, lang=lang)
    row = result.frame.row(0, named=True)
    inputs = json.loads(row["details"]) if row["details"] else {}
    return Explanation(
        name=m.name,
        display=m.display(lang),
        family=m.family,
        definition=m.definition,
        formula=m.formula,
        unit=m.unit,
        direction=m.direction,
        tables=list(m.tables),
        period=result.period.to_dict(),
        as_of=result.as_of.isoformat(),
        value=row["value"],
        n=row["n"],
        status=row["status"],
        reason=row["reason"],
        inputs=inputs,
        input_docs=dict(m.inputs),
        settings={s: get_setting(config, s) for s in m.settings},
        setting_docs={s: SETTING_DOCS.get(s, "") for s in m.settings},
        caveats=list(m.caveats),
    )


def explain(ws: Any, name: str, period: str | None = None, **kwargs: Any) -> Explanation:
    """Explain one metric for a workspace (as-of defaults to the last date in its data)."""
    return explain_tables(ws.tables(), ws.config, name, period, **kwargs)
