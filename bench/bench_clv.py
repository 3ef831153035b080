"""Benchmark crmkit's CLV models against `lifetimes` on simulated customers.

Simulates N customers from a BG/NBD process with CDNOW-like parameters (weeks as the unit,
acquisitions spread over the first 26 weeks, a 52-week calibration) and Gamma-Gamma spends,
then times crmkit and lifetimes on the same (frequency, recency, T, monetary) rows and prints
the times and the estimates side by side. pandas/lifetimes are used here only.

    python bench/bench_clv.py [--customers 1000000] [--pareto-lifetimes-customers 100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

import numpy as np
import polars as pl

from crmkit.models import bgnbd, fit, predict
from crmkit.models.estimate import Guards, collapse, fit_purchases
from crmkit.models.summary import Summary

TRUE_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
TRUE_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
CAL_WEEKS = 52.0


def simulate(n: int, seed: int = 7) -> pl.DataFrame:
    """(customer_key, frequency, recency, T, monetary_value) rows from BG/NBD + Gamma-Gamma,
    with purchase times rounded to whole days as the warehouse records them."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE_BG["r"], 1 / TRUE_BG["alpha"], n)
    p = rng.beta(TRUE_BG["a"], TRUE_BG["b"], n)
    birth_day = rng.integers(0, 26 * 7, n)
    T_days = CAL_WEEKS * 7 - birth_day
    x = np.zeros(n, dtype=np.int64)
    last = np.zeros(n)
    now = np.zeros(n)
    active = np.arange(n)
    while active.size:
        now[active] += rng.exponential(1.0, active.size) / lam[active] * 7.0
        inside = now[active] <= T_days[active]
        active = active[inside]
        day = np.floor(now[active])
        new_day = day > last[active]  # same-day purchases are one purchase
        x[active[new_day]] += 1
        last[active] = day
        alive = rng.random(active.size) >= p[active]
        active = active[alive]
    nu = rng.gamma(TRUE_GG["q"], 1 / TRUE_GG["gamma"], n)
    spend = np.where(
        x > 0, rng.gamma(TRUE_GG["p"] * np.maximum(x, 1), 1.0) / nu / np.maximum(x, 1), 0.0
    )
    return pl.DataFrame(
        {
            "customer_key": [f"c{i:07d}" for i in range(n)],
            "first_purchase": [dt.date(2024, 1, 1)] * n,
            "frequency": x,
            "recency": last / 7.0,
            "T": T_days / 7.0,
            "monetary_value": np.round(spend, 2),
        }
    )


def timed(fn):
    """(result, (CPU seconds of this process, wall-clock seconds)).

    CPU time is the headline because shared machines make wall-clock time noisy; note that it
    adds up the threads polars uses, so it is the less flattering figure for crmkit."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, (time.process_time() - c0, time.perf_counter() - w0)


def run_crmkit(frame: pl.DataFrame) -> tuple[dict, float, float]:
    """BG/NBD + Gamma-Gamma fit and 12-month predictions; Pareto/NBD fit and predictions."""
    summary = Summary(frame, dt.date(2024, 12, 30), "weeks")
    guards = Guards()

    def bg() -> object:
        f = fit(summary, model="bgnbd", guards=guards)
        return f, predict(f, summary, horizon="12m", discount=0.01, margin=1.0)

    (bg_fit, bg_pred), t_bg = timed(bg)

    def pareto() -> object:
        f = fit_purchases(summary, model="pareto")
        return f

    pareto_fit, t_pareto = timed(pareto)
    out = {
        "bg": bg_fit.purchases.params,
        "bg_ll": bg_fit.purchases.loglik,
        "gg": bg_fit.spend.params,
        "pareto": pareto_fit.params,
        "pareto_ll": pareto_fit.loglik,
        "clv_sum": float(bg_pred.frame["clv"].sum()),
    }
    return out, t_bg, t_pareto


def run_lifetimes(frame: pl.DataFrame, pareto_n: int) -> tuple[dict, float, float]:
    """The same pipeline with lifetimes (BG/NBD + Gamma-Gamma + CLV; Pareto/NBD fit)."""
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

    df = pd.DataFrame(
        {c: frame[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value")}
    )

    def bg() -> object:
        bgf = BetaGeoFitter()
        bgf.fit(df["frequency"], df["recency"], df["T"])
        rep = df[df["frequency"] > 0]
        ggf = GammaGammaFitter()
        ggf.fit(rep["frequency"], rep["monetary_value"])
        bgf.conditional_probability_alive(df["frequency"], df["recency"], df["T"])
        clv = ggf.customer_lifetime_value(
            bgf,
            df["frequency"],
            df["recency"],
            df["T"],
            df["monetary_value"],
            time=12,
            discount_rate=0.01,
            freq="W",
        )
        return bgf, ggf, clv

    (bgf, ggf, clv), t_bg = timed(bg)
    sub = df.iloc[:pareto_n]
    pnbd, t_pareto = timed(
        lambda: ParetoNBDFitter().fit(sub["frequency"], sub["recency"], sub["T"])
    )
    out = {
        "bg": dict(bgf.params_),
        "gg": {"p": ggf.params_["p"], "q": ggf.params_["q"], "gamma": ggf.params_["v"]},
        "pareto": dict(pnbd.params_),
        "clv_sum": float(clv.sum()),
    }
    return out, t_bg, t_pareto


def main() -> None:
    """Simulate, time both libraries, print a small table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--pareto-lifetimes-customers", type=int, default=100_000)
    parser.add_argument("--skip-lifetimes", action="store_true")
    args = parser.parse_args()
    frame, (t_sim, _) = timed(lambda: simulate(args.customers))
    print(
        f"simulated {frame.height:,} customers in {t_sim:.1f} s; "
        f"repeat buyers {int((frame['frequency'] > 0).sum()):,}; cores {os.cpu_count()}"
    )
    ours, ours_bg, ours_pareto = run_crmkit(frame)
    print("CPU seconds of this process (time.process_time), wall-clock seconds in brackets")
    print("| step | crmkit (s) | lifetimes (s) | speed-up (CPU) |")
    print("|---|---:|---:|---:|")
    if args.skip_lifetimes:
        print(
            f"| BG/NBD + Gamma-Gamma + CLV, {args.customers:,} "
            f"| {ours_bg[0]:.2f} ({ours_bg[1]:.2f}) | - | - |"
        )
        print(
            f"| Pareto/NBD fit, {args.customers:,} "
            f"| {ours_pareto[0]:.2f} ({ours_pareto[1]:.2f}) | - | - |"
        )
    else:
        theirs, lt_bg, lt_pareto = run_lifetimes(frame, args.pareto_lifetimes_customers)
        sub = Summary(frame.head(args.pareto_lifetimes_customers), dt.date(2024, 12, 30), "weeks")
        ours["pareto_subset"] = fit_purchases(sub, model="pareto").params
        (x, tx, T), w = collapse(frame, ["frequency", "recency", "T"])
        theta = np.array([theirs["bg"][k] for k in ("r", "alpha", "a", "b")])
        theirs["bg_ll"] = float(w @ bgnbd.loglik(theta, (x, tx, T))[0])
        print(
            f"| BG/NBD + Gamma-Gamma fit + 12-month CLV, {args.customers:,} customers "
            f"| {ours_bg[0]:.2f} ({ours_bg[1]:.2f}) | {lt_bg[0]:.2f} ({lt_bg[1]:.2f}) "
            f"| {lt_bg[0] / ours_bg[0]:.1f}x |"
        )
        n_p = args.pareto_lifetimes_customers
        print(
            f"| Pareto/NBD fit, crmkit {args.customers:,} / lifetimes {n_p:,} customers "
            f"| {ours_pareto[0]:.2f} ({ours_pareto[1]:.2f}) "
            f"| {lt_pareto[0]:.2f} ({lt_pareto[1]:.2f}) "
            f"| {lt_pareto[0] / ours_pareto[0] * args.customers / n_p:.1f}x per customer |"
        )
    print()
    print("| estimate | true | crmkit | lifetimes |")
    print("|---|---:|---:|---:|")
    for group, truth in (("bg", TRUE_BG), ("gg", TRUE_GG)):
        for k, v in truth.items():
            lt = "-" if args.skip_lifetimes else f"{theirs[group][k]:.4f}"
            print(f"| {k} | {v} | {ours[group][k]:.4f} | {lt} |")
    for k, v in ours["pareto"].items():
        print(f"| Pareto/NBD {k}, all customers | | {v:.4f} | - |")
    if not args.skip_lifetimes:
        n_p = args.pareto_lifetimes_customers
        for k, v in ours["pareto_subset"].items():
            print(f"| Pareto/NBD {k}, first {n_p:,} | | {v:.4f} | {theirs['pareto'][k]:.4f} |")
    lt = "-" if args.skip_lifetimes else f"{theirs['bg_ll']:.1f}"
    print(f"| BG/NBD log-likelihood (at each one's estimates) | | {ours['bg_ll']:.1f} | {lt} |")
    lt = "-" if args.skip_lifetimes else f"{theirs['clv_sum']:.0f}"
    print(f"| sum of 12-month CLV | | {ours['clv_sum']:.0f} | {lt} |")


if __name__ == "__main__":
    main()
