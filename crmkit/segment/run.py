"""`segment_workspace`: wire the segmentation functions to a workspace's tables and config.

Reads `orders`, `order_lines`, `customers` and `survey_responses`, runs one method, builds the
profile table, records `segment_history` (through the warehouse lock and a transaction) and
optionally compares with the previous as-of date and exports the members.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from crmkit.errors import DataError, UsageError
from crmkit.numbers import customer_keys_by_number
from crmkit.schema import INTERNAL_NUMBERS
from crmkit.segment import facts as F
from crmkit.segment.clusters import ClusterOptions, cluster_segments
from crmkit.segment.history import (
    HISTORY_SCHEMA,
    HISTORY_TABLE,
    history_rows,
    merge_history,
    movement,
    movement_matrix,
    new_run_id,
)
from crmkit.segment.lifecycle import derive_windows, lifecycle_catalog, lifecycle_segments
from crmkit.segment.maps import SegmentMap, load_map
from crmkit.segment.profiles import profile
from crmkit.segment.result import SegmentResult
from crmkit.segment.rfm import RfmOptions, rfm_segments
from crmkit.segment.rules import TreeOptions, explain
from crmkit.segment.scoring import ScoreSpec
from crmkit.segment.tiers import TierOptions, tier_catalog, tier_segments

if TYPE_CHECKING:
    from crmkit.workspace import Workspace

METHODS = ("rfm", "tiers", "lifecycle", "kmeans", "tree")
DEFAULT_MAPS = {5: "rfm10", 3: "rfm3"}
TREE_FEATURES = ["recency_days", "frequency", "monetary", "tenure_days", "aov"]
EXPORT_FACTS = [
    "recency_days",
    "frequency",
    "monetary",
    "aov",
    "first_order",
    "last_order",
    "tenure_days",
]
SCORE_COLUMNS = [
    "r_score",
    "f_score",
    "m_score",
    "rfm",
    "r_level",
    "f_level",
    "m_level",
    "value_score",
    "loyalty_score",
    "score",
    "cluster",
]


@dataclass(frozen=True)
class Numbers:
    """The workspace's integer keys, checked usable: `customer_keys` holds the key of each
    `customer_no` (the customers' keys, strictly increasing); `orders` says whether `order_no`
    is on every order and on the order lines too."""

    customer_keys: pl.Series
    orders: bool


class Inputs:
    """The workspace tables a run needs, read lazily and collected once where needed."""

    def __init__(self, ws: Workspace, as_of: dt.date, timezone: str) -> None:
        self.ws, self.as_of, self.tz = ws, as_of, timezone
        self.orders = ws.table("orders")
        metrics = ws.config.section("metrics")
        self.statuses = tuple(metrics.get("completed_statuses") or F.PURCHASE_STATUSES)
        self._customers: pl.DataFrame | None = None
        self._purchases: pl.DataFrame | None = None
        self._facts: dict[str | None, pl.DataFrame] = {}

    def facts(self, window: str | None = None) -> pl.DataFrame:
        """Per-customer facts (`facts.customer_facts`, plus aov) for `window`; computed once."""
        if window not in self._facts:
            self._facts[window] = self._compute_facts(window)
        return self._facts[window]

    def gaps(self) -> pl.Series:
        """Each repeat customer's typical days between purchases (`facts.typical_gaps`)."""
        if self.numbers is None:
            raw = F.inter_purchase_days(self.orders, self.as_of, self.tz, self.statuses)
            return F.typical_gaps(raw).collect()["gap_days"]
        raw = F.gaps_of(self.purchases(), key="customer_no")
        return F.typical_gaps(raw, key="customer_no").collect()["gap_days"]

    def _compute_facts(self, window: str | None) -> pl.DataFrame:
        nums = self.numbers
        if nums is None:
            lf = F.customer_facts(
                self.orders, self.as_of, window=window, timezone=self.tz, statuses=self.statuses
            )
        else:
            p = self.purchases()  # collected: facts_of aggregates it with numpy
            lf = F.facts_of(p, self.as_of, window=window, customer_keys=nums.customer_keys)
        return lf.collect().with_columns(
            pl.when(pl.col("frequency") > 0)
            .then((pl.col("monetary").cast(pl.Float64) / pl.col("frequency")).round(2))
            .alias("aov")
        )

    def customers(self) -> pl.DataFrame | None:
        if self._customers is None and self.ws.has_table("customers"):
            self._customers = self.ws.table("customers").collect()
        return self._customers

    @cached_property
    def numbers(self) -> Numbers | None:
        """The integer keys ingest writes (`customers.customer_no`, `orders.customer_no`,
        `orders.order_no`, `order_lines.order_no`), if this workspace has them complete.

        A workspace ingested before they existed, or tables written by another tool, may lack
        them or hold nulls: then the facts and profiles are keyed by strings, as before. The
        orders' numbers are checked on the purchases themselves, which are read here, once.
        """
        cols = self.orders.collect_schema().names()
        keys = customer_keys_by_number(self.customers())
        if "customer_no" not in cols or keys is None:
            return None
        n = keys.len()
        lines = self.lines()
        by_order_no = "order_no" in cols and (
            lines is None or "order_no" in lines.collect_schema().names()
        )
        p = self._numbered_purchases(n, by_order_no)
        if p is not None and by_order_no:
            order_no = p["order_no"]
            if order_no.null_count() or (order_no.min() or 0) < 0:
                # an order without a number: lines find their order by source and order_id
                by_order_no = False
                p = self._numbered_purchases(n, by_order_no)
        if p is None:
            return None
        self._purchases = p
        return Numbers(keys, by_order_no)

    def _numbered_purchases(self, n: int, by_order_no: bool) -> pl.DataFrame | None:
        """The purchases keyed by `customer_no` (and `order_no`, or order_id and source), or
        None when the numbers do not stand for the keys: a purchase whose customer has a key
        but no number, or a number that is not a row of `customers` (n rows)."""
        order = ("order_no",) if by_order_no else ("order_id", "source")
        # walk-in orders have no key and no number; they are told apart from an order whose
        # key lacks its number (an older table) below, only when there are any
        orders = self.orders.with_columns(pl.col("customer_no").fill_null(-1))
        p = F.purchases(
            orders, self.as_of, self.tz, self.statuses, key="customer_no", order=order
        ).collect(engine="streaming")
        lo, hi = p["customer_no"].min(), p["customer_no"].max()
        if lo is not None and (lo < -1 or hi >= n):
            return None
        if lo == -1:
            unnumbered = pl.col("customer_no").is_null() & pl.col("customer_key").is_not_null()
            if self.orders.filter(unnumbered).select(pl.len()).collect().item():
                return None
            p = p.filter(pl.col("customer_no") >= 0)
        return p

    def purchases(self) -> pl.LazyFrame | pl.DataFrame:
        """Purchases for the facts and the profile: a plan keyed by strings, or (with the
        integer keys) a frame keyed by numbers, read from `orders` once for both."""
        if self.numbers is None or self._purchases is None:
            return F.purchases(self.orders, self.as_of, self.tz, self.statuses)
        return self._purchases

    def lines(self) -> pl.LazyFrame | None:
        return self.ws.table("order_lines") if self.ws.has_table("order_lines") else None

    def surveys(self) -> pl.DataFrame | None:
        if not self.ws.has_table("survey_responses"):
            return None
        return (
            self.ws.table("survey_responses")
            .filter(pl.col("customer_key").is_not_null())
            .select("customer_key", "responded_at", "nps", "csat")
            .collect()
        )


def _int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value).rstrip("d"))
    except ValueError:
        raise UsageError(f"{name} must be a whole number of days, got {value!r}") from None


def _extras(inputs: Inputs, customers: pl.DataFrame | None) -> pl.DataFrame:
    """Referrals made (count of customers naming this key in referred_by) and latest NPS."""
    parts = []
    if customers is not None and "referred_by" in customers.columns:
        parts.append(
            customers.filter(pl.col("referred_by").is_not_null())
            .group_by(pl.col("referred_by").alias("customer_key"))
            .agg(pl.len().cast(pl.Int64).alias("referrals"))
        )
    else:
        parts.append(pl.DataFrame(schema={"customer_key": pl.String, "referrals": pl.Int64}))
    surveys = inputs.surveys()
    if surveys is not None:
        parts.append(
            surveys.filter(
                pl.col("nps").is_not_null() & (pl.col("responded_at").dt.date() <= inputs.as_of)
            )
            .sort("customer_key", "responded_at", "nps")
            .group_by("customer_key")
            .agg(pl.col("nps").last().cast(pl.Float64))
        )
    else:
        parts.append(pl.DataFrame(schema={"customer_key": pl.String, "nps": pl.Float64}))
    return parts[0].join(parts[1], on="customer_key", how="full", coalesce=True)


def _feature_frame(
    facts: pl.DataFrame, customers: pl.DataFrame | None, extras: pl.DataFrame | None
) -> pl.DataFrame:
    """Customer facts plus numeric customer columns and referrals/NPS, for clusters and trees."""
    df = facts
    if extras is not None:
        df = df.join(extras, on="customer_key", how="left")
    if customers is not None:
        internal = set(INTERNAL_NUMBERS["customers"])  # a row number, not a feature
        numeric = [
            c
            for c, t in customers.schema.items()
            if t.is_numeric() and c not in df.columns and c not in internal
        ]
        if numeric:
            df = df.join(customers.select("customer_key", *numeric), on="customer_key", how="left")
    return df


def _rfm_options(cfg: dict[str, Any], scores: int, segment_map: SegmentMap) -> RfmOptions:
    def spec(name: str, default: ScoreSpec) -> ScoreSpec:
        return ScoreSpec.from_config(cfg.get(name), n=scores, default=default, name=name)

    return RfmOptions(
        segment_map=segment_map,
        scores=scores,
        recency=spec("recency", ScoreSpec("quantiles", (), True)),
        frequency=spec("frequency", ScoreSpec("thresholds", _f_default(scores)))
        if cfg.get("frequency") is not None
        else None,
        monetary=spec("monetary", ScoreSpec()),
    )


def _f_default(scores: int) -> tuple[float, ...]:
    from crmkit.segment.scoring import DEFAULT_F_THRESHOLDS

    return tuple(float(x) for x in DEFAULT_F_THRESHOLDS[scores])


def _map_catalog(m: SegmentMap) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "segment": [s.key for s in m.segments],
            "label_en": [s.en for s in m.segments],
            "label_zh": [s.zh for s in m.segments],
            "treatment_en": [s.treatment_en for s in m.segments],
            "treatment_zh": [s.treatment_zh or s.treatment_en for s in m.segments],
        }
    )


def segment_workspace(
    ws: Workspace,
    method: str = "rfm",
    *,
    as_of: dt.date | None = None,
    window: str | int | None = None,
    scores: int | None = None,
    segment_map: str | None = None,
    k: int | None = None,
    features: list[str] | None = None,
    target: str | None = None,
    seed: int | None = None,
    compare: str | None = None,
    export: str | Path | None = None,
    segments: list[str] | None = None,
    mask_pii: bool = False,
    lang: str = "en",
    record: bool = True,
    run_id: str | None = None,
    profiles: bool = True,
    inputs: Inputs | None = None,
) -> SegmentResult:
    """Segment the workspace's customers with `method` (rfm, tiers, lifecycle, kmeans, tree).

    Every option not given comes from the config section `segment` (see docs/segments.md).
    `record` writes this run's membership to `segment_history` (replacing the rows of the same
    method and as-of date); `compare="previous"` adds the movement matrix between the latest two
    recorded as-of dates; `export` writes the members (filtered by `segments`, masked with
    `mask_pii`) to CSV, XLSX or Parquet. `profiles=False` skips the profile table (members only).
    `inputs`: the tables read by an earlier call for the same workspace and as-of date, to
    share between methods (`Inputs(ws, as_of, timezone)`; `crmkit run` segments three ways).
    """
    if method not in METHODS:
        raise UsageError(f"unknown method {method!r}", hint=f"use one of: {', '.join(METHODS)}")
    if compare not in (None, "previous"):
        raise UsageError(f"--compare {compare!r} is not supported", hint="use --compare previous")
    if lang not in ("en", "zh"):
        raise UsageError(f"unknown language {lang!r}", hint="use en or zh")
    if export is not None:
        from crmkit.export import export_format

        export_format(Path(export))  # fail before any work or write
    cfg = ws.config
    seg_cfg = cfg.section("segment")
    as_of = as_of or ws.last_date()
    if as_of is None:
        raise DataError("there are no orders to segment", hint="run `crmkit ingest` first")
    if inputs is None or inputs.ws is not ws or inputs.as_of != as_of:
        inputs = Inputs(ws, as_of, cfg.timezone)
    seed = int(seed if seed is not None else seg_cfg.get("seed", 0))
    notes: list[str] = []
    details: dict[str, pl.DataFrame] = {}
    history_method: str | None = method
    customers = inputs.customers()
    rfm_cfg = dict(seg_cfg.get("rfm") or {})

    if method == "rfm":
        n_scores = int(scores or rfm_cfg.get("scores", 5))
        if n_scores not in (3, 5):
            raise UsageError("--scores must be 5 or 3")
        map_name = segment_map or rfm_cfg.get("map") or DEFAULT_MAPS[n_scores]
        smap = load_map(str(map_name), ws.path)
        win = F.parse_window(window if window is not None else rfm_cfg.get("window"))
        facts = inputs.facts(win)
        members, settings = rfm_segments(facts, _rfm_options(rfm_cfg, n_scores, smap))
        skipped = facts.height - members.height
        settings["window"] = win or "all history"
        settings["cut_points"].insert(0, f"window: {win or 'all history'} up to {as_of}")
        notes += settings.pop("notes")
        if skipped:
            notes.append(f"{skipped:,} customers without a purchase in the window are not scored")
        catalog = _map_catalog(smap)
        if smap.name != DEFAULT_MAPS.get(n_scores):
            history_method = f"rfm:{smap.name}"
    elif method == "tiers":
        facts = inputs.facts()
        opts = TierOptions.from_config(dict(seg_cfg.get("tiers") or {}))
        members, settings = tier_segments(facts, _extras(inputs, customers), opts)
        catalog = tier_catalog()
    elif method == "lifecycle":
        facts = inputs.facts()
        windows_cfg = cfg.windows
        lc = dict(seg_cfg.get("lifecycle") or {})
        w = derive_windows(
            inputs.gaps(),
            new_window=_int(windows_cfg.get("new_window"), "windows.new_window") or 90,
            active_window=_int(windows_cfg.get("active_window"), "windows.active_window") or 365,
            at_risk_after=_int(windows_cfg.get("at_risk_after"), "windows.at_risk_after"),
            churned_after=_int(windows_cfg.get("churned_after"), "windows.churned_after"),
            at_risk_quantile=float(lc.get("at_risk_quantile", 0.75)),
            churned_quantile=float(lc.get("churned_quantile", 0.95)),
        )
        people = customers if customers is not None else facts.select("customer_key")
        members = lifecycle_segments(facts, people, w, as_of)
        if customers is None:
            notes.append("no customers table: prospects (records without orders) are not counted")
        settings = {
            "windows": w.as_dict(),
            "cut_points": [
                f"new: first order < {w.new_window} days ago; active: last order < "
                f"{w.at_risk_after} days ago; at risk: {w.at_risk_after}–{w.churned_after - 1} "
                f"days; churned: ≥ {w.churned_after} days (windows: {w.derived_from})"
            ],
        }
        catalog = lifecycle_catalog()
    elif method == "kmeans":
        facts = inputs.facts()
        km = dict(seg_cfg.get("kmeans") or {})
        feats = tuple(features or km.get("features") or ClusterOptions().features)
        frame = _feature_frame(facts, customers, _extras(inputs, customers))
        opts = ClusterOptions(
            k=k if k is not None else km.get("k"),
            k_min=int(km.get("k_min", 2)),
            k_max=int(km.get("k_max", 8)),
            features=feats,
            seed=seed,
            silhouette_sample=int(km.get("silhouette_sample", 20_000)),
            selection_sample=int(km.get("selection_sample", 200_000)),
            n_init=int(km.get("n_init", 4)),
        )
        members, fit, catalog = cluster_segments(frame, opts)
        notes += fit.notes
        details["clusters"] = catalog
        if fit.silhouettes:
            details["silhouettes"] = pl.DataFrame(
                {"k": list(fit.silhouettes), "silhouette": list(fit.silhouettes.values())}
            )
        settings = {
            "k": fit.k,
            "features": list(feats),
            "seed": seed,
            "silhouettes": fit.silhouettes,
            "cut_points": [
                f"k-means on log1p-scaled, standardised {', '.join(feats)}; k = {fit.k}"
                + (
                    " chosen by silhouette ("
                    + ", ".join(f"k={kk}: {v:.3f}" for kk, v in fit.silhouettes.items())
                    + ")"
                    if fit.silhouettes
                    else " (given)"
                )
                + f"; seed {seed}"
            ],
        }
    else:  # tree
        history_method = None
        tree_cfg = dict(seg_cfg.get("tree") or {})
        target = target or tree_cfg.get("target") or "rfm"
        base_method = "lifecycle" if target == "churned" else target
        if base_method not in ("rfm", "tiers", "lifecycle", "kmeans"):
            raise UsageError(
                f"unknown --target {target!r}",
                hint="use churned or a segmentation: rfm, tiers, lifecycle, kmeans",
            )
        base = segment_workspace(
            ws,
            base_method,
            as_of=as_of,
            window=window,
            scores=scores,
            segment_map=segment_map,
            k=k,
            seed=seed,
            lang=lang,
            record=False,
            profiles=False,
        )
        facts = inputs.facts()
        members = base.members.select("customer_key", "segment")
        catalog = base.catalog
        if target == "churned":  # purchasers only: prospects cannot churn
            members = members.filter(pl.col("segment") != "prospect").with_columns(
                pl.when(pl.col("segment") == "churned")
                .then(pl.lit("churned"))
                .otherwise(pl.lit("not_churned"))
                .alias("segment")
            )
            catalog = pl.DataFrame(
                {
                    "segment": ["churned", "not_churned"],
                    "label_en": ["Churned", "Not churned"],
                    "label_zh": ["流失", "未流失"],
                    "treatment_en": ["", ""],
                    "treatment_zh": ["", ""],
                }
            )
        feats = list(features or tree_cfg.get("features") or TREE_FEATURES)
        frame = _feature_frame(facts, customers, _extras(inputs, customers)).join(
            members, on="customer_key", how="inner"
        )
        missing = [f for f in feats if f not in frame.columns]
        if missing:
            raise UsageError(f"unknown feature(s) {', '.join(missing)}")
        rules, settings = explain(
            frame,
            "segment",
            feats,
            TreeOptions(
                max_depth=int(tree_cfg.get("max_depth", 3)),
                min_leaf_share=float(tree_cfg.get("min_leaf_share", 0.01)),
                seed=seed,
            ),
        )
        labels = dict(zip(catalog["segment"], catalog[f"label_{lang}"], strict=True))
        details["rules"] = rules.with_columns(
            pl.col("segment").replace_strict(labels, default=pl.col("segment")).alias("label")
        )
        settings["target"] = target
        notes += base.notes

    members = members.sort("customer_key")
    if members.height == 0:
        notes.append(f"no customer has a purchase up to {as_of}: nothing to segment")
    if profiles:
        table = profile(
            members,
            facts,
            as_of=as_of,
            catalog=catalog,
            customers=customers,
            purchases=inputs.purchases(),
            lines=inputs.lines(),
            surveys=inputs.surveys(),
            customer_keys=inputs.numbers.customer_keys if inputs.numbers else None,
        )
    else:
        table = members.group_by("segment").agg(pl.len().alias("customers"))
    table = _label(table, catalog, lang)
    result = SegmentResult(
        method=method,
        history_method=history_method,
        as_of=as_of,
        members=members,
        catalog=catalog,
        profiles=table,
        settings={"as_of": as_of, **settings},
        notes=notes,
        details=details,
    )
    if history_method is not None:
        result.run_id = run_id or new_run_id()
        result.history = history_rows(members, history_method, as_of, result.run_id)
        if record:
            record_history(ws, result.history, result.run_id)
            result.recorded = True
    if compare == "previous":
        if history_method is None:
            raise UsageError("--compare needs a method that records history (not tree)")
        existing = ws.warehouse.scan(HISTORY_TABLE, HISTORY_SCHEMA)
        hist = existing if result.recorded else merge_history(existing, result.history)
        old_d, new_d, moves = movement(hist, history_method)
        order = catalog["segment"].to_list()
        result.movement = {
            "from": old_d,
            "to": new_d,
            "moves": moves,
            "matrix": movement_matrix(moves, order),
        }
        if old_d is None:
            result.notes.append(
                f"no earlier as-of date recorded for {history_method}: nothing to compare"
            )
    if export is not None:
        frame = export_frame(result, facts, customers, lang, segments)
        from crmkit.export import write_export

        result.export_path = write_export(frame, export, mask=mask_pii)
        result.exported_rows = frame.height
    return result


def _label(profiles: pl.DataFrame, catalog: pl.DataFrame, lang: str) -> pl.DataFrame:
    """Put the display label and recommended treatment next to each segment key."""
    cat = catalog.select(
        "segment",
        pl.col(f"label_{lang}").alias("label"),
        pl.col(f"treatment_{lang}").alias("treatment"),
    )
    out = profiles.join(cat, on="segment", how="left", maintain_order="left")
    out = out.with_columns(pl.col("label").fill_null(pl.col("segment")))
    return out.select(
        "segment",
        "label",
        *[c for c in out.columns if c not in ("segment", "label", "treatment")],
        "treatment",
    )


def export_frame(
    result: SegmentResult,
    facts: pl.DataFrame,
    customers: pl.DataFrame | None,
    lang: str = "en",
    segments: list[str] | None = None,
) -> pl.DataFrame:
    """The member list for action: key, name, email, phone, segment, scores and key facts."""
    labels = result.catalog.select("segment", pl.col(f"label_{lang}").alias("segment_label"))
    m = result.members
    if segments:
        wanted = {s.casefold() for s in segments}
        known = result.catalog.with_columns(
            (
                pl.col("segment").str.to_lowercase().is_in(wanted)
                | pl.col("label_en").str.to_lowercase().is_in(wanted)
                | pl.col("label_zh").is_in(list(wanted))
            ).alias("_hit")
        )
        keys = known.filter("_hit")["segment"].to_list()
        if not keys:
            raise UsageError(
                f"no segment named {', '.join(segments)}",
                hint=f"segments: {', '.join(result.catalog['segment'])}",
            )
        m = m.filter(pl.col("segment").is_in(keys))
    contact = ["full_name", "email", "phone"]
    if customers is not None:
        present = [c for c in contact if c in customers.columns]
        m = m.join(customers.select("customer_key", *present), on="customer_key", how="left")
    for c in contact:
        if c not in m.columns:
            m = m.with_columns(pl.lit(None, pl.String).alias(c))
    f = facts.select("customer_key", *[c for c in EXPORT_FACTS if c in facts.columns])
    m = m.drop([c for c in EXPORT_FACTS if c in m.columns]).join(f, on="customer_key", how="left")
    m = m.join(labels, on="segment", how="left")
    scores = [c for c in SCORE_COLUMNS if c in m.columns]
    facts_cols = [c for c in EXPORT_FACTS if c in m.columns]
    return m.select(
        "customer_key", *contact, "segment", "segment_label", *scores, *facts_cols
    ).sort("customer_key")


def record_history(ws: Workspace, rows: pl.DataFrame, run_id: str) -> None:
    """Write this run's rows into `segment_history` under the lock, in one transaction."""
    with ws.warehouse.lock(), ws.warehouse.transaction(run_id) as tx:
        existing = tx.scan(HISTORY_TABLE, HISTORY_SCHEMA)
        tx.write(HISTORY_TABLE, merge_history(existing, rows).collect())
