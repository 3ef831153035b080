"""Market-basket association rules between products or categories (pairs), in pure polars.

A transaction is one purchase order (source, order_id); an item is a product_id or a category,
counted once per order. support(A) = orders with A / orders; for a pair,
confidence(A→B) = support(A∪B) / support(A) and lift(A→B) = confidence / support(B).
Pairs come from a self-join of the order lines on the order after dropping items below the
minimum support (apriori pruning: a pair is never more frequent than its rarer item).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import polars as pl

from crmkit.analysis.common import PURCHASE_STATUSES, end_of, require, resolve_as_of, settings
from crmkit.errors import DataError, UsageError

if TYPE_CHECKING:
    from crmkit.workspace import Workspace

Level = Literal["product", "category"]
LEVELS = ("product", "category")
ORDER_KEY = ["source", "order_id"]
RULE_COLUMNS = [
    "antecedent",
    "consequent",
    "orders",
    "support",
    "antecedent_support",
    "consequent_support",
    "confidence",
    "lift",
]


@dataclass(frozen=True)
class BasketResult:
    """Rules plus the counts behind them (orders considered, lines without an item)."""

    level: str
    transactions: int
    items: int
    lines_without_item: int
    rules: pl.DataFrame


def item_expr(level: Level) -> pl.Expr:
    """The item of a line at `level`: its product, or its category."""
    return pl.col("product_id") if level == "product" else pl.col("category")


def _purchase_lines(
    lines: pl.LazyFrame, orders: pl.LazyFrame | None, as_of: dt.date | None
) -> pl.LazyFrame:
    """The lines of purchase orders (placed up to as-of, when given); all lines without orders."""
    if orders is None:
        return lines
    keep = orders.filter(pl.col("status").is_in(PURCHASE_STATUSES))
    if as_of is not None:
        keep = keep.filter(pl.col("ordered_at") < end_of(as_of))
    return lines.join(keep.select(ORDER_KEY), on=ORDER_KEY, how="semi")


def basket_items(
    lines: pl.LazyFrame,
    orders: pl.LazyFrame | None = None,
    *,
    level: Level = "product",
    as_of: dt.date | None = None,
) -> pl.LazyFrame:
    """Distinct (source, order_id, item) rows of purchase orders (all lines when no orders)."""
    if level not in LEVELS:
        raise UsageError(f"unknown basket level {level!r}", hint="use product or category")
    item = item_expr(level)
    return _purchase_lines(lines, orders, as_of).select(*ORDER_KEY, item.alias("item"))


def _order_hash() -> pl.Expr:
    return pl.struct(ORDER_KEY).hash(seed=0)


@dataclass(frozen=True)
class BasketLines:
    """The lines of a workspace's purchase orders up to `as_of`, read once for both levels:
    tx (the order's 64-bit hash, as `association_rules` codes it), product_id and category."""

    as_of: dt.date
    frame: pl.DataFrame


def basket_lines(ws: Workspace, as_of: dt.date) -> BasketLines:
    """`BasketLines` of a workspace: one join of order_lines with the purchase orders (the
    heavy step at millions of lines), for callers that want rules at both levels."""
    lines = require(ws, "order_lines", "basket analysis")
    frame = (
        _purchase_lines(lines, ws.table("orders"), as_of)
        .select(_order_hash().alias("tx"), "product_id", "category")
        .collect()
    )
    return BasketLines(as_of, frame)


def association_rules(
    items: pl.LazyFrame,
    *,
    min_support: float = 0.01,
    min_confidence: float = 0.0,
    min_lift: float = 0.0,
) -> tuple[pl.DataFrame, int, int]:
    """Pair rules from (source, order_id, item) rows; returns (rules, transactions, items).

    Rows with a null item are ignored. Rules are sorted by lift, support, then names. Instead
    of source and order_id the rows may carry `tx`, the order's hash (see `BasketLines`).
    """
    base = items.filter(pl.col("item").is_not_null())
    # Orders and items become 64-bit hashes so that the heavy steps (distinct, self-join,
    # counting) run on integers; a collision among millions of keys has probability ~1e-7.
    tx = pl.col("tx") if "tx" in items.collect_schema().names() else _order_hash()
    coded = (
        base.select(
            tx.alias("tx"),
            pl.col("item").hash(seed=0).alias("ih"),
        )
        .unique()
        .collect()
    )
    n = int(coded["tx"].n_unique())
    if n == 0:
        return pl.DataFrame(schema=_rule_schema()), 0, 0
    counts = coded.group_by("ih").agg(pl.len().alias("n_item"))
    threshold = min_support * n
    frequent = counts.filter(pl.col("n_item") >= threshold).sort("ih").with_row_index("code")
    k = max(frequent.height, 1)
    kept = (
        coded.lazy()
        .join(frequent.lazy().select("ih", "code"), on="ih")
        .select("tx", "code")
        .filter(pl.len().over("tx") > 1)
    )
    # Self-join on the order; each unordered pair once (code < code_b), packed in one integer.
    pairs = (
        kept.join(kept, on="tx", suffix="_b")
        .filter(pl.col("code") < pl.col("code_b"))
        .select((pl.col("code").cast(pl.UInt64) * k + pl.col("code_b")).alias("pair"))
        .group_by("pair")
        .agg(pl.len().alias("orders"))
        .filter(pl.col("orders") >= threshold)
        .select(
            (pl.col("pair") // k).cast(pl.UInt32).alias("code"),
            (pl.col("pair") % k).cast(pl.UInt32).alias("code_b"),
            "orders",
        )
        .collect()
    )
    labels = (
        base.select(pl.col("item").hash(seed=0).alias("ih"), "item")
        .join(frequent.lazy().select("ih"), on="ih", how="semi")
        .group_by("ih")
        .agg(pl.col("item").first())
        .collect()
    )
    frequent = frequent.join(labels, on="ih").with_columns(pl.col("code").cast(pl.UInt32))
    names = frequent.select("code", "item", "n_item")
    both = pl.concat(
        [
            pairs.select(pl.col("code").alias("a"), pl.col("code_b").alias("b"), "orders"),
            pairs.select(pl.col("code_b").alias("a"), pl.col("code").alias("b"), "orders"),
        ]
    )
    nf = float(n)
    rules = (
        both.join(names.rename({"code": "a", "item": "antecedent", "n_item": "n_a"}), on="a")
        .join(names.rename({"code": "b", "item": "consequent", "n_item": "n_b"}), on="b")
        .with_columns(
            (pl.col("orders") / nf).alias("support"),
            (pl.col("n_a") / nf).alias("antecedent_support"),
            (pl.col("n_b") / nf).alias("consequent_support"),
            (pl.col("orders") / pl.col("n_a")).alias("confidence"),
        )
        .with_columns((pl.col("confidence") / pl.col("consequent_support")).alias("lift"))
        .filter((pl.col("confidence") >= min_confidence) & (pl.col("lift") >= min_lift))
        .with_columns(pl.col("orders").cast(pl.Int64))
        .select(RULE_COLUMNS)
        .sort(
            ["lift", "support", "antecedent", "consequent"],
            descending=[True, True, False, False],
        )
    )
    return rules, n, counts.height


def _rule_schema() -> dict[str, pl.DataType]:
    return {
        "antecedent": pl.String(),
        "consequent": pl.String(),
        "orders": pl.Int64(),
        **{c: pl.Float64() for c in RULE_COLUMNS[3:]},
    }


def basket_workspace(
    ws: Workspace,
    *,
    as_of: dt.date | None = None,
    level: Level | None = None,
    min_support: float | None = None,
    min_confidence: float | None = None,
    min_lift: float | None = None,
    lines: BasketLines | None = None,
) -> BasketResult:
    """Association rules of a workspace's purchase orders (thresholds from `analysis:`).

    `lines`: the workspace's `basket_lines` up to as-of when the caller already has them (the
    report runs both levels on one); otherwise read here, once.
    """
    cfg = settings(ws)
    lvl = level or cfg["basket_level"]
    day = resolve_as_of(ws, as_of)
    all_lines = require(ws, "order_lines", "basket analysis")
    if lvl not in LEVELS:
        raise UsageError(f"unknown basket level {lvl!r}", hint="use product or category")
    if lvl == "category":
        has = all_lines.select(pl.col("category").is_not_null().any()).collect().item()
        if not has:
            raise DataError(
                "category is unavailable: order_lines.category is empty",
                hint="map a category column, or derive it at ingest (e.g. from the SKU: "
                "`derive: {category: {from: product_id, pattern: '^([A-Z]+)-'}}`), "
                "or use --level product",
            )
    if lines is None:
        lines = basket_lines(ws, day)
    elif lines.as_of != day:
        raise UsageError(f"basket lines up to {lines.as_of} given for as-of {day}")
    items = lines.frame.lazy().select("tx", item_expr(lvl).alias("item"))
    missing = items.select(pl.col("item").is_null().sum()).collect().item()
    rules, n, n_items = association_rules(
        items,
        min_support=float(min_support if min_support is not None else cfg["basket_min_support"]),
        min_confidence=float(
            min_confidence if min_confidence is not None else cfg["basket_min_confidence"]
        ),
        min_lift=float(min_lift if min_lift is not None else cfg["basket_min_lift"]),
    )
    if n == 0:
        raise DataError("no purchase order has lines with an item; no baskets to analyse")
    return BasketResult(
        level=lvl, transactions=n, items=n_items, lines_without_item=int(missing), rules=rules
    )
