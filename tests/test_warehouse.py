"""Warehouse contracts: atomic commits, recovery after a crash at any point, one writer."""

from __future__ import annotations

import os

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crmkit.errors import LockedError
from crmkit.warehouse import Warehouse, WorkspaceLock
from tests.lockholder import lock_held_elsewhere


def _write(wh: Warehouse, run: str, **tables: pl.DataFrame) -> None:
    with wh.transaction(run) as tx:
        for name, df in tables.items():
            tx.write(name, df)


def test_commit_replaces_changed_tables_and_keeps_the_others(tmp_path):
    wh = Warehouse(tmp_path)
    a1, b1 = pl.DataFrame({"x": [1, 2]}), pl.DataFrame({"y": ["p"]})
    _write(wh, "r1", a=a1, b=b1)
    a2 = pl.DataFrame({"x": [3]})
    _write(wh, "r2", a=a2)
    assert_frame_equal(wh.scan("a").collect(), a2)
    assert_frame_equal(wh.scan("b").collect(), b1)
    assert wh.meta()["run_id"] == "r2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse"]  # no leftovers


def test_an_exception_inside_the_transaction_changes_nothing(tmp_path):
    wh = Warehouse(tmp_path)
    _write(wh, "r1", a=pl.DataFrame({"x": [1]}))
    with pytest.raises(RuntimeError), wh.transaction("r2") as tx:
        tx.write("a", pl.DataFrame({"x": [99]}))
        raise RuntimeError("step failed")
    assert wh.scan("a").collect()["x"].to_list() == [1]
    assert wh.meta()["run_id"] == "r1"


def test_recover_finishes_a_commit_interrupted_between_the_two_renames(tmp_path):
    wh = Warehouse(tmp_path)
    _write(wh, "r1", a=pl.DataFrame({"x": [1]}))
    tx = wh.transaction("r2").__enter__()
    tx.write("a", pl.DataFrame({"x": [2]}))
    # Simulate the crash: staging complete and marked, live moved away, second rename not done.
    (tx.staging / "_meta.json").write_text("{}")
    (tx.staging / "_COMMITTED").write_text("r2")
    os.rename(wh.dir, tmp_path / ".old-r2")
    assert not wh.dir.exists()
    assert "finished" in wh.recover()
    assert wh.scan("a").collect()["x"].to_list() == [2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse"]


def test_recover_restores_the_old_warehouse_when_the_new_one_was_not_complete(tmp_path):
    wh = Warehouse(tmp_path)
    _write(wh, "r1", a=pl.DataFrame({"x": [1]}))
    staging = tmp_path / ".staging-r2"
    staging.mkdir()
    (staging / "a.parquet").write_bytes(b"half-written")
    os.rename(wh.dir, tmp_path / ".old-r2")
    assert "restored" in wh.recover()
    assert wh.scan("a").collect()["x"].to_list() == [1]
    assert not staging.exists()


def test_recover_drops_an_unmarked_staging_folder_and_keeps_the_live_warehouse(tmp_path):
    wh = Warehouse(tmp_path)
    _write(wh, "r1", a=pl.DataFrame({"x": [1]}))
    (tmp_path / ".staging-r2").mkdir()
    assert wh.recover() == "removed leftovers of an interrupted run"
    assert wh.scan("a").collect()["x"].to_list() == [1]


def test_a_second_writer_is_refused_with_exit_code_75(tmp_path):
    with lock_held_elsewhere(tmp_path) as pid:
        with pytest.raises(LockedError) as info, WorkspaceLock(tmp_path, wait=0.3):
            pass
        assert info.value.exit_code == 75
        assert f"pid {pid}" in info.value.message
    with WorkspaceLock(tmp_path):  # released when its holder died: never stale
        pass


def test_the_lock_is_reentrant_within_a_process_but_not_across_processes(tmp_path):
    import subprocess
    import sys

    probe = (
        "import sys; from crmkit.warehouse import WorkspaceLock; from crmkit.errors import "
        "LockedError\ntry:\n    WorkspaceLock(sys.argv[1]).__enter__()\nexcept LockedError:\n"
        "    sys.exit(75)"
    )
    with WorkspaceLock(tmp_path), WorkspaceLock(tmp_path):  # a step inside `crmkit run`
        other = subprocess.run([sys.executable, "-c", probe, str(tmp_path)])
        assert other.returncode == 75
    other = subprocess.run([sys.executable, "-c", probe, str(tmp_path)])
    assert other.returncode == 0  # fully released after the outer exit


def test_missing_table_scans_as_empty_with_the_given_schema(tmp_path):
    wh = Warehouse(tmp_path)
    lf = wh.scan("orders", pl.Schema({"order_id": pl.String()}))
    assert lf.collect().shape == (0, 1)
