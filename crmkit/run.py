"""`crmkit run`: the configured pipeline end to end, as cron runs it, with a `run.json` record.

Steps, in order: ingest → metrics → segment → clv → report. Each step is a function of the
workspace; a failing step is recorded with its error and the steps that need its results are
skipped. Steps that write the warehouse do so in their own transaction and reports are written
to a temporary file and renamed, so a failure leaves the warehouse and the previous reports as
they were. The whole run holds the workspace lock.

Settings (`run:` in crmkit.yaml): `periods` (metric periods to compute, default
`["last-90d"]`), `compare` (`previous`), `segments` (methods, default `[rfm, tiers, lifecycle]`),
`reports` (formats to write, default `[html, xlsx, md]`), `report_period` (default the first of
`periods`), `out_dir` (default `reports`, relative to the workspace).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmkit import __version__
from crmkit.errors import CrmkitError, UsageError
from crmkit.jsonable import to_jsonable
from crmkit.workspace import Workspace

STEP_ORDER = ("ingest", "metrics", "segment", "clv", "report")
NEEDS = {"metrics": ("ingest",), "segment": ("ingest",), "clv": ("ingest",), "report": ()}


@dataclass
class StepResult:
    """One step's outcome, as recorded in run.json."""

    name: str
    status: str = "pending"  # ok | failed | skipped
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # breaches that make the run exit 1
    message: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunContext:
    """What steps share: the workspace, the run id, the as-of date and earlier results."""

    ws: Workspace
    run_id: str
    as_of: dt.date | None
    progress: Callable[[str], None]
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> dict[str, Any]:
        return self.ws.config.section("run")


@dataclass
class RunRecord:
    """The whole run: written to `runs/<run_id>/run.json` in the workspace."""

    run_id: str
    started_at: str
    arguments: dict[str, Any]
    steps: list[StepResult]
    inputs: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int = 0
    finished_at: str | None = None
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "crmkit_version": __version__,
            "python": platform.python_version(),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "arguments": self.arguments,
            "config": self.config,
            "inputs": self.inputs,
            "steps": [s.__dict__ for s in self.steps],
            "exit_code": self.exit_code,
        }


Step = Callable[[RunContext, StepResult], None]


def _step_ingest(ctx: RunContext, res: StepResult) -> None:
    from crmkit.pipeline.ingest import ingest, outcome_dicts

    result = ingest(ctx.ws, run_id=ctx.run_id, progress=ctx.progress, lock=False)
    ctx.results["ingest"] = result
    res.rows = dict(result.table_rows)
    res.problems = result.problems(ctx.ws.config.thresholds)
    res.detail = {
        "files": outcome_dicts(result),
        "rejects_by_reason": result.rejects_by_reason,
        "identity": result.identity,
        "warnings": result.warnings,
    }


def available_steps() -> dict[str, Step]:
    """The steps crmkit can run; later stages register theirs in `crmkit.run_steps`."""
    steps: dict[str, Step] = {"ingest": _step_ingest}
    try:
        from crmkit import run_steps
    except ImportError:
        return steps
    steps.update(run_steps.STEPS)
    return steps


def select_steps(only: Sequence[str] = (), skip: Sequence[str] = ()) -> list[str]:
    """The steps to run, in pipeline order; unknown names are a usage error."""
    known = available_steps()
    for name in (*only, *skip):
        if name not in STEP_ORDER:
            raise UsageError(f"unknown step {name!r}", hint=f"steps: {', '.join(STEP_ORDER)}")
    chosen = [s for s in STEP_ORDER if s in known and (not only or s in only)]
    return [s for s in chosen if s not in skip]


def run_pipeline(
    ws: Workspace,
    *,
    run_id: str,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    as_of: dt.date | None = None,
    wait: float = 0.0,
    arguments: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunRecord:
    """Run the selected steps under the workspace lock and write `runs/<run_id>/run.json`."""
    names = select_steps(only, skip)
    steps = available_steps()
    say = progress or (lambda _m: None)
    record = RunRecord(
        run_id=run_id,
        started_at=_now(),
        arguments=arguments or {},
        steps=[StepResult(n) for n in names],
        config=ws.config.redacted(),
    )
    ctx = RunContext(ws, run_id, as_of, say)
    ws.path.mkdir(parents=True, exist_ok=True)
    with ws.warehouse.lock(wait=wait):
        ws.warehouse.recover()
        for res in record.steps:
            failed = [d for d in NEEDS.get(res.name, ()) if _status(record, d) == "failed"]
            if failed:
                res.status, res.message = "skipped", f"needs {', '.join(failed)}, which failed"
                continue
            say(f"{res.name}…")
            start = time.perf_counter()
            try:
                steps[res.name](ctx, res)
                res.status = "ok"
            except CrmkitError as exc:
                res.status = "failed"
                res.message = exc.message + (f" ({exc.hint})" if exc.hint else "")
            except Exception as exc:  # a step's crash must not lose the record
                res.status = "failed"
                res.message = f"{type(exc).__name__}: {exc}"
                res.detail["traceback"] = traceback.format_exc(limit=8)
            res.seconds = round(time.perf_counter() - start, 3)
    ingest_res = ctx.results.get("ingest")
    if ingest_res is not None:
        record.inputs = [
            {
                "path": f.path,
                "sha256": f.sha256,
                "bytes": f.bytes,
                "status": f.status,
                "rows_read": f.rows_read,
                "rows_accepted": f.rows_accepted,
                "rows_rejected": f.rows_rejected,
                "rows_duplicate": f.rows_duplicate,
            }
            for f in ingest_res.files
        ]
    breached = any(s.problems for s in record.steps)
    failed = any(s.status == "failed" for s in record.steps)
    record.exit_code = 1 if (breached or failed) else 0
    record.finished_at = _now()
    write_run_json(ws, record)
    return record


def write_run_json(ws: Workspace, record: RunRecord) -> Path:
    """Write `runs/<run_id>/run.json` atomically, readable only by its owner."""
    folder = ws.path / "runs" / record.run_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "run.json"
    tmp = path.with_suffix(".json.tmp")
    payload = to_jsonable(record.to_dict())
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def file_output(path: Path, kind: str) -> dict[str, Any]:
    """An output entry for run.json: path, kind, size and sha256."""
    data = path.read_bytes()
    return {
        "path": str(path),
        "kind": kind,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _status(record: RunRecord, name: str) -> str | None:
    return next((s.status for s in record.steps if s.name == name), None)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
