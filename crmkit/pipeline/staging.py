"""Turn one read file into cleaned, staged rows — in one go, or in row ranges in parallel.

`frames_of` maps a file's records onto canonical tables (mapping, a source's `constants` and
`derive:` rules, lineage). Ingest cleans each table and writes every row with its verdict to
temporary part files (lz4 Parquet, one per chunk, read once by the merge).

Cleaning runs on in-memory chunks of `CHUNK_ROWS` records (`write_part`): a CSV scan hands
the streaming engine morsels of a few thousand rows, and every morsel would pay for each of the
Python callbacks (text folding, dates, amounts per batch) — chunks in memory come in morsels of
100k rows, at less than half the cost. Chunks of one file share one `PhoneBook`, so each
distinct phone is normalised once per file (or range).

Cleaning is CPU-bound, and in one process it leans on those Python callbacks, which share one
interpreter lock: one process gets about 1.4 of 2 cores. So a big delimited file
(`SPLIT_BYTES` or more) whose records can be read by range
(`ReadResult.slicer`: no field spans lines) and that maps onto one table without line items is
cut into one range per worker process (`ingest.processes`). Each worker maps, cleans and writes
its range (`stage_range`), and the parts are taken in range order: the rows, their `__line`
numbers and their verdicts are exactly those of staging the file in one go.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from crmkit import schema
from crmkit.cores import usable_cores
from crmkit.errors import UsageError
from crmkit.pipeline.clean import CleanOptions, clean
from crmkit.pipeline.phones import PhoneBook
from crmkit.sources.mapping import Mapping, apply_mapping
from crmkit.sources.readers import CsvSlicer, ReadResult

SPLIT_BYTES = 256 << 20  # smaller files stage faster in one process than it takes to start more
MAX_PROCESSES = 8
CHUNK_ROWS = 500_000  # records cleaned in memory at once; 1M chunks were no faster


@dataclass(frozen=True)
class StagePlan:
    """Everything needed to stage records of one file, in this process or a worker (picklable)."""

    mapping: Mapping
    source: str  # the source's name (lineage)
    shown: str  # the file as the manifest names it (lineage)
    options: CleanOptions
    constants: dict[str, Any] = field(default_factory=dict)
    derive: dict[str, Any] = field(default_factory=dict)


def processes(setting: Any) -> int:
    """Worker processes for big files from `ingest.processes`: `auto` (default) = the cores this
    process may use (at most `MAX_PROCESSES`), 1 = never split."""
    if setting in (None, "auto"):
        return max(1, min(usable_cores(), MAX_PROCESSES))
    try:
        n = int(setting)
    except (TypeError, ValueError):
        n = 0
    if n < 1:
        raise UsageError(
            f"ingest.processes must be a whole number of 1 or more, or auto, got {setting!r}"
        )
    return n


def _worker_env(workers: int) -> dict[str, str]:
    """The environment of one of `workers` staging workers: each gets its share of polars'
    threads (of `POLARS_MAX_THREADS` if set, else of the cores). More threads than cores only
    add switching: 3M orders in 2 workers, 15.3-16.3 s with 2 threads each, 14.1-14.7 s with 1."""
    total = int(os.environ.get("POLARS_MAX_THREADS") or 0) or usable_cores()
    return {**os.environ, "POLARS_MAX_THREADS": str(max(1, total // workers))}


def frames_of(raw: pl.LazyFrame, plan: StagePlan) -> dict[str, pl.LazyFrame]:
    """The canonical tables of `raw` (plus `__dropped` summary rows), lazily: mapped, with the
    source's constants and derived columns. A constant for an unknown column is a usage error."""
    frames = apply_mapping(raw, plan.mapping)
    table = plan.mapping.table
    if plan.constants and table in frames:
        unknown = sorted(set(plan.constants) - set(schema.table(table).names))
        if unknown:
            raise UsageError(
                f"source {plan.source}: constants for unknown {table} column(s) "
                f"{', '.join(unknown)}"
            )
        frames[table] = frames[table].with_columns(
            pl.lit(str(v)).alias(k) for k, v in plan.constants.items()
        )
    return derive(frames, plan.derive, plan.source)


def derive(
    frames: dict[str, pl.LazyFrame], rules: dict[str, Any], source: str
) -> dict[str, pl.LazyFrame]:
    """Apply a source's `derive:` rules: fill a column from a regex group of another one.

    `derive: {category: {from: product_id, pattern: '^([A-Z]+)-'}}` fills `category` where it
    is empty, in whichever mapped table has `product_id` (e.g. `order_lines`).
    """
    out = dict(frames)
    for target, rule in rules.items():
        if not isinstance(rule, dict) or not {"from", "pattern"} <= set(rule):
            raise UsageError(
                f"source {source}: derive.{target} needs `from` and `pattern`",
                hint="e.g. derive: {category: {from: product_id, pattern: '^([A-Z]+)-'}}",
            )
        for name, frame in frames.items():
            if name.startswith("__") or rule["from"] not in frame.collect_schema().names():
                continue
            if target not in schema.table(name).names:
                continue
            value = pl.col(rule["from"]).str.extract(str(rule["pattern"]), 1)
            if target in frame.collect_schema().names():
                value = pl.coalesce(pl.col(target), value)
            out[name] = frame.with_columns(value.alias(target))
    return out


def write_part(
    frame: pl.LazyFrame, name: str, plan: StagePlan, part: Path, index: int
) -> list[Path]:
    """Clean one table's rows chunk by chunk and write them all, each with its verdict: one
    file per chunk, named after `part`. Returns the files in row order (at least one)."""
    lineage = [pl.lit(plan.source).alias("source"), pl.lit(plan.shown).alias("source_file")]
    frame = frame.with_columns(lineage).drop("__lines", strict=False)
    table = schema.table(name)
    phones = PhoneBook(plan.options.phone_region)
    paths: list[Path] = []
    for chunk in _chunks(frame):
        cleaned = clean(chunk.lazy(), table, plan.options, phones=phones)
        path = part.with_name(f"{part.stem}.{len(paths):05d}{part.suffix}")
        # a temporary file read once by the merge: fast compression over small size
        staged = cleaned.checked.with_columns(pl.lit(index).alias("__file"))
        staged.sink_parquet(path, compression="lz4")
        paths.append(path)
    return paths


def _chunks(frame: pl.LazyFrame) -> Iterator[pl.DataFrame]:
    """`frame` in consecutive in-memory chunks of `CHUNK_ROWS` rows (one empty chunk when it
    has none). Each is rechunked: the engine cuts an in-memory frame into morsels along its
    arrays, and a batch straight from a scan is made of many small ones."""
    empty = True
    for chunk in frame.collect_batches(chunk_size=CHUNK_ROWS):
        if chunk.height:
            empty = False
            yield chunk.rechunk()
    if empty:
        yield frame.limit(0).collect()


def splittable(result: ReadResult, frames: dict[str, pl.LazyFrame], workers: int) -> bool:
    """Whether to stage this file in ranges: big, readable by range, one table, no line items."""
    tables = [n for n in frames if not n.startswith("__")]
    return (
        workers > 1
        and result.slicer is not None
        and len(tables) == 1
        and tables[0] != "order_lines"
        and result.path.stat().st_size >= SPLIT_BYTES
    )


def ranges(rows: int, parts: int) -> list[tuple[int, int | None]]:
    """(offset, length) of `parts` near-equal consecutive ranges of `rows` records; the last
    one runs to the end (None)."""
    size = max(1, -(-rows // parts))
    starts = list(range(0, rows, size)) or [0]
    return [(s, size if i < len(starts) - 1 else None) for i, s in enumerate(starts)]


def stage_range(
    slicer: CsvSlicer, offset: int, length: int | None, plan: StagePlan, part: Path, index: int
) -> tuple[list[Path], pl.DataFrame | None]:
    """Worker: map, clean and write records `offset` .. `offset + length` to files named after
    `part`; returns them and that range's summary rows (`__dropped`), if the mapping drops any."""
    frames = frames_of(slicer.frame(offset, length), plan)
    dropped = frames.pop("__dropped", None)
    ((name, frame),) = frames.items()
    paths = write_part(frame, name, plan, part, index)
    return paths, None if dropped is None else dropped.collect()


def stage_in_ranges(
    slicer: CsvSlicer, plan: StagePlan, workers: int, part: Callable[[], Path], index: int
) -> tuple[list[Path], list[pl.DataFrame]]:
    """Stage the file in up to `workers` ranges at once, one worker process each, each range
    into files named after a new `part()`; returns the files in range order and the summary
    rows the ranges dropped.

    Workers are fresh interpreters running this module (`python -m crmkit.pipeline.staging
    TASK`), not `multiprocessing` children: those would import the caller's main script again,
    and a fork would inherit polars' thread pool in an unusable state. A worker's failure is
    raised here with its message (the parts are temporary: the calling ingest removes them).
    """
    spans = ranges(slicer.rows(), workers)
    procs = []
    env = _worker_env(len(spans))
    for i, (offset, length) in enumerate(spans):
        path = part()
        task = path.with_name(f"{path.stem}.task")
        task.write_bytes(pickle.dumps((slicer, offset, length, plan, path, index)))
        cmd = [sys.executable, "-m", "crmkit.pipeline.staging", str(task)]
        procs.append((i, task, subprocess.Popen(cmd, stderr=subprocess.PIPE, env=env)))
    failures, paths, dropped = [], [], []
    for i, task, proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            said = err.decode(errors="replace").strip()[-2000:] or "no message"
            failures.append(f"range {i + 1} (worker exit {proc.returncode}): {said}")
            continue
        written, lost = pickle.loads(task.with_suffix(".out").read_bytes())
        paths += written
        if lost is not None:
            dropped.append(lost)
    if failures:
        raise RuntimeError("staging in worker processes failed: " + "; ".join(failures))
    return paths, dropped


def _worker(task: Path) -> None:
    """One worker: stage the range the task file names; what it wrote goes next to it."""
    with contextlib.suppress(OSError, AttributeError):  # die with the ingest (Linux only)
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the ingest is gone already
        sys.exit(1)
    slicer, offset, length, plan, path, index = pickle.loads(task.read_bytes())
    result = stage_range(slicer, offset, length, plan, path, index)
    task.with_suffix(".out").write_bytes(pickle.dumps(result))


if __name__ == "__main__":
    _worker(Path(sys.argv[1]))
