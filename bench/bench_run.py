"""`crmkit run` end to end at scale: 10M POS orders + 1M CRM contacts into an empty workspace.

    python bench/bench_run.py                         # 10M orders / 1M customers (the target)
    python bench/bench_run.py --rows 1000000          # a tenth, for a quick look

Generates seeded exports under bench/out/ (reused when present): a POS orders CSV laid out like
`bench_ingest.py`'s (customer e-mail and phone on each order) but with customers who buy at
different rates and stop at some point, and a CRM contacts CSV with one row per customer (id,
Chinese name, the same e-mail and phone, city, signup date), so identity resolution has real
work to do. Writes a config like `configs/sample.yaml` (two periods, RFM, tiers and lifecycle,
CLV, HTML + XLSX + Markdown reports), runs the installed `crmkit run` as a subprocess and prints
wall time, peak RSS and the per-step times from `run.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import numpy as np
import polars as pl
from bench_ingest import write_orders_csv
from common import crmkit, measure

OUT = Path(__file__).parent / "out"
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平")
CITIES = ["上海", "北京", "杭州", "深圳", "广州", "成都", "南京", "苏州"]


def make_orders_csv(path: Path, rows: int, seed: int = 11) -> None:
    """POS orders of `rows // 10` customers who differ: lognormal buying rates, a first visit
    spread over two years and an exponential active life, so some stop buying (CLV and the
    lifecycle windows need that). Same columns as `bench_ingest.py`'s file."""
    customers = max(rows // 10, 1)
    rng = np.random.default_rng(seed)
    weight = rng.lognormal(0.0, 1.0, customers)
    first = rng.uniform(0, 730, customers)
    life = np.minimum(rng.exponential(300, customers), 730 - first)

    def chunk(start: int, n: int) -> pl.DataFrame:
        cust = rng.choice(customers, n, p=weight / weight.sum())
        day = first[cust] + rng.uniform(0, 1, n) * life[cust]
        return pl.DataFrame(
            {
                "i": pl.int_range(start, start + n, eager=True, dtype=pl.Int64),
                "cust": cust,
                "minutes": (day * 1440).astype(np.int64),
                "total": rng.lognormal(4.5, 0.8, n),
            }
        )

    write_orders_csv(path, rows, chunk)


def make_contacts_csv(path: Path, customers: int) -> None:
    """One CRM row per customer of the orders file (same e-mail / phone numbering)."""
    i = pl.int_range(0, customers, eager=True, dtype=pl.Int64)
    frame = pl.DataFrame({"i": i}).select(
        ("C" + pl.col("i").cast(pl.String).str.zfill(8)).alias("Contact ID"),
        (
            pl.col("i").mod(len(SURNAMES)).replace_strict(dict(enumerate(SURNAMES)))
            + pl.col("i").floordiv(20).mod(len(GIVEN)).replace_strict(dict(enumerate(GIVEN)))
            + pl.col("i").floordiv(400).mod(len(GIVEN)).replace_strict(dict(enumerate(GIVEN)))
        ).alias("Name"),
        ("user" + pl.col("i").cast(pl.String) + "@example.com").alias("Email"),
        ("139" + pl.col("i").cast(pl.String).str.zfill(8)).alias("Phone"),
        pl.col("i").mod(len(CITIES)).replace_strict(dict(enumerate(CITIES))).alias("City"),
        (pl.date(2022, 1, 1) + pl.duration(days=pl.col("i").mod(700)))
        .dt.strftime("%Y-%m-%d")
        .alias("Created"),
    )
    frame.write_csv(path)


CONFIG = """\
timezone: Asia/Shanghai
currency: CNY
phone_region: CN
sources:
  - name: pos
    path: {orders}
    table: orders
    constants: {{channel: pos}}
  - name: crm
    path: {contacts}
    table: customers
run:
  periods: [last-90d, last-365d]
  segments: [rfm, tiers, lifecycle]
  reports: [html, xlsx, md]
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="orders (customers = rows/10)")
    ap.add_argument("--keep", action="store_true", help="keep the workspace afterwards")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    orders = OUT / f"run_orders_{args.rows}.csv"
    contacts = OUT / f"contacts_{args.rows // 10}.csv"
    if not orders.exists():
        print(f"generating {orders} …", flush=True)
        make_orders_csv(orders, args.rows)
    if not contacts.exists():
        print(f"generating {contacts} …", flush=True)
        make_contacts_csv(contacts, args.rows // 10)
    ws = OUT / f"run_{args.rows}"
    shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(parents=True)
    config = ws / "bench.yaml"
    config.write_text(CONFIG.format(orders=orders.resolve(), contacts=contacts.resolve()))
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    m = measure(crmkit("run", "-w", str(ws), "--config", str(config), "-q"))
    print(
        f"| {args.rows:,} orders / {args.rows // 10:,} customers | crmkit run | "
        f"{m.seconds:.1f} s | CPU {m.cpu_seconds:.1f} s | {m.peak_mb:,.0f} MB | "
        f"exit {m.returncode} |"
    )
    runs = sorted((ws / "runs").glob("*/run.json"))
    if runs:
        info = json.loads(runs[-1].read_text())
        for step in info.get("steps", []):
            print(f"  {step.get('name')}: {step.get('seconds')} s ({step.get('status')})")
    if not args.keep:
        shutil.rmtree(ws, ignore_errors=True)


if __name__ == "__main__":
    main()
