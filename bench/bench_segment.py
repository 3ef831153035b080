"""Benchmark `crmkit segment` on synthetic, seeded data: wall time and peak RSS per method.

    python bench/bench_segment.py                      # 1M customers, 10M orders: rfm, kmeans
    python bench/bench_segment.py --customers 100000 --orders 1000000 --methods rfm,tiers
    python bench/bench_segment.py --methods rfm --stages   # plus wall and CPU per stage

The data (orders, ~1.5 lines per order, customers, surveys) is generated once into a cached
workspace under --dir; each method then runs in a fresh child process limited to --threads
threads (POLARS_MAX_THREADS, OMP/OpenBLAS threads), which reports its own time and peak RSS.
The workspace carries the integer keys ingest writes (`customer_no`, `order_no`; folder suffix
`-intkeys`); `--keys strings` uses one without them, as an older ingest left it, so the
segment code takes its string-keyed fallback.
Targets: RFM with profiles < 5 s and < 3 GB; k-means with silhouette < 60 s (2 cores).
CPU seconds (user + sys, all threads) are printed next to wall time: on a shared, overloaded
machine wall time mostly measures waiting for a core; CPU / threads is the unloaded wall time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def generate(ws: Path, n_customers: int, n_orders: int, seed: int, int_keys: bool = True) -> None:
    """Write a synthetic workspace: every customer orders at least once, heavy-tailed beyond.

    With `int_keys`, the tables carry the numbers ingest writes: `customers.customer_no` (row
    number; the keys are sorted), `orders.customer_no`, `orders.order_no` (row number) and
    `order_lines.order_no` (their order's).
    """
    import numpy as np
    import polars as pl

    from crmkit.schema import MONEY
    from crmkit.warehouse import Warehouse

    rng = np.random.default_rng(seed)
    weights = rng.lognormal(0.0, 1.5, n_customers)
    extra = rng.choice(n_customers, n_orders - n_customers, p=weights / weights.sum())
    cust_idx = np.concatenate([np.arange(n_customers), extra])
    start = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    # the data is drawn exactly as before the integer keys existed, so both variants hold the
    # same orders; the keys are added at the end
    span_us = int(3 * 365 * 86400 * 1e6)
    keys = pl.Series("k", cust_idx).cast(pl.String).str.zfill(8)
    orders = pl.DataFrame(
        {
            "order_id": pl.int_range(n_orders, eager=True).cast(pl.String),
            "customer_key": "C" + keys,
            "ordered_at": pl.Series(rng.integers(0, span_us, n_orders)).cast(pl.Duration("us"))
            + start,
            "status": pl.Series(
                rng.choice(
                    ["completed", "partially_refunded", "refunded", "cancelled"],
                    n_orders,
                    p=[0.9, 0.03, 0.04, 0.03],
                )
            ),
            "net_amount": pl.Series(rng.lognormal(4.0, 0.9, n_orders).round(2)).cast(MONEY),
            "cost_amount": pl.Series(rng.lognormal(3.4, 0.9, n_orders).round(2)).cast(MONEY),
            "channel": pl.Series(rng.choice(["pos", "online", "marketplace"], n_orders)),
            "store": pl.repeat("S1", n_orders, eager=True),
            "source": pl.Series(rng.choice(["pos", "shop"], n_orders)),
        }
    )
    two = rng.random(n_orders) < 0.5
    idx = np.concatenate([np.arange(n_orders), np.flatnonzero(two)])
    lines = orders.select("order_id", "source", "net_amount")[idx].select(
        "order_id",
        "source",
        pl.Series("category", rng.choice(["tea", "cups", "pots", "gifts", "snacks"], len(idx))),
        pl.lit(1.0).alias("quantity"),
        pl.col("net_amount").alias("line_amount"),
    )
    genders = rng.choice(["f", "m", "other"], n_customers, p=[0.55, 0.43, 0.02])
    customers = pl.DataFrame(
        {
            "customer_key": "C" + pl.Series(np.arange(n_customers)).cast(pl.String).str.zfill(8),
            "gender": genders,
            "birth_date": pl.Series(rng.integers(-12000, 9000, n_customers)).cast(pl.Date),
            "region": rng.choice(["Zhejiang", "Jiangsu", "Shanghai", "Beijing"], n_customers),
        }
    ).with_columns(
        pl.concat_str(pl.lit("Name "), pl.col("customer_key")).alias("full_name"),
        (pl.col("customer_key").str.to_lowercase() + "@example.com").alias("email"),
        pl.lit("+8613800138000").alias("phone"),
        pl.lit(None, pl.String).alias("referred_by"),
        pl.lit(None, pl.Datetime("us", "UTC")).alias("signup_at"),
    )
    n_s = n_customers // 5
    surveys = pl.DataFrame(
        {
            "customer_key": customers["customer_key"][:n_s],
            "responded_at": pl.Series([start] * n_s),
            "nps": rng.integers(0, 11, n_s).astype(float),
            "csat": rng.integers(1, 6, n_s).astype(float),
        }
    )
    if int_keys:
        customers = customers.with_columns(
            pl.int_range(pl.len(), dtype=pl.Int64).alias("customer_no")
        )
        orders = orders.with_columns(
            pl.int_range(pl.len(), dtype=pl.Int64).alias("order_no"),
            pl.Series("customer_no", cust_idx, dtype=pl.Int64),
        )
        lines = lines.with_columns(pl.Series("order_no", idx, dtype=pl.Int64))
    ws.mkdir(parents=True, exist_ok=True)
    (ws / "crmkit.yaml").write_text("timezone: UTC\n", encoding="utf-8")
    wh = Warehouse(ws)
    with wh.lock(), wh.transaction("bench") as tx:
        for name, frame in (
            ("orders", orders),
            ("order_lines", lines),
            ("customers", customers),
            ("survey_responses", surveys),
        ):
            tx.write(name, frame)


STAGES = {  # (module, attribute) timed with --stages: where the time of a run goes
    "last_date": ("crmkit.workspace", "Workspace.last_date"),
    "customers": ("crmkit.segment.run", "Inputs.customers"),
    "facts": ("crmkit.segment.run", "Inputs.facts"),
    "rfm": ("crmkit.segment.run", "rfm_segments"),
    "tiers": ("crmkit.segment.run", "tier_segments"),
    "lifecycle": ("crmkit.segment.run", "lifecycle_segments"),
    "kmeans": ("crmkit.segment.run", "cluster_segments"),
    "profile": ("crmkit.segment.run", "profile"),
    "record_history": ("crmkit.segment.run", "record_history"),
}


def _time_stages(timings: list[tuple[str, float, float]]) -> None:
    """Wrap the STAGES functions so each call appends (stage, wall s, CPU s) to `timings`."""
    import importlib

    from common import stage_timer

    wrap = stage_timer(timings)

    for name, (module, attr) in STAGES.items():
        owner = importlib.import_module(module)
        *path, leaf = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        setattr(owner, leaf, wrap(name, getattr(owner, leaf)))


def run_child(ws: Path, method: str, stages: bool = False) -> None:
    """Run one method (in this fresh process) and print time and peak RSS as JSON."""
    from crmkit import Workspace

    timings: list[tuple[str, float, float]] = []
    if stages:
        _time_stages(timings)
    load0 = os.getloadavg()[0]
    u0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    result = Workspace(ws).segment(method=method, record=True)
    seconds = time.perf_counter() - t0
    u1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)
    peak_kb = u1.ru_maxrss
    print(
        json.dumps(
            {
                "method": method,
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu, 2),
                "load_avg": [round(load0, 1), round(os.getloadavg()[0], 1)],
                "peak_rss_mb": round(peak_kb / 1024),
                "customers": result.members.height,
                "segments": result.profiles.height,
                "notes": result.notes,
                "settings": result.settings.get("cut_points"),
                "stages": [[n, round(w, 2), round(c, 2)] for n, w, c in timings],
            },
            ensure_ascii=False,
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--methods", default="rfm,kmeans")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "crmkit-bench")
    ap.add_argument("--stages", action="store_true", help="print wall and CPU per stage")
    ap.add_argument(
        "--keys",
        choices=("int", "strings"),
        default="int",
        help="strings: a workspace without the integer keys (the segment code's fallback)",
    )
    ap.add_argument("--child", nargs=2, metavar=("WS", "METHOD"), help=argparse.SUPPRESS)
    ap.add_argument("--generate", type=Path, metavar="WS", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        run_child(Path(args.child[0]), args.child[1], args.stages)
        return
    if args.generate:
        generate(args.generate, args.customers, args.orders, args.seed, args.keys == "int")
        return
    ws = args.dir / f"seg-{args.customers}-{args.orders}-{args.seed}"
    if args.keys == "int":
        ws = ws.with_name(ws.name + "-intkeys")
    if not (ws / "warehouse" / "orders.parquet").exists():
        # In its own process: a child's peak RSS (ru_maxrss) starts from its parent's resident
        # size at fork, so generating here would add ~3 GB to the first measured peak.
        t0 = time.perf_counter()
        sizes = ["--customers", str(args.customers), "--orders", str(args.orders)]
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--generate",
                str(ws),
                *sizes,
                "--seed",
                str(args.seed),
                "--keys",
                args.keys,
            ],
            check=True,
        )
        print(f"generated {ws} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    env = dict(os.environ)
    for var in ("POLARS_MAX_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    for method in args.methods.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(ws), method, *(["--stages"] * args.stages)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode:
            print(f"{method}: failed\n{out.stderr}", file=sys.stderr)
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{method:10s} {r['customers']:>10,} customers  wall {r['seconds']:7.2f} s  "
            f"CPU {r['cpu_seconds']:7.2f} s  peak RSS {r['peak_rss_mb']:,} MB  "
            f"({args.threads} threads; load average {r['load_avg'][0]} → {r['load_avg'][1]}; "
            f"{args.keys} keys)"
        )
        for note in r["notes"]:
            print(f"           note: {note}")
        for name, wall, cpu in r["stages"]:
            print(f"           {name:15s} wall {wall:7.2f} s  CPU {cpu:7.2f} s")


if __name__ == "__main__":
    main()
