"""The metric registry: every metric declared once, with its names, formula, needs and function.

A metric function takes a `crmkit.metrics.context.Context` and returns a polars DataFrame with the
breakdown columns (`ctx.by`), `value`, `n` and any inputs worth explaining (numerators,
denominators, S/E/N…); it raises `Unavailable` when its data are missing. Adding a metric is one
`@metric(...)` declaration on its function in the family's module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import polars as pl

if TYPE_CHECKING:
    from crmkit.metrics.context import Context

Family = Literal["acquisition", "value", "retention", "satisfaction", "service", "engagement"]
Unit = Literal["count", "currency", "ratio", "score", "days", "months", "hours"]
Direction = Literal["higher_is_better", "lower_is_better", "neutral"]

FAMILIES: tuple[str, ...] = (
    "acquisition",
    "value",
    "retention",
    "satisfaction",
    "service",
    "engagement",
)
FAMILY_NAMES = {
    "acquisition": ("Acquisition", "获客"),
    "value": ("Value", "价值"),
    "retention": ("Retention and loyalty", "留存与忠诚"),
    "satisfaction": ("Satisfaction", "满意度"),
    "service": ("Service", "服务"),
    "engagement": ("Engagement", "互动"),
}


class Unavailable(Exception):
    """A metric cannot be computed from the data at hand; the message says why."""


@dataclass(frozen=True)
class Metric:
    """One metric's declaration; `fn` computes it, everything else documents and explains it."""

    name: str
    en: str
    zh: str
    family: str
    definition: str
    formula: str
    unit: str
    direction: str
    tables: tuple[str, ...]
    fn: Callable[[Context], pl.DataFrame]
    settings: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()
    order_dims: bool = True  # can be split by an order column (channel, store, source)
    inputs: dict[str, str] = field(default_factory=dict)

    def display(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en


REGISTRY: dict[str, Metric] = {}


def metric(
    name: str,
    *,
    en: str,
    zh: str,
    family: str,
    definition: str,
    formula: str,
    unit: str,
    direction: str,
    tables: tuple[str, ...],
    settings: tuple[str, ...] = (),
    caveats: tuple[str, ...] = (),
    order_dims: bool = True,
    inputs: dict[str, str] | None = None,
) -> Callable[[Callable[[Context], pl.DataFrame]], Callable[[Context], pl.DataFrame]]:
    """Declare a metric on its implementing function (registration order = display order)."""
    assert family in FAMILIES, family
    assert unit in ("count", "currency", "ratio", "score", "days", "months", "hours"), unit
    assert direction in ("higher_is_better", "lower_is_better", "neutral"), direction

    def wrap(fn: Callable[[Context], pl.DataFrame]) -> Callable[[Context], pl.DataFrame]:
        if name in REGISTRY:
            raise ValueError(f"metric {name!r} declared twice")
        REGISTRY[name] = Metric(
            name=name,
            en=en,
            zh=zh,
            family=family,
            definition=definition,
            formula=formula,
            unit=unit,
            direction=direction,
            tables=tables,
            fn=fn,
            settings=settings,
            caveats=caveats,
            order_dims=order_dims,
            inputs=dict(inputs or {}),
        )
        return fn

    return wrap


def load() -> dict[str, Metric]:
    """Import every family module (which registers its metrics) and return the registry."""
    from crmkit.metrics import (  # noqa: F401
        acquisition,
        engagement,
        retention,
        satisfaction,
        service,
        value,
    )

    return REGISTRY


def ordered() -> list[Metric]:
    """Every metric, grouped by family in the documented family order."""
    reg = load()
    return sorted(reg.values(), key=lambda m: FAMILIES.index(m.family))
