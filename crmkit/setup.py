"""Creating a workspace (`crmkit init`) and checking one without writing (`crmkit doctor`)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from crmkit.config import CONFIG_NAME, SourceConfig, _is_data_file
from crmkit.errors import CrmkitError, UsageError
from crmkit.workspace import Workspace

CONFIG_TEMPLATE = """\
# crmkit workspace configuration. Every setting is optional; the values shown are the defaults.
# Precedence: command line > CRMKIT_* environment > --config file > this file > defaults.
# Nested settings in the environment use a double underscore: CRMKIT_WINDOWS__ACTIVE_WINDOW=180.

# Time zone for exports whose times carry no zone (IANA name). The warehouse stores UTC.
timezone: {timezone}
# Currency of amounts that do not say theirs (ISO 4217).
currency: {currency}
# Region for phone numbers written without a country code (ISO 3166, e.g. CN, US, GB).
phone_region: {phone_region}
# How to read ambiguous dates like 03/04/2025: ymd, dmy or mdy.
date_order: {date_order}
# Decimal separator in amounts: "." or "," (for 1.234,56).
decimal: "."
# First month of the fiscal year (1 = January); Q1..Q4 follow it.
fiscal_year_start: 1

# Where the exports are. path: a file, a folder or a glob, relative to this file.
# table: customers | orders | order_lines | tickets | survey_responses | marketing_spend | events
# preset: a known export layout (`crmkit doctor` lists them); or map columns yourself:
#   columns: {{order_id: "Order No", ordered_at: "Date", gross_amount: "Total"}}
# Also per source: encoding (auto), delimiter, sheet ("*" = all), date_order, decimal, currency,
# phone_region, timezone, skip_rows, status_map ({{"Shipped": completed}}).
sources:{sources}

# Windows in days used by metrics and segments.
windows:
  active_window: 365      # a customer is active with a completed order in this many days
  conversion_window: 30   # prospect → first order within this many days counts as converted
  new_window: 90
  at_risk_after: null     # null: derived from the data's inter-purchase times
  churned_after: null

# Data-quality limits: a run that breaches one exits 1 (outputs are still written).
thresholds:
  max_reject_rate: 0.05   # share of a file's rows that may be rejected
  future_days: 2          # dates later than now + this many days are rejected
  min_year: 1990

# Scales of survey scores, as [lowest, highest].
scales:
  nps: [0, 10]
  csat: [1, 5]
  ces: [1, 7]
missing_codes: [-99, -2, -3]   # survey codes that mean "no answer"

# Targets checked by `crmkit metrics --check-targets` (exit 1 when one is missed), e.g.
#   churn_rate: {{max: 0.05}}
#   nps: {{min: 30}}
targets: {{}}
"""


@dataclass
class Detected:
    """What `init --from` decided about one file."""

    path: str
    table: str | None
    preset: str | None
    confidence: float
    reason: str
    error: str | None = None


@dataclass
class InitResult:
    config_path: Path
    detected: list[Detected] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)


def detect_file(path: Path) -> Detected:
    """Sniff one export: its table and preset with a confidence (reads a sample only)."""
    from crmkit.sources.mapping import detect
    from crmkit.sources.readers import read_file

    try:
        result = read_file(path, n_rows=200)[0]
        sample = result.frame.collect().drop("__line")
        candidates = detect(result.headers, sample)
    except CrmkitError as exc:
        return Detected(str(path), None, None, 0.0, "", error=exc.message)
    if not candidates:
        return Detected(
            str(path),
            None,
            None,
            0.0,
            "no table fits these headers",
            error="unrecognised layout: map its columns in crmkit.yaml",
        )
    best = candidates[0]
    return Detected(str(path), best.table, best.preset, best.confidence, best.reason)


def init_workspace(
    directory: Path,
    *,
    exports: Path | None = None,
    timezone: str = "UTC",
    currency: str = "USD",
    phone_region: str | None = None,
    date_order: str = "ymd",
    force: bool = False,
) -> InitResult:
    """Write a commented `crmkit.yaml` (with detected sources when `exports` is given)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / CONFIG_NAME
    if target.exists() and not force:
        raise UsageError(f"{target} already exists", hint="use --force to overwrite it")
    result = InitResult(config_path=target)
    if exports is not None:
        if not exports.is_dir():
            raise UsageError(f"--from {exports} is not a folder")
        files = sorted(p for p in exports.rglob("*") if p.is_file() and _is_data_file(p))
        result.detected = [detect_file(p) for p in files]
        result.sources = _sources_from(result.detected, directory)
    text = CONFIG_TEMPLATE.format(
        timezone=timezone,
        currency=currency,
        phone_region=phone_region or "null",
        date_order=date_order,
        sources=_yaml_sources(result.sources),
    )
    tmp = target.with_suffix(".yaml.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return result


def _sources_from(detected: list[Detected], directory: Path) -> list[dict[str, Any]]:
    """One source per detected file; files of the same layout in one folder share a glob."""
    groups: dict[tuple[str, str | None, str | None], list[Path]] = {}
    for d in detected:
        if d.table is None:
            continue
        path = Path(d.path)
        groups.setdefault((str(path.parent), d.table, d.preset), []).append(path)
    out, names = [], set()
    for (folder, table, preset), paths in sorted(groups.items(), key=lambda kv: kv[0][0]):
        rel_folder = os.path.relpath(folder, directory.resolve())
        if len(paths) > 1:
            suffixes = {"".join(p.suffixes) for p in paths}
            pattern = f"*{suffixes.pop()}" if len(suffixes) == 1 else "*"
            rel = f"{rel_folder}/{pattern}"
        else:
            rel = os.path.relpath(paths[0].resolve(), directory.resolve())
        name = Path(folder).name or (preset or table or "source")
        while name in names:
            name = f"{name}_{len(names)}"
        names.add(name)
        entry: dict[str, Any] = {"name": name, "path": rel, "table": table}
        if preset:
            entry["preset"] = preset
        out.append(entry)
    return out


def _yaml_sources(sources: list[dict[str, Any]]) -> str:
    if not sources:
        return " []"
    body = yaml.safe_dump(sources, allow_unicode=True, sort_keys=False).rstrip()
    return "\n" + "\n".join("  " + line for line in body.splitlines())


@dataclass
class Finding:
    """One check made by `crmkit doctor`."""

    level: str  # ok | warning | error
    subject: str
    message: str


def doctor(ws: Workspace, sample_rows: int = 1000) -> list[Finding]:
    """Check config and sources (mapping, encoding, a sample of rejects) without writing."""
    findings: list[Finding] = []
    try:
        cfg = ws.config
    except CrmkitError as exc:
        return [Finding("error", "config", exc.message + (f" ({exc.hint})" if exc.hint else ""))]
    findings.append(Finding("ok", "config", f"loaded from {', '.join(cfg.origins)}"))
    if not cfg.sources:
        findings.append(Finding("warning", "sources", "no sources configured"))
    for src in cfg.sources:
        files = src.files()
        if not files:
            findings.append(Finding("error", src.name, f"no files match {src.path}"))
        for path in files:
            findings.extend(_check_file(ws, src, path, sample_rows))
    return findings


def _check_file(ws: Workspace, src: SourceConfig, path: Path, rows: int) -> list[Finding]:
    from crmkit.pipeline.clean import clean
    from crmkit.pipeline.ingest import _job, clean_options
    from crmkit.schema import table as table_of
    from crmkit.sources.mapping import apply_mapping, resolve_mapping
    from crmkit.sources.readers import read_file

    subject = f"{src.name}: {os.path.relpath(path)}"
    job = _job(path, src)
    try:
        result = read_file(
            path,
            encoding=src.encoding,
            delimiter=src.delimiter,
            sheet=src.sheet,
            skip_rows=src.skip_rows,
            n_rows=rows,
        )[0]
        sample = result.frame.collect()
        mapping = resolve_mapping(
            result.headers,
            table=src.table,
            preset=src.preset,
            columns=src.columns or None,
            sample=sample.drop("__line"),
            path=str(path),
        )
        frames = apply_mapping(sample.lazy(), mapping)
        frames.pop("__dropped", None)
        options = clean_options(
            ws.config, job, mapping.options, mapping.status_map, dt.datetime.now(dt.UTC)
        )
        out = [
            Finding(
                "ok",
                subject,
                f"{result.format}, encoding {result.encoding or '-'}, "
                f"mapping {mapping.method} ({mapping.confidence:.0%})",
            )
        ]
        for name, frame in frames.items():
            frame = frame.with_columns(
                pl.lit(src.name).alias("source"), pl.lit(str(path)).alias("source_file")
            )
            cleaned = clean(frame.drop("__lines", strict=False), table_of(name), options)
            rej = cleaned.rejects.collect()
            if rej.height:
                by = rej.group_by("reason_code").agg(pl.len(), pl.col("reason").first())
                for code, n, example in by.sort("reason_code").iter_rows():
                    out.append(
                        Finding(
                            "warning",
                            subject,
                            f"{name}: {n} of the first {sample.height} rows would be "
                            f"rejected ({code}), e.g. {example}",
                        )
                    )
        return out
    except CrmkitError as exc:
        return [Finding("error", subject, exc.message + (f" ({exc.hint})" if exc.hint else ""))]
