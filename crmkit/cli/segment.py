"""`crmkit segment`: RFM, tiers, lifecycle, k-means clusters and tree rules, with profiles.

Thin: parse the options, call `Workspace.segment`, render. The default output is the
per-segment profile comparison table, preceded by the cut points / windows / weights used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import polars as pl
import typer
from rich.table import Table

from crmkit.cli.common import (
    AsOfOpt,
    ConfigOpt,
    FormatOpt,
    LangOpt,
    QuietOpt,
    VerboseOpt,
    WorkspaceOpt,
    resolve,
)
from crmkit.cli.output import emit_csv, emit_frame, emit_json, err, out, rich_table

if TYPE_CHECKING:
    from crmkit.segment.result import SegmentResult

TABLE_COLUMNS = [
    "label",
    "customers",
    "share",
    "revenue_share",
    "aov",
    "frequency",
    "median_recency_days",
    "median_tenure_days",
]
MIX_COLUMNS = [
    "label",
    "nps",
    "csat_mean",
    "top_category",
    "top_channel",
    "top_region",
    "top_city",
    "top_country",
    "female_share",
    "age_mix",
]
HEADERS_ZH = {
    "label": "分群",
    "customers": "客户数",
    "share": "占比",
    "revenue": "销售额",
    "revenue_share": "销售额占比",
    "aov": "客单价",
    "frequency": "购买频次",
    "median_recency_days": "最近购买(天)",
    "median_tenure_days": "客户时长(天)",
    "top_category": "主要品类",
    "top_channel": "主要渠道",
    "top_region": "主要地区",
    "top_city": "主要城市",
    "top_country": "主要国家",
    "female_share": "女性占比",
    "age_mix": "年龄分布",
    "nps": "净推荐值",
    "csat_mean": "满意度均值",
    "treatment": "建议策略",
}
HEADERS_EN = {
    "label": "segment",
    "revenue_share": "rev. share",
    "median_recency_days": "recency (d)",
    "median_tenure_days": "tenure (d)",
    "csat_mean": "CSAT",
    "nps": "NPS",
    "top_category": "top categories",
    "top_channel": "top channels",
    "top_region": "top regions",
    "top_city": "top cities",
    "top_country": "top countries",
    "female_share": "female",
    "age_mix": "age",
}
TITLES = {
    "rfm": ("RFM segments", "RFM 分群"),
    "tiers": ("Value tiers", "客户价值分层"),
    "lifecycle": ("Lifecycle stages", "客户生命周期"),
    "kmeans": ("k-means clusters", "聚类分群"),
    "tree": ("Rules explaining the segments", "分群规则"),
}


def register(app: typer.Typer) -> None:
    """Add `crmkit segment` to the app."""
    app.command("segment")(segment)


def segment(
    ctx: typer.Context,
    method: Annotated[
        str, typer.Option("--method", "-m", help="rfm, tiers, lifecycle, kmeans or tree.")
    ] = "rfm",
    segment_map: Annotated[
        str | None,
        typer.Option("--map", help="RFM segment map: a name (rfm10, cn8, rfm3) or a YAML file."),
    ] = None,
    scores: Annotated[int | None, typer.Option("--scores", help="RFM score scale: 5 or 3.")] = None,
    window: Annotated[
        str | None, typer.Option("--window", help="RFM window up to as-of, e.g. 365d, 12m, all.")
    ] = None,
    k: Annotated[
        int | None, typer.Option("--k", help="k-means clusters (default: silhouette).")
    ] = None,
    features: Annotated[
        str | None, typer.Option("--features", help="Comma-separated numeric customer columns.")
    ] = None,
    target: Annotated[
        str | None,
        typer.Option("--target", help="tree: churned or a segmentation (rfm, tiers, …)."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (k-means, tree).")] = None,
    compare: Annotated[
        str | None, typer.Option("--compare", help="previous: movement since the last as-of.")
    ] = None,
    export: Annotated[
        Path | None, typer.Option("--export", help="Write members to .csv, .xlsx or .parquet.")
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--segment", help="Export only this segment (key or label; repeatable)."),
    ] = None,
    mask_pii: Annotated[
        bool, typer.Option("--mask-pii", help="Mask names, emails and phones in the export.")
    ] = False,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not write segment_history.")
    ] = False,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Segment customers and compare the segments (default: RFM profile table)."""

    g = resolve(ctx, workspace, config, as_of, lang, fmt, quiet, verbose)
    ws = g.open_workspace()
    result = ws.segment(
        method=method,
        as_of=g.as_of,
        window=window,
        scores=scores,
        segment_map=segment_map,
        k=k,
        features=[f.strip() for f in features.split(",") if f.strip()] if features else None,
        target=target,
        seed=seed,
        compare=compare,
        export=export,
        segments=only or None,
        mask_pii=mask_pii,
        lang=g.lang,
        record=not no_record,
    )
    for note in result.notes:
        err.print(f"note: {note}")
    if result.export_path is not None:
        err.print(f"wrote {result.exported_rows:,} members to {result.export_path}")
    if g.format == "json":
        emit_json(result.to_dict(g.lang))
        return
    if g.format == "csv":
        if result.movement is not None:
            emit_csv(result.movement["moves"])
        elif "rules" in result.details:
            emit_csv(result.details["rules"])
        else:
            emit_csv(_flat(result.profiles))
        return
    _render_table(result, g.lang)


def _table(df: pl.DataFrame, cols: list[str], headers: dict[str, str]) -> Table:
    """A rich table whose first (label) column is never squeezed away on narrow terminals."""
    table = rich_table(df, columns=cols, headers=headers)
    if table.columns:
        longest = max((len(str(v)) for v in df[cols[0]].to_list()), default=8)
        table.columns[0].min_width = min(longest, 18)
    return table


def _flat(df: pl.DataFrame) -> pl.DataFrame:
    """List columns (top categories, age mix) as `a; b; c` text for CSV."""
    return df.with_columns(
        pl.col(c).list.join("; ") for c, t in df.schema.items() if t == pl.List(pl.String)
    )


def _render_table(result: SegmentResult, lang: str) -> None:
    """Cut points, then rules / profiles / treatments / centroids / movement as rich tables."""
    zh = lang == "zh"
    title = TITLES[result.method][1 if zh else 0]
    headers = HEADERS_ZH if zh else None
    out.print(f"[bold]{title}[/] — as of {result.as_of}", highlight=False)
    for line in result.settings.get("cut_points", []):
        out.print(f"  {line}", markup=False, highlight=False)
    if "rules" in result.details:
        rules = result.details["rules"].select("rule", "label", "customers", "support", "purity")
        emit_frame(rules, "table", title="rules" if not zh else "规则", headers=headers)
    pct = [c for c in ("share", "revenue_share", "female_share") if c in result.profiles.columns]
    profiles = result.profiles.with_columns(
        pl.format("{}%", (pl.col(c) * 100).round(1)).alias(c) for c in pct
    )
    cols = [c for c in TABLE_COLUMNS if c in profiles.columns]
    out.print(_table(profiles, cols, headers or HEADERS_EN))
    mix = [
        c for c in MIX_COLUMNS if c in profiles.columns and profiles[c].null_count() < len(profiles)
    ]
    if len(mix) > 1:
        out.print(_table(profiles, mix, headers or HEADERS_EN))
    treatments = profiles.filter(pl.col("treatment").fill_null("") != "")
    if treatments.height:
        out.print(
            rich_table(
                treatments,
                columns=["label", "treatment"],
                headers=headers or HEADERS_EN,
                title="建议策略" if zh else "Recommended treatment",
            )
        )
    if "clusters" in result.details:
        z = [c for c in result.details["clusters"].columns if c.startswith("z_")]
        centroids = result.details["clusters"].select(pl.col(f"label_{lang}").alias("label"), *z)
        out.print("聚类中心(标准化)" if zh else "centroids (standardised)")
        out.print(_table(centroids, centroids.columns, headers or HEADERS_EN))
    if result.movement is not None:
        mv = result.movement
        if mv["from"] is None:
            out.print("no earlier as-of date recorded: nothing to compare yet")
        else:
            # Numbered rows ("1 Champions") and columns ("1") keep the matrix narrow.
            labels = result.labels(lang)
            matrix = mv["matrix"]
            keys = list(dict.fromkeys([*matrix["from_segment"], *matrix.columns[1:]]))
            no = {k: str(i) for i, k in enumerate(keys, 1)}
            matrix = matrix.with_columns(
                pl.col("from_segment")
                .replace_strict({k: f"{no[k]} {labels.get(k, k)}" for k in keys})
                .alias("from_segment")
            ).rename({c: no[c] for c in matrix.columns[1:]})
            out.print(
                f"movement {mv['from']} → {mv['to']} (rows: from, columns: to)"
                if not zh
                else f"分群迁移 {mv['from']} → {mv['to']}(行:原分群,列:新分群)"
            )
            out.print(_table(matrix, matrix.columns, {"from_segment": "from \\ to"}))
