"""Benchmark identity resolution: 1M person-records from 3 sources with 30% duplicates, then an
incremental run adding 10k records. Prints time (wall and CPU), peak memory, the load average
and pairwise precision / recall, and a Markdown row per run for docs/performance.md.

    python bench/bench_identity.py [--records 1000000] [--new 10000] [--cores 2]

The incremental run gets what the ingest step stores between runs: the identity map, the
`identity_features` table and the golden customers.

The data is synthetic and vectorised (numpy + polars): Chinese and western names, romanised
variants, typos, missing fields, shared family phones and placeholder contact points.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import time

import numpy as np
import polars as pl

SURNAMES_CN = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_CN = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力燕林鹏斌宇浩凯晨婷雪琳博欣怡子涵轩雨萱思远佳琪梓睿"
)
SYLL = [
    "an",
    "ber",
    "ca",
    "da",
    "el",
    "fa",
    "gor",
    "han",
    "is",
    "jo",
    "ka",
    "li",
    "mar",
    "na",
    "ol",
    "pe",
    "qui",
    "ro",
    "sa",
    "ta",
    "ul",
    "vi",
    "wil",
    "xa",
    "yo",
    "zel",
    "bri",
    "cla",
    "dre",
    "fio",
    "gra",
    "ste",
    "tho",
    "mi",
    "ne",
    "ri",
    "lu",
    "ja",
    "ke",
    "mo",
]
CITIES = [f"city{i:02d}" for i in range(60)]


def _names(rng: np.random.Generator, n: int, syll: int) -> pl.Series:
    parts = [pl.Series(np.array(SYLL)[rng.integers(0, len(SYLL), n)]) for _ in range(syll)]
    return pl.select(pl.concat_str(parts).str.to_titlecase()).to_series()


def _typo(s: pl.Series, rng: np.random.Generator, rate: float) -> pl.Series:
    n = len(s)
    hit = rng.random(n) < rate
    pos = pl.Series(rng.integers(0, 4, n))
    letter = pl.Series(np.array(list("aeioulnrst"))[rng.integers(0, 10, n)])
    df = pl.DataFrame({"s": s, "p": pos, "l": letter, "h": hit})
    return df.select(
        pl.when(pl.col("h") & (pl.col("s").str.len_chars() > 3))
        .then(
            pl.concat_str(
                pl.col("s").str.slice(0, pl.col("p") + 1),
                pl.col("l"),
                pl.col("s").str.slice(pl.col("p") + 2),
            )
        )
        .otherwise(pl.col("s"))
    ).to_series()


def persons(n: int, seed: int) -> pl.DataFrame:
    """n synthetic people: half Chinese-named, half western-named, unique e-mails and phones."""
    rng = np.random.default_rng(seed)
    cn = rng.random(n) < 0.5
    sur_cn = np.array(SURNAMES_CN)[rng.integers(0, len(SURNAMES_CN), n)]
    g1 = np.array(GIVEN_CN)[rng.integers(0, len(GIVEN_CN), n)]
    g2 = np.where(rng.random(n) < 0.6, np.array(GIVEN_CN)[rng.integers(0, len(GIVEN_CN), n)], "")
    first_w = _names(rng, n, 2)
    last_w = _names(rng, n, 3)
    phones = rng.choice(10**8, size=n, replace=False)
    prefix = np.array([138, 139, 150, 186, 188, 135, 137, 159])[rng.integers(0, 8, n)]
    days = rng.integers(0, 50 * 365, n)
    df = pl.DataFrame(
        {
            "person_id": np.arange(n),
            "cn": cn,
            "full_cn": np.char.add(np.char.add(sur_cn, g1), g2),
            "first": first_w,
            "last": last_w,
            "phone": pl.Series(
                np.char.add(
                    "+86", np.char.add(prefix.astype(str), np.char.zfill(phones.astype(str), 8))
                )
            ),
            "days": days,
            "city": np.array(CITIES)[rng.integers(0, len(CITIES), n)],
            "postcode": np.char.zfill(rng.integers(0, 999_999, n).astype(str), 6),
            "street": rng.integers(1, 300, n),
        }
    )
    df = df.with_columns(
        birth_date=pl.lit(dt.date(1950, 1, 1)) + pl.duration(days=pl.col("days"))
    ).drop("days")
    return df.with_columns(
        email=pl.concat_str(
            pl.col("first").str.to_lowercase(),
            pl.lit("."),
            pl.col("last").str.to_lowercase(),
            pl.col("person_id").cast(pl.String),
            pl.lit("@mail.com"),
        ),
        full=pl.when("cn").then("full_cn").otherwise(pl.concat_str("first", pl.lit(" "), "last")),
        address=pl.concat_str(pl.col("street").cast(pl.String), pl.lit(" main street")),
    )


def synthetic(
    n_records: int,
    dup_rate: float = 0.3,
    seed: int = 0,
    id_offset: int = 0,
    people: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(records, truth): n_records records over 3 sources, dup_rate of them extra records of
    people who already have one. With `people`, duplicates point at those existing people."""
    rng = np.random.default_rng(seed + 1)
    n_new = int(n_records * (1 - dup_rate))
    fresh = persons(n_new, seed).with_columns(pl.col("person_id") + id_offset)
    pool = fresh if people is None else pl.concat([people, fresh])
    dup_idx = rng.integers(0, pool.height, n_records - n_new)
    rows = pl.concat([fresh, pool[dup_idx]])
    n = rows.height
    source = np.array(["crm", "shop", "pos"])[rng.integers(0, 3, n)]
    is_dup = np.arange(n) >= n_new
    romanise = is_dup & (rng.random(n) < 0.15)  # only Chinese names, see `_rom` below
    rows = rows.with_columns(
        source=pl.Series(source),
        _dup=pl.Series(is_dup),
        _rom=pl.Series(romanise) & pl.col("cn"),
        _miss_e=pl.Series(rng.random(n) < 0.3),
        _miss_p=pl.Series(rng.random(n) < 0.3),
        _miss_b=pl.Series(rng.random(n) < 0.5),
        _upper=pl.Series(rng.random(n) < 0.1),
    )
    first_t = _typo(rows["first"], rng, 0.08)
    last_t = _typo(rows["last"], rng, 0.05)
    rows = rows.with_columns(first_t=first_t, last_t=last_t)
    name = (
        pl.when(pl.col("cn") & pl.col("_rom"))
        .then(pl.lit(None, pl.String))  # romanised Chinese names are filled below
        .when(pl.col("cn"))
        .then("full_cn")
        .when(pl.col("_dup"))
        .then(pl.concat_str("first_t", pl.lit(" "), "last_t"))
        .otherwise("full")
    )
    rec = rows.select(
        "source",
        "person_id",
        full_name=name,
        email=pl.when(pl.col("_dup") & pl.col("_miss_e") | (pl.col("source") == "pos"))
        .then(None)
        .otherwise(pl.when("_upper").then(pl.col("email").str.to_uppercase()).otherwise("email")),
        phone=pl.when(pl.col("_dup") & pl.col("_miss_p") & (pl.col("source") != "pos"))
        .then(None)
        .otherwise("phone"),
        birth_date=pl.when((pl.col("source") == "crm") & ~pl.col("_miss_b")).then("birth_date"),
        city=pl.when(pl.col("source") != "pos").then("city"),
        postcode=pl.when(pl.col("source") != "pos").then("postcode"),
        address_line=pl.when(pl.col("source") == "crm").then("address"),
        cn="cn",
        rom="_rom",
        full_cn="full_cn",
    )
    # Romanised Chinese names ("zhang wei") through the resolver's own pinyin on distinct values.
    from crmkit.identity import normalize as nz

    rom = rec.select(
        nz.pinyin(pl.col("full_cn").str.slice(0, 1), surname=True).alias("s"),
        nz.pinyin(pl.col("full_cn").str.slice(1)).alias("g"),
    )
    rec = rec.with_columns(
        full_name=pl.when(pl.col("rom"))
        .then(pl.concat_str(rom["s"].str.to_titlecase(), pl.lit(" "), rom["g"].str.to_titlecase()))
        .otherwise("full_name")
    )
    rec = rec.with_row_index("_i").with_columns(
        source_record_id=pl.concat_str(pl.lit("r"), (pl.col("_i") + id_offset * 2).cast(pl.String)),
        origin_table=pl.lit("customers"),
        email=pl.col("email").str.to_lowercase(),
    )
    truth = rec.select("source", "source_record_id", person_id=pl.col("person_id").cast(pl.String))
    from crmkit.identity.records import RECORD_SCHEMA

    records = rec.select(
        (pl.col(c).cast(t) if c in rec.columns else pl.lit(None, t).alias(c))
        for c, t in RECORD_SCHEMA.items()
    )
    return records, truth


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--new", type=int, default=10_000)
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(range(min(args.cores, os.cpu_count() or 1))))

    from crmkit.identity import evaluate, resolve

    t0 = time.perf_counter()
    records, truth = synthetic(args.records, seed=7)
    print(f"generated {records.height:,} records in {time.perf_counter() - t0:.1f}s")
    load0, t0, c0 = _load(), time.perf_counter(), _cpu()
    res = resolve(records, previous=None, settings={}, run_id="bench-1")
    full, full_cpu, load1 = time.perf_counter() - t0, _cpu() - c0, _load()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    ev = evaluate(res, truth)
    print(
        f"full run: {full:.1f}s wall, {full_cpu:.1f}s CPU, peak RSS {peak:.2f} GB, "
        f"{res.customers.height:,} customers, precision {ev['precision']:.4f}, "
        f"recall {ev['recall']:.4f}; load average {load0} before, {load1} after"
    )
    print("links by rule:", res.report["links_by_rule"])
    rows = [
        f"| full, {records.height:,} records → {res.customers.height:,} customers | "
        f"{full:.1f} s ({full_cpu:.1f} CPU-s) | {peak:.2f} GB | {ev['precision']:.4f} | "
        f"{ev['recall']:.4f} | {load1} |"
    ]

    people = persons(int(args.records * 0.7), 7)
    new, new_truth = synthetic(args.new, seed=99, id_offset=10_000_000, people=people)
    allrec = pl.concat([records, new])
    load0, t0, c0 = _load(), time.perf_counter(), _cpu()
    res2 = resolve(
        allrec,
        previous=res.identity_map,
        previous_features=res.features,
        previous_customers=res.customers,
        settings={},
        run_id="bench-2",
    )
    inc, inc_cpu, load1 = time.perf_counter() - t0, _cpu() - c0, _load()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    ev2 = evaluate(res2, pl.concat([truth, new_truth]))
    kept = (
        res.identity_map.join(res2.identity_map, on=["source", "source_record_id"], suffix="_2")
        .select((pl.col("customer_key") == pl.col("customer_key_2")).mean())
        .item()
    )
    print(
        f"incremental run (+{new.height:,}): {inc:.1f}s wall, {inc_cpu:.1f}s CPU, "
        f"peak RSS {peak:.2f} GB, precision {ev2['precision']:.4f}, "
        f"recall {ev2['recall']:.4f}, keys kept {kept:.4%}, changes {res2.report['changes']}; "
        f"load average {load0} before, {load1} after"
    )
    rows.append(
        f"| incremental, +{new.height:,} records | {inc:.1f} s ({inc_cpu:.1f} CPU-s) | "
        f"{peak:.2f} GB | {ev2['precision']:.4f} | {ev2['recall']:.4f} | {load1} |"
    )
    print("\n| run | time | peak RSS | precision | recall | load (1/5/15 min) |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
