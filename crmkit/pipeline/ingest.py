"""Ingest: export files → canonical warehouse tables, with every input row accounted for.

For each file: hash it (a file already in the manifest is skipped), read it, map its columns,
clean and validate the values, then collapse repeats. Rows that fail go to `rejects` with the
file, line, reason and raw values; a file that cannot be read or mapped at all is refused as a
whole (one `rejects` row at line 0) and leaves the data tables untouched. Everything a run
changes is committed at once, under the workspace lock.

Per file, rows_read = rows_accepted + rows_rejected + rows_duplicate. For exports with one row
per line item, rows are counted at the line level.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import shutil
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from crmkit import schema
from crmkit.config import Config, SourceConfig
from crmkit.errors import InputFileError, UsageError
from crmkit.pipeline import dedup
from crmkit.pipeline.clean import CleanOptions
from crmkit.pipeline.link import FACTS as LINKED_FACTS
from crmkit.pipeline.link import link_customers
from crmkit.pipeline.options import accepted_of, rejects_of
from crmkit.pipeline.order_numbers import (
    ORDER_NO,
    OrderNumbers,
    lines_order_no,
    number_orders,
    stored_order_numbers,
    with_order_no,
)
from crmkit.pipeline.staging import (
    StagePlan,
    frames_of,
    processes,
    splittable,
    stage_in_ranges,
    write_part,
)
from crmkit.sources.mapping import resolve_mapping
from crmkit.sources.readers import ReadResult, read_file, sha256_file
from crmkit.warehouse import Transaction
from crmkit.workspace import Workspace, table_schema

# The canonical `customers` source table is stored as `customer_records`; `customers` holds the
# resolved golden records.
STORED_NAME = {"customers": "customer_records"}
FACT_TABLES = ("orders", "tickets", "survey_responses", "events")
_SOURCE_KEYS = ("encoding", "delimiter", "sheet", "skip_rows")
_CLEAN_KEYS = ("date_order", "decimal", "currency", "phone_region", "timezone")

Progress = Callable[[str], None]


def new_run_id(now: dt.datetime | None = None) -> str:
    """Run ids sort by time and stay unique: `20261123T021500Z-1a2b3c`."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class FileJob:
    """One file to ingest and how: its source name and the source's settings."""

    path: Path
    source: str
    table: str | None = None
    preset: str | None = None
    columns: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class FileOutcome:
    """What happened to one file; the counts always add up."""

    path: str
    source: str
    status: str  # ingested | unchanged | refused
    sha256: str | None = None
    bytes: int = 0
    modified_at: dt.datetime | None = None
    tables: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    mapping: str | None = None
    confidence: float | None = None
    reason_code: str | None = None
    message: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class IngestResult:
    """The outcome of one ingest run."""

    run_id: str
    files: list[FileOutcome]
    table_rows: dict[str, int] = field(default_factory=dict)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    identity: dict[str, Any] | None = None
    recovered: str | None = None
    warnings: list[str] = field(default_factory=list)
    updated: dict[str, int] = field(default_factory=dict)  # stored rows replaced by a newer version
    committed: bool = False

    def problems(self, thresholds: dict[str, Any]) -> list[str]:
        """Data-quality breaches that make the run exit 1 (outputs are still written)."""
        out = [f"{f.path}: refused ({f.reason_code})" for f in self.files if f.status == "refused"]
        limit = float(thresholds.get("max_reject_rate", 0.05))
        for f in self.files:
            if f.status == "ingested" and f.rows_read and f.rows_rejected / f.rows_read > limit:
                out.append(
                    f"{f.path}: {f.rows_rejected / f.rows_read:.1%} of rows rejected "
                    f"(max_reject_rate {limit:.0%})"
                )
        return out


def jobs_from_config(config: Config) -> tuple[list[FileJob], list[str]]:
    """Every file the configured sources name now, plus warnings for sources that match none."""
    jobs, warnings = [], []
    for src in config.sources:
        files = src.files()
        if not files:
            warnings.append(f"source {src.name}: no files match {src.path}")
        jobs.extend(_job(path, src) for path in files)
    return jobs, warnings


def _job(path: Path, src: SourceConfig) -> FileJob:
    settings = {k: getattr(src, k) for k in (*_SOURCE_KEYS, *_CLEAN_KEYS)}
    settings.update(status_map=src.status_map, constants=src.constants, derive=src.derive)
    if src.encoding == "auto":
        settings["encoding"] = "auto"
    return FileJob(path, src.name, src.table, src.preset, dict(src.columns), settings)


def jobs_from_files(
    files: Sequence[Path],
    *,
    source: str | None,
    table: str | None,
    preset: str | None,
    config: Config,
) -> list[FileJob]:
    """Jobs for files named on the command line; a configured source lends its settings."""
    if table is not None:
        schema.table(table)
    jobs = []
    for path in files:
        if not Path(path).exists():
            raise UsageError(f"no such file: {path}", hint="check the path, or quote a glob")
        src = next((s for s in config.sources if s.name == source), None)
        if src is not None:
            job = _job(Path(path), src)
            jobs.append(
                FileJob(
                    job.path,
                    job.source,
                    table or job.table,
                    preset or job.preset,
                    job.columns,
                    job.settings,
                )
            )
        else:
            name = source or preset or table or "files"
            jobs.append(FileJob(Path(path), name, table, preset, {}, {"encoding": "auto"}))
    return jobs


class Ingestor:
    """Runs one ingest: stages every file, deduplicates, links customers, commits."""

    def __init__(self, ws: Workspace, run_id: str, progress: Progress | None = None) -> None:
        self.ws = ws
        self.config = ws.config
        self.run_id = run_id
        self.progress = progress or (lambda _msg: None)
        self.tmp = ws.path / f".tmp-{run_id}"
        self.parts: dict[str, list[tuple[int, Path]]] = {}
        self.rejects: list[pl.DataFrame] = []
        self.pending: dict[str, pl.LazyFrame] = {}  # merged, not yet written (see `merge`)
        self.outcomes: list[FileOutcome] = []
        self.now = dt.datetime.now(dt.UTC)
        self.processes = processes(self.config.section("ingest").get("processes"))
        self._part_no = itertools.count()

    # -- per file --------------------------------------------------------------------------

    def stage(self, job: FileJob, seen: set[str], known: KnownFiles | None = None) -> FileOutcome:
        """Read, map and clean one file into temporary parts; never touches the warehouse.

        `known` maps (path, bytes, modified_at) of ingested files to their sha256: a file whose
        path, size and modification time all match is not read again to hash it.
        """
        shown = _display_path(job.path, self.ws.path)
        outcome = FileOutcome(path=shown, source=job.source, status="ingested")
        try:
            st = job.path.stat()
            outcome.bytes = st.st_size
            outcome.modified_at = _mtime(st)
            cached = (known or {}).get((shown, outcome.bytes, outcome.modified_at))
            outcome.sha256 = cached or sha256_file(job.path)
        except OSError as exc:
            raise UsageError(f"cannot read {shown}: {exc.strerror}") from None
        if outcome.sha256 in seen:
            outcome.status = "unchanged"
            return outcome
        seen.add(outcome.sha256)
        index = len(self.outcomes)
        try:
            results = read_file(
                job.path,
                encoding=job.settings.get("encoding") or "auto",
                delimiter=job.settings.get("delimiter"),
                sheet=job.settings.get("sheet"),
                skip_rows=job.settings.get("skip_rows"),
            )
            for result in results:
                self._stage_result(job, result, outcome, index)
        except InputFileError as exc:
            self._refuse(job, outcome, exc)
        return outcome

    def _stage_result(
        self, job: FileJob, result: ReadResult, outcome: FileOutcome, index: int
    ) -> None:
        sample = result.frame.head(200).collect()
        mapping = resolve_mapping(
            result.headers,
            table=job.table,
            preset=job.preset,
            columns=job.columns or None,
            sample=sample.drop("__line"),
            path=outcome.path,
        )
        outcome.mapping, outcome.confidence = mapping.method, mapping.confidence
        outcome.notes.extend(mapping.notes)
        plan = StagePlan(
            mapping=mapping,
            source=job.source,
            shown=outcome.path,
            options=clean_options(self.config, job, mapping.options, mapping.status_map, self.now),
            constants=job.settings.get("constants") or {},
            derive=job.settings.get("derive") or {},
        )
        frames = frames_of(result.frame, plan)
        rejected_lines: list[pl.DataFrame] = []
        dropped = [frames.pop("__dropped")] if "__dropped" in frames else []
        line_items = "order_lines" in frames
        if splittable(result, frames, self.processes):
            assert result.slicer is not None
            ((name, _),) = frames.items()
            parts, done = stage_in_ranges(
                result.slicer, plan, self.processes, lambda: self._part(index, name), index
            )
            dropped = [d.lazy() for d in done]
        else:
            parts = []
        rejected_lines += [
            d.select(
                "__line",
                pl.lit("summary_row").alias("reason_code"),
                pl.col("reason"),
                pl.lit(mapping.table).alias("table"),
            ).collect()
            for d in dropped
        ]
        rows_seen = sum(r.height for r in rejected_lines)  # summary rows, then cleaned rows
        order_rejects: pl.DataFrame | None = None
        if parts:  # staged in ranges by worker processes
            staged = [(name, part) for part in parts]
        else:
            staged = []
            for name in sorted(frames, key=lambda n: n != "orders"):  # orders before their lines
                frame = frames[name]
                if name == "order_lines" and order_rejects is not None and order_rejects.height:
                    frame, lost = _drop_lines_of_rejected_orders(frame, order_rejects)
                    rejected_lines.append(lost.collect())
                # One cleaning pass: every row with its verdict goes to the parts; the accepted
                # rows are read back by `merge`, the (few) rejects right here.
                written = write_part(frame, name, plan, self._part(index, name), index)
                staged += [(name, part) for part in written]
                if name == "orders" and line_items:
                    # Line-item files count lines: a rejected order rejects its lines.
                    rej = rejects_of(pl.scan_parquet(written)).collect()
                    order_rejects = (
                        frames["orders"]
                        .select("__line", "__lines")
                        .join(rej.lazy().select("__line", "reason_code", "reason"), on="__line")
                        .collect()
                    )
        by_table: dict[str, list[Path]] = {}
        for name, part in staged:
            self.parts.setdefault(name, []).append((index, part))
            by_table.setdefault(name, []).append(part)
        for name, files in by_table.items():
            rows_seen += pl.scan_parquet(files).select(pl.len()).collect().item()  # metadata only
            if name == "orders" and line_items:
                continue  # counted at the line level, above
            rej = rejects_of(pl.scan_parquet(files)).collect()
            rejected_lines.append(
                rej.select("__line", "reason_code", "reason", pl.lit(name).alias("table"))
            )
        # A line-item file builds one order from many rows: count its raw rows instead.
        outcome.rows_read += (
            result.frame.select(pl.len()).collect().item() if line_items else rows_seen
        )
        outcome.tables = sorted({*outcome.tables, *frames})
        if rejected_lines:
            rejects = pl.concat(rejected_lines, how="vertical_relaxed")
            outcome.rows_rejected += rejects.height
            self.rejects.append(self._with_raw(rejects, result, job, outcome))

    def _part(self, index: int, name: str) -> Path:
        """A new temporary part file for rows of table `name` from file number `index`."""
        return self.tmp / f"{index:05d}-{next(self._part_no)}-{name}.parquet"

    def _with_raw(
        self, rejects: pl.DataFrame, result: ReadResult, job: FileJob, outcome: FileOutcome
    ) -> pl.DataFrame:
        """Attach each rejected line's original values as JSON (only rejected lines are read)."""
        lines = rejects.select("__line").unique()
        headers = result.headers
        raw = (
            result.frame.join(lines.lazy(), on="__line", how="semi")
            .select("__line", pl.struct(headers).struct.json_encode().alias("raw"))
            .collect()
        )
        return (
            rejects.join(raw, on="__line", how="left")
            .select(
                pl.lit(job.source).alias("source"),
                pl.lit(outcome.path).alias("source_file"),
                pl.col("__line").cast(pl.Int64).alias("source_line"),
                pl.col("table").cast(pl.String),
                pl.col("reason_code").cast(pl.String),
                pl.col("reason").cast(pl.String),
                pl.col("raw").fill_null("{}"),
                pl.lit(outcome.sha256).alias("file_sha256"),
                pl.lit(self.run_id).alias("run_id"),
            )
            .sort("source_line", "reason_code")
        )

    def _refuse(self, job: FileJob, outcome: FileOutcome, exc: InputFileError) -> None:
        outcome.status = "refused"
        outcome.reason_code = exc.reason_code
        outcome.message = exc.message if not exc.hint else f"{exc.message} ({exc.hint})"
        outcome.rows_read = outcome.rows_accepted = outcome.rows_rejected = 0
        self.parts = {
            t: [p for p in ps if p[0] != len(self.outcomes)] for t, ps in self.parts.items()
        }
        self.rejects = [r for r in self.rejects if r["file_sha256"][0] != outcome.sha256]
        self.rejects.append(
            pl.DataFrame(
                {
                    "source": [job.source],
                    "source_file": [outcome.path],
                    "source_line": [0],
                    "table": [job.table],
                    "reason_code": [exc.reason_code],
                    "reason": [outcome.message],
                    "raw": ["{}"],
                    "file_sha256": [outcome.sha256],
                    "run_id": [self.run_id],
                },
                schema=schema.REJECTS_SCHEMA,
            )
        )

    # -- whole run -------------------------------------------------------------------------

    def merge(self, tx: Transaction, defer: Collection[str] = ()) -> dict[str, int]:
        """Collapse repeats within the run and against the warehouse; stage new table versions.

        Only small key indexes (row number, key hash, content hash) are collected; the rows
        themselves stream from the staged parts and the stored table to the new file. Tables
        named in `defer` are not written but left in `self.pending` as plans, for the link step
        to write once with their customer keys. Returns, per table, how many stored rows were
        replaced by a newer version.

        Orders are merged first and numbered (`order_no`, see `number_orders`); order lines
        take their order's number (`lines_order_no`), also when only the orders changed.
        """
        updated: dict[str, int] = {}
        numbers: OrderNumbers | None = None
        for name in sorted(self.parts, key=lambda n: n != "orders"):  # orders before lines
            parts = self.parts[name]
            if not parts:
                continue
            table = schema.table(name)
            stored_name = STORED_NAME.get(name, name)
            cols = [c for c in table.polars_schema(with_lineage=True) if c != "customer_key"]
            numbered = name in ("orders", "order_lines")
            incoming = pl.concat(
                [accepted_of(pl.scan_parquet(p)) for _, p in parts], how="vertical_relaxed"
            )
            incoming = dedup.with_keys(incoming, table).with_row_index("__row")
            every = incoming.select("__row", "__file", dedup.KEY_HASH, dedup.CONTENT_HASH).collect()
            index = dedup.collapse(every)
            keep_old = None
            stored_no: pl.Series | None = None  # the stored orders' numbers, by stored row
            renumbered = True  # the stored orders (if any) had no numbers: all numbered anew
            if self.ws.warehouse.has(stored_name):
                stored = tx.scan(stored_name, table_schema(stored_name)).with_row_index("__srow")
                has_no = numbered and ORDER_NO in stored.collect_schema().names()
                extra = [ORDER_NO] if name == "orders" and has_no else []
                stored_index = (
                    dedup.with_keys(stored, table)
                    .select("__srow", dedup.KEY_HASH, dedup.CONTENT_HASH, *extra)
                    .collect()
                )
                index, replaced = dedup.against_stored(index, stored_index.drop(extra))
                updated[name] = replaced.height
                keep_old = stored.join(replaced.lazy(), on="__srow", how="anti")
                if name == "orders":
                    renumbered = not extra or stored_index[ORDER_NO].null_count() > 0
                    stored_no = stored_index["__srow" if renumbered else ORDER_NO]
                    # orders stored before numbers existed are numbered by their row
                    no = pl.col("__srow") if renumbered else pl.col(ORDER_NO)
                    keep_old = keep_old.select(*cols, no.cast(pl.Int64).alias(ORDER_NO))
                else:
                    keep_old = keep_old.select(*cols, *([ORDER_NO] if has_no else []))
            kept = index.select("__row", "__file")
            self._count_duplicates(name, every, kept)
            if kept.height < every.height:
                # in file order: the streaming engine interleaves the parts otherwise
                kept_rows = kept.lazy().select("__row")
                incoming = incoming.join(kept_rows, on="__row", how="semi", maintain_order="left")
            new_rows = incoming.select(cols)
            if name == "orders":
                incoming, fresh = number_orders(incoming, index, every.height, stored_no)
                new_rows = incoming.select(*cols, ORDER_NO)
                every_order = (
                    new_rows
                    if keep_old is None
                    else pl.concat([keep_old, new_rows], how="vertical_relaxed")
                )
                numbers = OrderNumbers(every_order, new_rows, fresh, renumbered)
            elif name == "order_lines":
                numbers = numbers or stored_order_numbers(tx, self.ws)
                new_rows = with_order_no(new_rows, numbers.every if numbers else None)
                if keep_old is not None:
                    fixed = lines_order_no(keep_old, numbers)
                    keep_old = keep_old if fixed is None else fixed
            merged = (
                new_rows
                if keep_old is None
                else pl.concat([keep_old, new_rows], how="vertical_relaxed")
            )
            if stored_name in defer:
                self.pending[stored_name] = merged
            else:
                tx.write(stored_name, merged)
        lines_stored = self.ws.warehouse.has("order_lines") and "order_lines" not in self.parts
        if numbers is not None and lines_stored:
            # the orders changed but their lines are not in this run: fix those that need it
            fixed = lines_order_no(tx.scan("order_lines"), numbers)
            if fixed is not None:
                tx.write("order_lines", fixed)
        return updated

    def _count_duplicates(self, name: str, every: pl.DataFrame, kept: pl.DataFrame) -> None:
        if name == "orders" and any("order_lines" in o.tables for o in self.outcomes):
            line_files = {i for i, o in enumerate(self.outcomes) if "order_lines" in o.tables}
        else:
            line_files = set()
        before = every.group_by("__file").agg(pl.len().alias("n"))
        after = kept.group_by("__file").agg(pl.len().alias("k"))
        counts = before.join(after, on="__file", how="left").fill_null(0)
        for file_idx, n, k in counts.iter_rows():
            if file_idx in line_files and name == "orders":
                continue  # line-item files are counted at the line level
            outcome = self.outcomes[file_idx]
            outcome.rows_accepted += k
            outcome.rows_duplicate += n - k


def clean_options(
    config: Config,
    job: FileJob,
    preset_options: dict[str, Any],
    status_map: dict[str, str],
    now: dt.datetime,
) -> CleanOptions:
    """Cleaning settings for one file: the source's > the preset's > the workspace's.

    Value maps are not passed: `apply_mapping` has already applied them.
    """

    def pick(key: str, default: Any) -> Any:
        for layer in (job.settings, preset_options):
            if layer.get(key) is not None:
                return layer[key]
        return default

    th = config.thresholds
    return CleanOptions(
        timezone=pick("timezone", config.timezone),
        date_order=pick("date_order", config["date_order"]),
        decimal=pick("decimal", config["decimal"]),
        currency=pick("currency", config["currency"]),
        phone_region=pick("phone_region", config["phone_region"]),
        future_days=int(th.get("future_days", 2)),
        min_year=int(th.get("min_year", 1990)),
        now=now,
        status_map={**status_map, **(job.settings.get("status_map") or {})},
        missing_codes=tuple(config.get("missing_codes") or ()),
    )


def _drop_lines_of_rejected_orders(
    lines: pl.LazyFrame, order_rejects: pl.DataFrame
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Lines whose order was rejected go to rejects with the order's reason."""
    lost = order_rejects.explode("__lines").select(
        pl.col("__lines").alias("__line"),
        pl.col("reason_code"),
        pl.format("its order (line {}) was rejected: {}", pl.col("__line"), pl.col("reason")).alias(
            "reason"
        ),
    )
    bad = lines.join(lost.lazy(), on="__line", how="inner").select(
        "__line", "reason_code", "reason", pl.lit("order_lines").alias("table")
    )
    # in file order: an anti join on the streaming engine may otherwise move rows
    kept = lines.join(lost.lazy(), on="__line", how="anti", maintain_order="left")
    return kept, bad


KnownFiles = dict[tuple[str, int, dt.datetime], str]


def _mtime(st: os.stat_result) -> dt.datetime:
    """Modification time at the manifest's microsecond precision (UTC)."""
    return dt.datetime.fromtimestamp(0, dt.UTC) + dt.timedelta(microseconds=st.st_mtime_ns // 1000)


def known_files(manifest: pl.DataFrame) -> KnownFiles:
    """(path, bytes, modified_at) → sha256 of every ingested file whose time was recorded."""
    if "modified_at" not in manifest.columns:  # a manifest written before the column existed
        return {}
    rows = manifest.filter(pl.col("modified_at").is_not_null())
    cols = rows.select("path", "bytes", "modified_at", "sha256").iter_rows()
    return {(path, size, mtime): sha for path, size, mtime, sha in cols}


def _display_path(path: Path, workspace: Path) -> str:
    """Paths are stored relative to the workspace, so a moved workspace still reads well."""
    try:
        return os.path.relpath(path.resolve(), workspace.resolve())
    except ValueError:  # another drive on Windows
        return str(path.resolve())


def ingest(
    ws: Workspace,
    files: Sequence[Path] = (),
    *,
    source: str | None = None,
    table: str | None = None,
    preset: str | None = None,
    use_config_sources: bool = True,
    wait: float = 0.0,
    run_id: str | None = None,
    progress: Progress | None = None,
    resolve_identity: bool = True,
    lock: bool = True,
    rehash: bool = False,
) -> IngestResult:
    """Ingest the config's sources and/or the given files into the workspace's warehouse.

    A file already in the manifest (same sha256) is skipped. To decide that without reading a big
    file again, a file whose path, size and modification time match a manifest entry takes that
    entry's sha256; `rehash=True` hashes every file regardless. `lock=False` is for callers that
    already hold the workspace lock (`crmkit run`).
    """
    run_id = run_id or new_run_id()
    config = ws.config
    jobs, warnings = jobs_from_config(config) if use_config_sources and not files else ([], [])
    if files:
        jobs += jobs_from_files(files, source=source, table=table, preset=preset, config=config)
    if not jobs:
        raise UsageError(
            "nothing to ingest: no files given and no sources configured",
            hint="name files (`crmkit ingest FILE…`) or add `sources:` to crmkit.yaml",
        )
    ws.path.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _m: None)
    with ws.warehouse.lock(wait=wait) if lock else contextlib.nullcontext():
        recovered = ws.warehouse.recover() if lock else None
        ing = Ingestor(ws, run_id, progress)
        manifest = ws.table("manifest").collect()
        seen = set(manifest["sha256"].to_list())
        known = {} if rehash else known_files(manifest)
        ing.tmp.mkdir(parents=True, exist_ok=True)
        try:
            for job in jobs:
                say(f"reading {_display_path(job.path, ws.path)}")
                ing.outcomes.append(ing.stage(job, seen, known))
            result = IngestResult(run_id, ing.outcomes, recovered=recovered, warnings=warnings)
            if any(o.status != "unchanged" for o in ing.outcomes):
                with ws.warehouse.transaction(run_id) as tx:
                    say("merging and removing duplicates")
                    # fact tables are written once, by the link step, with their keys
                    result.updated = ing.merge(tx, defer=LINKED_FACTS if resolve_identity else ())
                    _write_rejects(tx, ing, ws)
                    _write_manifest(tx, ing, ws)
                    if resolve_identity and ing.parts:
                        say("resolving customers")
                        result.identity = link_customers(ws, tx, run_id, ing.pending)
                    for name, plan in ing.pending.items():
                        if name not in tx.written:
                            tx.write(name, plan)
                    tx.commit({"last_ingest": run_id})
                result.committed = True
        finally:
            shutil.rmtree(ing.tmp, ignore_errors=True)
    result.table_rows = {
        name: ws.table(name).select(pl.len()).collect().item() for name in ws.warehouse.tables()
    }
    rej = ws.table("rejects").filter(pl.col("run_id") == run_id)
    result.rejects_by_reason = dict(
        rej.group_by("reason_code").agg(pl.len()).sort("reason_code").collect().iter_rows()
    )
    return result


def _write_rejects(tx: Transaction, ing: Ingestor, ws: Workspace) -> None:
    if not ing.rejects:
        return
    new = pl.concat(ing.rejects, how="vertical_relaxed").cast(dict(schema.REJECTS_SCHEMA))
    shas = new.select("file_sha256").unique()
    old = tx.scan("rejects", schema.REJECTS_SCHEMA).join(shas.lazy(), on="file_sha256", how="anti")
    tx.write("rejects", pl.concat([old.collect(), new], how="vertical_relaxed"))


def _write_manifest(tx: Transaction, ing: Ingestor, ws: Workspace) -> None:
    rows = [
        {
            "path": o.path,
            "sha256": o.sha256,
            "bytes": o.bytes,
            "modified_at": o.modified_at,
            "source": o.source,
            "table": ",".join(o.tables),
            "rows_read": o.rows_read,
            "rows_accepted": o.rows_accepted,
            "rows_rejected": o.rows_rejected,
            "rows_duplicate": o.rows_duplicate,
            "ingested_at": ing.now,
            "run_id": ing.run_id,
        }
        for o in ing.outcomes
        if o.status == "ingested"
    ]
    if not rows:
        return
    new = pl.DataFrame(rows, schema=schema.MANIFEST_SCHEMA)
    old = tx.scan("manifest", schema.MANIFEST_SCHEMA).collect()
    # older manifests lack `modified_at`: it stays null there
    tx.write("manifest", pl.concat([old, new], how="diagonal_relaxed").select(new.columns))


def outcome_dicts(result: IngestResult) -> list[dict[str, Any]]:
    """Plain dicts of the per-file outcomes (for JSON output and run.json)."""
    return [json.loads(json.dumps(o.__dict__, default=str)) for o in result.files]
