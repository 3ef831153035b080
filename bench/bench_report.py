"""Benchmark `crmkit report` at scale: wall time, CPU seconds and peak RSS, per section on request.

    python bench/bench_report.py                       # 1M customers, 10M orders: HTML+XLSX+MD
    python bench/bench_report.py --customers 100000 --orders 1000000
    python bench/bench_report.py --sections            # plus wall and CPU per section / format
    python bench/bench_report.py --workspace PATH      # any existing workspace instead

Reads the workspace `bench_segment.py` caches under --dir (10M orders, ~15M order lines,
1M customers, surveys; generated on first use, with an RFM, tiers and lifecycle history recorded
so the segments section has data) and runs the installed `crmkit report` as a subprocess
writing HTML, XLSX and Markdown to a temporary folder, never into the workspace, limited to
--threads threads. Prints wall, CPU and peak RSS from `common.measure`, the load average before
and after, and the size of each file (the HTML must stay under 3 MB). `--sections` also runs
the report in a child process that times each section builder, the numbered orders the
trends, cohorts and cycle sections share (built inside the first of them, trends, and counted
there too) and each renderer. Target: under 20 s at 10M orders on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import crmkit, measure

FORMATS = ("html", "xlsx", "md")


def ensure_workspace(dirname: Path, customers: int, orders: int, seed: int) -> Path:
    """The cached bench_segment workspace, generated (with a segment history) when missing."""
    ws = dirname / f"seg-{customers}-{orders}-{seed}"
    if not (ws / "warehouse" / "orders.parquet").exists():
        from bench_segment import generate

        t0 = time.perf_counter()
        generate(ws, customers, orders, seed)
        for method in ("rfm", "tiers", "lifecycle"):
            cmd = crmkit("segment", "-m", method, "-w", str(ws), "-q")
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        print(f"generated {ws} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return ws


def run_sections(ws: Path, out: Path) -> None:
    """In this (child) process: build and render the report, timing each part; print JSON."""

    from crmkit import Workspace
    from crmkit.report import analysis_sections as A
    from crmkit.report import build_report
    from crmkit.report import sections as S
    from crmkit.report.write import write_report

    timings: list[tuple[str, float, float]] = []

    from common import stage_timer

    wrap = stage_timer(timings)

    import crmkit.metrics as metrics

    metrics.workspace_result = wrap("metrics (all)", metrics.workspace_result)
    S.Ctx.customer_orders = wrap("numbered orders", S.Ctx.customer_orders)
    for mod, names in (
        (S, ("headline", "trends", "cohorts", "segments", "clv", "satisfaction")),
        (S, ("all_metrics", "quality", "appendix")),
        (A, ("cycle", "baskets", "drivers", "feedback")),
    ):
        for name in names:
            setattr(mod, name, wrap(f"section {name}", getattr(mod, name)))
    load0 = os.getloadavg()[0]
    w0, c0 = time.perf_counter(), time.process_time()
    data = build_report(Workspace(ws))
    timings.append(("build_report", time.perf_counter() - w0, time.process_time() - c0))
    for fmt in FORMATS:
        f = wrap(f"write {fmt}", write_report)
        f(data, out / f"report.{fmt}")
    status = {s.key: s.reason for s in data.sections if not s.ok}
    first: dict[str, tuple[float, float]] = {}
    for name, wall, cpu in timings:  # numbered orders: only its first, real, computation
        first.setdefault(name, (wall, cpu))
    print(
        json.dumps(
            {
                "load_avg": [round(load0, 1), round(os.getloadavg()[0], 1)],
                "timings": [[n, round(w, 2), round(c, 2)] for n, (w, c) in first.items()],
                "unavailable": status,
            },
            ensure_ascii=False,
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "crmkit-bench")
    ap.add_argument("--workspace", type=Path, help="an existing workspace to report on")
    ap.add_argument("--sections", action="store_true", help="print wall and CPU per section")
    ap.add_argument("--child", nargs=2, metavar=("WS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        run_sections(Path(args.child[0]), Path(args.child[1]))
        return
    ws = args.workspace or ensure_workspace(args.dir, args.customers, args.orders, args.seed)
    env = {
        var: str(args.threads)
        for var in ("POLARS_MAX_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    }
    with tempfile.TemporaryDirectory(prefix="crmkit-report-") as tmp:
        out = Path(tmp)
        cmd = crmkit("report", "-w", str(ws), "-q")
        for fmt in FORMATS:
            cmd += ["-o", str(out / f"report.{fmt}")]
        load0 = os.getloadavg()[0]
        m = measure(cmd, env=env)
        load1 = os.getloadavg()[0]
        if m.returncode:
            sys.exit(f"crmkit report failed with exit code {m.returncode}")
        sizes = "  ".join(
            f"{f} {(out / f'report.{f}').stat().st_size / 1e6:.2f} MB" for f in FORMATS
        )
        print(
            f"report {ws.name}: wall {m.seconds:6.2f} s  CPU {m.cpu_seconds:6.2f} s  "
            f"peak RSS {m.peak_mb:,.0f} MB  ({args.threads} threads; load average "
            f"{load0:.1f} → {load1:.1f})\n  {sizes}"
        )
        if not args.sections:
            return
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(ws), tmp],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode:
            sys.exit(f"per-section run failed:\n{child.stderr}")
        r = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"  per part (load average {r['load_avg'][0]} → {r['load_avg'][1]}):")
        for name, wall, cpu in r["timings"]:
            print(f"    {name:22s} wall {wall:6.2f} s  CPU {cpu:6.2f} s")
        for key, reason in r["unavailable"].items():
            print(f"    unavailable {key}: {reason[:100]}")


if __name__ == "__main__":
    main()
