"""Accuracy: pairwise precision / recall on the sample data (against its truth files, through the
real `crmkit ingest`), on FEBRL (data we did not generate), and the evaluation itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from crmkit.identity import build_records, evaluate, resolve, truth_records
from crmkit.workspace import Workspace

from .febrl import as_records, febrl_records

ROOT = Path(__file__).resolve().parents[2]
TRUTH = ROOT / "sample_data" / "truth" / "records.csv"
FACTS = ("customer_records", "orders", "tickets", "survey_responses", "events")


def test_evaluate_counts_pairs_by_hand() -> None:
    # persons: P1 = {a, b, c}, P2 = {d, e}; customers: K1 = {a, b}, K2 = {c, d, e}
    imap = pl.DataFrame(
        {
            "source": ["s"] * 5,
            "source_record_id": list("abcde"),
            "customer_key": ["K1", "K1", "K2", "K2", "K2"],
        }
    )
    truth = pl.DataFrame(
        {"source": ["s"] * 6, "source_record_id": [*"abcde", "e"], "person_id": [*"11122", "2"]}
    )
    ev = evaluate(imap, truth)
    # true pairs: ab ac bc de = 4; predicted: ab cd ce de = 4; correct: ab de = 2
    assert (ev["true_pairs"], ev["predicted_pairs"], ev["correct_pairs"]) == (4, 4, 2)
    assert ev["precision"] == pytest.approx(0.5)
    assert ev["recall"] == pytest.approx(0.5)


def test_evaluate_leaves_out_records_of_several_persons() -> None:
    imap = pl.DataFrame(
        {"source": ["s"] * 3, "source_record_id": list("abc"), "customer_key": ["K"] * 3}
    )
    truth = pl.DataFrame(
        {"source": ["s"] * 4, "source_record_id": list("abcc"), "person_id": list("1112")}
    )
    ev = evaluate(imap, truth)
    assert ev["records_ambiguous"] == 1
    assert ev["precision"] == 1.0 and ev["recall"] == 1.0


@pytest.mark.parametrize("name", ["febrl1", "febrl2", "febrl3", "febrl4"])
def test_febrl_accuracy(name: str) -> None:
    recs, truth = febrl_records(name)
    res = resolve(as_records(recs), previous=None, settings={}, run_id="febrl")
    ev = evaluate(res, truth)
    assert ev["precision"] >= 0.995, ev
    assert ev["recall"] >= 0.98, ev


def _ingest_sample(ws: Path) -> Workspace:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "crmkit",
            "ingest",
            "-w",
            str(ws),
            "--config",
            str(ROOT / "configs" / "sample.yaml"),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode in (0, 1), proc.stderr  # 1 = data-quality thresholds breached
    return Workspace(ws)


@pytest.fixture(scope="module")
def sample_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return _ingest_sample(tmp_path_factory.mktemp("sample"))


def test_sample_order_lines_are_stored_in_file_order(sample_workspace: Workspace) -> None:
    """The shop exports reject some orders (and so their lines): the lines left keep the
    order of their file, one file after the other."""
    lines = sample_workspace.table("order_lines").collect()
    files = lines["source_file"]
    starts = (files != files.shift()).fill_null(True).sum()
    assert starts == files.n_unique()  # each file in one block
    in_file = lines.select((pl.col("source_line").diff().over("source_file") > 0).all()).item()
    assert in_file
    rejected = sample_workspace.table("rejects").collect().filter(pl.col("table") == "order_lines")
    assert rejected.height > 0  # the rejected-order path was taken


def test_sample_identity_links_are_sorted_by_status_and_record_ids(
    sample_workspace: Workspace,
) -> None:
    """The links are stored sorted by status, then the two records' (source, id) as strings
    (the resolver sorts record numbers that follow that order)."""
    links = sample_workspace.table("identity_links").collect()
    order = ["status", "source_l", "source_record_id_l", "source_r", "source_record_id_r"]
    assert links["status"].n_unique() > 1 and links["source_l"].n_unique() > 1
    assert links.select(order).equals(links.select(order).sort(order))


def test_sample_ingest_is_the_same_row_for_row_on_a_second_workspace(
    sample_workspace: Workspace, tmp_path: Path
) -> None:
    """Determinism: same inputs, same tables, rows in the same order (not just the same set)."""
    again = _ingest_sample(tmp_path)  # as deep as the first: the same relative file paths
    first, second = sample_workspace.tables(), again.tables()
    assert sorted(first) == sorted(second)
    for name in sorted(first):
        a, b = first[name].collect(), second[name].collect()
        lineage = [c for c in ("run_id", "ingested_at") if c in a.columns]
        assert a.drop(lineage).equals(b.drop(lineage)), name


def _truth(tables: dict[str, pl.LazyFrame]) -> pl.DataFrame:
    truth = pl.read_csv(TRUTH, schema_overrides={"record_id": pl.String, "person_id": pl.String})
    return truth_records(tables, truth)


def test_sample_data_accuracy(sample_workspace: Workspace) -> None:
    tables = sample_workspace.tables()
    imap = tables["identity_map"].collect()
    ev = evaluate(imap, _truth(tables))
    assert ev["records_evaluated"] > 20_000
    assert ev["precision"] >= 0.995, ev
    assert ev["recall"] >= 0.98, ev


def test_sample_data_incremental_keeps_keys(sample_workspace: Workspace) -> None:
    tables = {n: lf for n, lf in sample_workspace.tables().items() if n in FACTS}
    records = build_records(tables).collect()
    cut = pl.datetime(2025, 10, 1, time_zone="UTC")
    first = records.filter(
        pl.coalesce("first_seen_at", "signup_at").is_null()
        | (pl.coalesce("first_seen_at", "signup_at") < cut)
    )
    r1 = resolve(first, previous=None, settings={}, run_id="r1")
    r2 = resolve(records, previous=r1.identity_map, settings={}, run_id="r2")
    assert r2.report["incremental"] is True
    both = r1.identity_map.join(r2.identity_map, on=["source", "source_record_id"], suffix="_2")
    moved = both.filter(pl.col("customer_key") != pl.col("customer_key_2"))
    merged_away = set(r2.changes.filter(pl.col("change") == "merge")["other_key"].to_list())
    # A record changes key only when its customer was merged into another one.
    assert set(moved["customer_key"].to_list()) <= merged_away
    assert moved.height < 0.02 * both.height
    ev = evaluate(r2, _truth(tables))
    assert ev["precision"] >= 0.995, ev
    assert ev["recall"] >= 0.97, ev


def test_sample_data_incremental_with_stored_state_is_the_same(sample_workspace: Workspace) -> None:
    """The stored features and golden records only save work: same tables as without them."""
    from polars.testing import assert_frame_equal

    tables = {n: lf for n, lf in sample_workspace.tables().items() if n in FACTS}
    records = build_records(tables).collect()
    cut = pl.datetime(2025, 10, 1, time_zone="UTC")
    seen = pl.coalesce("first_seen_at", "signup_at")
    r1 = resolve(
        records.filter(seen.is_null() | (seen < cut)), previous=None, settings={}, run_id="r1"
    )
    plain = resolve(records, previous=r1.identity_map, settings={}, run_id="r2")
    stateful = resolve(
        records,
        previous=r1.identity_map,
        previous_features=r1.features,
        previous_customers=r1.customers,
        settings={},
        run_id="r2",
    )
    assert plain.report["changes"]["merge"] > 0
    for name in ("identity_map", "customers", "links", "changes", "features"):
        assert_frame_equal(getattr(plain, name), getattr(stateful, name))


def test_sample_data_resolution_is_deterministic(sample_workspace: Workspace) -> None:
    from polars.testing import assert_frame_equal

    tables = {n: lf for n, lf in sample_workspace.tables().items() if n in FACTS}
    records = build_records(tables).collect()
    r1 = resolve(records, previous=None, settings={}, run_id="d")
    r2 = resolve(
        records.sample(fraction=1.0, shuffle=True, seed=3), previous=None, settings={}, run_id="d"
    )
    assert_frame_equal(r1.identity_map, r2.identity_map)
    assert_frame_equal(r1.customers, r2.customers)
    assert_frame_equal(r1.links, r2.links)
    stored = sample_workspace.tables()["identity_map"].collect()
    assert_frame_equal(r1.identity_map.drop("run_id"), stored.drop("run_id"), check_row_order=False)
