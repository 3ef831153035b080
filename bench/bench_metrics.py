"""Benchmark `crmkit metrics`: all metrics for one period on synthetic data; time and peak RSS.

    python bench/bench_metrics.py                      # 10M orders / 1M customers, 2 threads
    python bench/bench_metrics.py --orders 1e6 --customers 1e5 --keep /tmp/ws

Data are synthetic and seeded (orders, customers, tickets, survey responses, spend, events,
segment_history), written as parquet to a temporary workspace. Each measurement runs in a fresh
subprocess limited to `--threads` polars threads (and CPUs, where the OS allows), so the peak RSS
(resource.getrusage) is that of the metrics run alone.
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

START = dt.datetime(2022, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2025, 6, 30, 23, 59, tzinfo=dt.UTC)


def _times(pl, rng, n: int):
    """`n` uniform random UTC datetimes between START and END."""
    lo, hi = int(START.timestamp() * 1e6), int(END.timestamp() * 1e6)
    return pl.Series(rng.integers(lo, hi, n)).cast(pl.Datetime("us", "UTC"))


def generate(path: Path, orders: int, customers: int, seed: int = 7) -> None:
    """Write a synthetic workspace under `path` (sizes of the other tables in proportion)."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    wh = path / "warehouse"
    wh.mkdir(parents=True, exist_ok=True)
    money = pl.Decimal(18, 2)

    def keys(n: int, walk_in: float = 0.0) -> pl.Series:
        # skewed: a few customers order often, most rarely
        idx = np.minimum((rng.pareto(1.2, n) * customers / 20).astype(np.int64), customers - 1)
        s = pl.Series("customer_key", idx).cast(pl.String).str.zfill(8)
        if walk_in:
            s = pl.select(
                pl.when(pl.lit(rng.random(n) < walk_in)).then(None).otherwise(s)
            ).to_series()
        return s.alias("customer_key")

    def choice(name: str, values: list[str], n: int, p: list[float] | None = None) -> pl.Series:
        return pl.Series(name, rng.choice(values, n, p=p))

    gross = rng.gamma(2.0, 40.0, orders).round(2)
    disc = (gross * rng.choice([0, 0.1], orders, p=[0.8, 0.2])).round(2)
    status = choice(
        "status",
        ["completed", "partially_refunded", "refunded", "cancelled", "pending"],
        orders,
        [0.86, 0.04, 0.04, 0.04, 0.02],
    )
    refund = np.where(status.to_numpy() == "partially_refunded", (gross * 0.3).round(2), 0.0)
    pl.DataFrame(
        {
            "order_id": pl.int_range(0, orders, eager=True).cast(pl.String),
            "customer_key": keys(orders, 0.03),
            "ordered_at": _times(pl, rng, orders),
            "status": status,
            "currency": ["USD"] * orders,
            "gross_amount": pl.Series(gross).cast(money),
            "discount_amount": pl.Series(disc).cast(money),
            "refund_amount": pl.Series(refund).cast(money),
            "net_amount": pl.Series(gross - disc - refund).round(2).cast(money),
            "cost_amount": pl.Series(gross * 0.55).round(2).cast(money),
            "channel": choice("channel", ["pos", "online", "marketplace"], orders),
            "store": choice("store", [f"S{i:02d}" for i in range(30)], orders),
            "items_count": rng.integers(1, 6, orders),
            "source": choice("source", ["pos", "shop"], orders),
        }
    ).write_parquet(wh / "orders.parquet")

    ckeys = pl.int_range(0, customers, eager=True).cast(pl.String).str.zfill(8)
    channels = ["organic", "paid_search", "social", "referral", "store", "email"]
    refs = rng.integers(0, customers, customers)
    pl.DataFrame(
        {
            "customer_key": ckeys,
            "gender": choice("gender", ["f", "m", "other"], customers, [0.5, 0.48, 0.02]),
            "city": choice("city", [f"City{i}" for i in range(50)], customers),
            "region": choice("region", [f"R{i}" for i in range(12)], customers),
            "signup_at": _times(pl, rng, customers),
            "acquisition_channel": choice("acquisition_channel", channels, customers),
            "loyalty_member": rng.random(customers) < 0.3,
            "referred_by": pl.Series(refs)
            .cast(pl.String)
            .str.zfill(8)
            .scatter(np.flatnonzero(rng.random(customers) >= 0.05), None),
        }
    ).write_parquet(wh / "customers.parquet")

    n_t = max(orders // 20, 1)
    created = _times(pl, rng, n_t)
    pl.DataFrame(
        {
            "ticket_id": pl.int_range(0, n_t, eager=True).cast(pl.String),
            "customer_key": keys(n_t),
            "created_at": created,
            "first_response_at": created
            + pl.Series(rng.exponential(6, n_t) * 3.6e9).cast(pl.Duration("us")),
            "resolved_at": created
            + pl.Series(rng.exponential(40, n_t) * 3.6e9).cast(pl.Duration("us")),
            "status": choice("status", ["open", "pending", "solved", "closed"], n_t),
            "is_complaint": rng.random(n_t) < 0.2,
            "handling_cost": pl.Series(rng.gamma(2, 5, n_t).round(2)).cast(money),
        }
    ).write_parquet(wh / "tickets.parquet")

    n_s = max(orders // 30, 1)
    pl.DataFrame(
        {
            "response_id": pl.int_range(0, n_s, eager=True).cast(pl.String),
            "customer_key": keys(n_s),
            "responded_at": _times(pl, rng, n_s),
            "nps": rng.integers(0, 11, n_s).astype(float),
            "csat": rng.integers(1, 6, n_s).astype(float),
            "ces": rng.integers(1, 8, n_s).astype(float),
        }
    ).write_parquet(wh / "survey_responses.parquet")

    days = pl.date_range(START.date(), END.date(), eager=True)
    spend = pl.DataFrame({"date": days}).join(pl.DataFrame({"channel": channels}), how="cross")
    spend.with_columns(
        cost=pl.Series(rng.gamma(2, 500, spend.height).round(2)).cast(money),
        cost_type=pl.lit("marketing"),
        currency=pl.lit("USD"),
    ).write_parquet(wh / "marketing_spend.parquet")

    n_e = orders // 2
    pl.DataFrame(
        {
            "event_id": pl.int_range(0, n_e, eager=True).cast(pl.String),
            "customer_key": keys(n_e),
            "occurred_at": _times(pl, rng, n_e),
            "event_type": choice(
                "event_type",
                [
                    "visit",
                    "page_view",
                    "email_sent",
                    "email_open",
                    "email_click",
                    "cart_add",
                    "referral_sent",
                ],
                n_e,
                [0.3, 0.3, 0.2, 0.1, 0.04, 0.05, 0.01],
            ),
        }
    ).write_parquet(wh / "events.parquet")

    pl.DataFrame(
        {
            "customer_key": ckeys,
            "method": ["rfm"] * customers,
            "segment": choice(
                "segment", ["Champions", "Loyal", "At Risk", "Hibernating"], customers
            ),
            "as_of": [END.date()] * customers,
            "run_id": ["bench"] * customers,
        }
    ).write_parquet(wh / "segment_history.parquet")


def measure(ws: Path, period: str, by: list[str], compare: str | None) -> dict:
    """Run once in this process and report wall time and peak RSS."""
    from crmkit.metrics import compute
    from crmkit.workspace import Workspace

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    c0, t0 = cpu(), time.perf_counter()
    df = compute(Workspace(ws), period=period, by=by or None, compare=compare)
    seconds, cpu_seconds = time.perf_counter() - t0, cpu() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB → MiB on Linux
    ok = df.filter(df["status"] == "ok").height
    return {
        "by": by,
        "compare": compare,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "peak_rss_mib": round(peak),
        "load_avg_1m": round(os.getloadavg()[0], 1),
        "rows": df.height,
        "ok_rows": ok,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=float, default=10_000_000)
    parser.add_argument("--customers", type=float, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--period", default="2025Q2")
    parser.add_argument("--keep", type=Path, help="write the workspace here and keep it")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--by", default="", help=argparse.SUPPRESS)
    parser.add_argument("--compare", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        by = [b for b in args.by.split(",") if b]
        print(json.dumps(measure(args.measure, args.period, by, args.compare)))
        return 0
    tmp = None
    if args.keep:
        ws = args.keep
    else:
        tmp = tempfile.TemporaryDirectory(prefix="crmkit-bench-")
        ws = Path(tmp.name)
    if not (ws / "warehouse" / "orders.parquet").exists():
        t0 = time.perf_counter()
        generate(ws, int(args.orders), int(args.customers))
        print(
            f"generated {int(args.orders):,} orders / {int(args.customers):,} customers "
            f"in {time.perf_counter() - t0:.1f} s at {ws}",
            file=sys.stderr,
        )
    env = {**os.environ, "POLARS_MAX_THREADS": str(args.threads)}
    cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[: args.threads])
    for by, compare in (
        ("", None),
        ("", "previous"),
        ("channel,region", None),
        ("segment,gender", None),
    ):
        cmd = [sys.executable, __file__, "--measure", str(ws), "--period", args.period, "--by", by]
        if compare:
            cmd += ["--compare", compare]
        if Path("/usr/bin/taskset").exists():
            cmd = ["taskset", "-c", cpus, *cmd]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        print(out.stdout.strip())
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
