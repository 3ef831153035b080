"""Facts and profiles by the workspace's integer keys (`customer_no`, `order_no`) equal those by
the string keys, and a workspace without (complete) numbers falls back to the strings."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crmkit import Workspace
from crmkit.schema import MONEY
from crmkit.segment import customer_facts, profile, purchases
from crmkit.segment.facts import facts_of
from crmkit.segment.run import Inputs, _feature_frame

from .helpers import AS_OF, RFM_ROWS, customers, make_workspace, orders

KEYS = [*"ABCDEFGHIJ", "P"]  # P never ordered


def numbered(o: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Orders with the numbers ingest gives them: a customer's is its key's place among the
    sorted keys; order numbers are unique but deliberately not the row order."""
    place = {k: i for i, k in enumerate(sorted(keys))}
    return o.with_columns(
        pl.col("customer_key")
        .replace_strict(place, default=None, return_dtype=pl.Int64)
        .alias("customer_no"),
        (100 - pl.int_range(pl.len(), dtype=pl.Int64) * 3).alias("order_no"),
    )


def lines_of(o: pl.DataFrame, rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    """Lines (order_id, category, amount) with their order's number (null: unknown order)."""
    lines = pl.DataFrame(rows, schema=["order_id", "category", "line_amount"], orient="row")
    return lines.with_columns(pl.lit("pos").alias("source")).join(
        o.select("source", "order_id", "order_no"), on=["source", "order_id"], how="left"
    )


@pytest.mark.parametrize("window", [None, "30d", "365d"])
def test_facts_by_number_equal_facts_by_key(window: str | None) -> None:
    o = orders(RFM_ROWS)
    keys = pl.Series("customer_key", sorted(KEYS))
    by_key = customer_facts(o.lazy(), AS_OF, window=window).collect()
    by_no = customer_facts(numbered(o, KEYS).lazy(), AS_OF, window=window, customer_keys=keys)
    assert_frame_equal(by_no.collect(), by_key)
    # by hand: A bought 6 times for 100 + 50 + 50 + 100 + 100 + 100; the walk-in is nobody's
    a = by_key.row(0, named=True)
    assert a["customer_key"] == "A" and a["orders_all"] == 6 and a["revenue_all"] == 500
    assert by_key["customer_key"].to_list() == sorted(set(by_key["customer_key"]))


@pytest.mark.parametrize("window", [None, "30d", "365d"])
def test_numpy_facts_of_collected_purchases_equal_the_group_by(window: str | None) -> None:
    o = numbered(orders(RFM_ROWS), KEYS)
    keys = pl.Series("customer_key", sorted(KEYS))
    p = purchases(o.lazy(), AS_OF, key="customer_no", order=()).collect()
    by_numpy = facts_of(p, AS_OF, window=window, customer_keys=keys).collect()
    by_group = facts_of(p.lazy(), AS_OF, window=window, customer_keys=keys).collect()
    assert_frame_equal(by_numpy, by_group)


@pytest.mark.parametrize("all_costs", [False, True])
def test_numpy_facts_match_a_plain_python_count(all_costs: bool) -> None:
    """Random purchases with negative amounts, and missing costs and customers without any
    cost (or a cost on every row), aggregated by hand in Python (Decimal sums, dict per
    customer)."""
    rng = random.Random(7)
    as_of, start = dt.date(2025, 3, 31), dt.date(2025, 1, 1)  # window 90d: Jan 1 .. Mar 31
    rows = []
    for _ in range(3000):
        no = rng.randrange(300)
        missing = not all_costs and (no < 30 or rng.random() < 0.3)
        cost = None if missing else Decimal(rng.randrange(0, 9000)) / 100
        day = as_of - dt.timedelta(days=rng.randrange(400))
        rows.append((no, day, Decimal(rng.randrange(-2000, 50000)) / 100, cost))
    p = pl.DataFrame(rows, schema=["customer_no", "day", "net", "cost"], orient="row")
    p = p.with_columns(pl.col("net", "cost").cast(MONEY))
    keys = pl.Series("customer_key", [f"K{i:04d}" for i in range(300)])
    got = {
        r["customer_key"]: r
        for r in facts_of(p, as_of, window="90d", customer_keys=keys)
        .collect()
        .iter_rows(named=True)
    }
    want: dict[str, dict] = {}
    for no, day, net, cost in rows:
        w = want.setdefault(
            f"K{no:04d}", {"days": [], "in": [], "net": Decimal(0), "profit": None, "m": Decimal(0)}
        )
        w["days"].append(day)
        w["net"] += net
        if cost is not None:
            w["profit"] = (w["profit"] or Decimal(0)) + net - cost
        if day >= start:
            w["in"].append(day)
            w["m"] += net
    assert set(got) == set(want)
    for key, w in want.items():
        g = got[key]
        assert g["orders_all"] == len(w["days"]) and g["revenue_all"] == w["net"]
        assert g["first_order"] == min(w["days"]) and g["last_order"] == max(w["days"])
        assert g["recency_days"] == (as_of - max(w["days"])).days
        assert g["frequency"] == len(w["in"]) and g["monetary"] == w["m"]
        assert g["in_window"] == bool(w["in"]) and g["profit"] == w["profit"]


def _profile_inputs() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    rows = [
        ("A", "2025-01-01", 100, "completed", "pos"),
        ("A", "2025-01-10", 300, "completed", "online"),
        ("B", "2025-01-20", 100, "completed", "online"),
        ("C", "2025-01-30", 500, "completed", "pos"),
        ("C", "2025-01-30", 900, "cancelled", "online"),  # O0004: not a purchase
        ("B", "2025-02-03", 700, "completed", "online"),  # O0005: after the as-of date
    ]
    o = numbered(orders(rows), ["A", "B", "C"])
    lines = lines_of(
        o,
        [
            ("O0000", "tea", 100.0),
            ("O0001", "cups", 300.0),
            ("O0002", "tea", 100.0),
            ("O0003", "pots", 500.0),
            ("O0004", "pots", 900.0),  # its order was cancelled
            ("O0005", "pots", 700.0),  # its order is after the as-of date
            ("O9999", "pots", 999.0),  # no such order: no number
        ],
    )
    people = pl.DataFrame(
        {"customer_key": ["A", "B", "C"], "region": ["Zhejiang", "Zhejiang", "Beijing"]}
    )
    return o, lines, people


def test_profile_by_number_equals_profile_by_key_and_the_hand_count() -> None:
    o, lines, people = _profile_inputs()
    facts = customer_facts(o.lazy(), AS_OF).collect()
    members = pl.DataFrame({"customer_key": ["A", "B", "C"], "segment": ["x", "x", "y"]})
    keys = people["customer_key"]
    by_key = profile(
        members,
        facts,
        as_of=AS_OF,
        customers=people,
        purchases=purchases(o.lazy(), AS_OF),
        lines=lines.drop("order_no"),
    )
    p_no = purchases(o.lazy(), AS_OF, key="customer_no", order=("order_no",)).collect()
    by_no = profile(
        members,
        facts,
        as_of=AS_OF,
        customers=people,
        purchases=p_no,
        lines=lines,
        customer_keys=keys,
    )
    assert_frame_equal(by_no, by_key)
    x = by_no.filter(pl.col("segment") == "x").row(0, named=True)
    y = by_no.filter(pl.col("segment") == "y").row(0, named=True)
    # x = A + B: tea 100 + 100 < cups 300; orders online 2 (A's second, B's) > pos 1
    assert (x["top_category"], x["top_channel"]) == (["cups", "tea"], ["online", "pos"])
    # y = C: only the completed order and its line count
    assert (y["top_category"], y["top_channel"], y["top_region"]) == (
        ["pots"],
        ["pos"],
        ["Beijing"],
    )
    # orders numbered, lines not (an older ingest): lines find their order by source and id
    p_ids = purchases(o.lazy(), AS_OF, key="customer_no", order=("order_id", "source"))
    by_ids = profile(
        members,
        facts,
        as_of=AS_OF,
        customers=people,
        purchases=p_ids,
        lines=lines.drop("order_no"),
        customer_keys=keys,
    )
    assert_frame_equal(by_ids, by_key)


def _tables(tmp: Path, name: str, *, drop: dict[str, list[str]] | None = None, **cols) -> Path:
    """A workspace with numbered orders, lines and customers (minus the `drop` columns)."""
    o = numbered(orders(RFM_ROWS), KEYS)
    lines = lines_of(
        o,
        [(f"O{i:04d}", ["tea", "cups", "pots"][i % 3], 10.0 * (i % 4 + 1)) for i in range(20)]
        + [("O0000", "gifts", 1.0), ("Q1", "tea", 5.0)],
    )
    people = customers(KEYS, region=["Zhejiang", "Beijing"] * 5 + ["Shanghai"])
    people = people.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("customer_no"))
    tables = {"orders": o, "order_lines": lines, "customers": people}
    for table, values in cols.items():
        tables[table] = tables[table].with_columns(values)
    for table, names in (drop or {}).items():
        tables[table] = tables[table].drop(names)
    return make_workspace(tmp / name, tables)


@pytest.mark.parametrize("method", ["rfm", "tiers", "lifecycle"])
def test_workspace_segments_by_number_equal_the_string_fallback(
    tmp_path, method, monkeypatch
) -> None:
    import crmkit.segment.facts as facts

    numpy_runs: list[int] = []
    real = facts._numbered_facts
    monkeypatch.setattr(
        facts, "_numbered_facts", lambda p, *a: numpy_runs.append(p.height) or real(p, *a)
    )
    full = Workspace(_tables(tmp_path, "full"))
    variants = {
        "no numbers": {
            "drop": {
                "orders": ["customer_no", "order_no"],
                "order_lines": ["order_no"],
                "customers": ["customer_no"],
            }
        },
        "customers not numbered": {"drop": {"customers": ["customer_no"]}},
        "null numbers": {"orders": pl.lit(None, pl.Int64).alias("customer_no")},
        "a key without a number": {
            "orders": pl.when(pl.col("order_id") == "O0003")
            .then(None)
            .otherwise(pl.col("customer_no"))
            .alias("customer_no")
        },
        "lines not numbered": {"drop": {"order_lines": ["order_no"]}},
        "an order without a number": {
            "orders": pl.when(pl.col("order_id") == "O0002")
            .then(None)
            .otherwise(pl.col("order_no"))
            .alias("order_no")
        },
    }
    nums = Inputs(full, AS_OF, "UTC").numbers
    assert nums is not None and nums.orders  # the full workspace takes the integer path
    assert nums.customer_keys.to_list() == KEYS
    want = full.segment(method=method, as_of=AS_OF, record=False)
    assert numpy_runs, "the numbered workspace's facts were not aggregated with numpy"
    assert want.profiles["top_category"].null_count() < want.profiles.height  # lines counted
    for i, (name, spec) in enumerate(variants.items()):
        ws = Workspace(_tables(tmp_path, f"v{i}", **spec))
        nums = Inputs(ws, AS_OF, "UTC").numbers
        if name in ("lines not numbered", "an order without a number"):
            assert nums is not None and not nums.orders, name  # customers by number only
        else:
            assert nums is None, name
        got = ws.segment(method=method, as_of=AS_OF, record=False)
        assert_frame_equal(got.members, want.members)
        assert_frame_equal(got.profiles, want.profiles)


def test_the_customer_number_is_not_a_clustering_feature() -> None:
    facts = customer_facts(orders(RFM_ROWS).lazy(), AS_OF).collect()
    people = customers(KEYS, score=[float(i) for i in range(len(KEYS))]).with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("customer_no")
    )
    frame = _feature_frame(facts, people, None)
    # numeric customer columns become features (score), the row number does not
    assert "score" in frame.columns and "customer_no" not in frame.columns
    assert frame.filter(pl.col("customer_key") == "C")["score"].item() == 2.0


def test_positions_find_each_key_or_null_sorted_or_not() -> None:
    from crmkit.segment.profiles import positions

    table = pl.Series(["B", "D", "F", "H"])
    # by hand: B is row 0, F row 2, H row 3; A (before all), E (between) and Z (after) are absent
    for keys, want in (
        (["A", "B", "E", "F", "H", "Z"], [None, 0, None, 2, 3, None]),  # sorted: merged
        (["H", "A", "F", "Z", "B", "E"], [3, None, 2, None, 0, None]),  # not: searched
    ):
        assert positions(pl.Series(keys), table).to_list() == want
    assert positions(pl.Series(["B"]), pl.Series([], dtype=pl.String)).to_list() == [None]


def test_one_inputs_shared_by_every_method_gives_what_each_gets_alone(tmp_path) -> None:
    """`crmkit run` reads the tables once for rfm, tiers and lifecycle: each method's members
    and profiles equal a run of that method with its own inputs (and the facts are computed
    once per window)."""
    from crmkit.segment import segment_workspace

    ws = Workspace(_tables(tmp_path, "full"))
    shared = Inputs(ws, AS_OF, "UTC")
    for method in ("rfm", "tiers", "lifecycle", "rfm"):
        alone = segment_workspace(ws, method, as_of=AS_OF, record=False)
        both = segment_workspace(ws, method, as_of=AS_OF, record=False, inputs=shared)
        assert_frame_equal(both.members, alone.members)
        assert_frame_equal(both.profiles, alone.profiles)
    assert set(shared._facts) == {None}  # all history, once (the default RFM window is all)
    day = AS_OF - dt.timedelta(days=30)
    other_day = segment_workspace(ws, "rfm", as_of=day, record=False, inputs=shared)
    assert_frame_equal(other_day.members, segment_workspace(ws, "rfm", as_of=day).members)
    assert len(shared._facts) == 1  # another as-of date does not use (or fill) the shared inputs
