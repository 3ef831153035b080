"""Ingest contracts: nothing lost, counts add up, re-ingest is a no-op, overlaps update, bad files
are refused without touching the data, and a killed run leaves the workspace as it was."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from crmkit.pipeline.ingest import ingest
from crmkit.workspace import Workspace

HEADER = "Order No,Email,Phone,Order Date,Total,Status\n"
ORDERS_CONFIG = """\
timezone: Asia/Shanghai
currency: CNY
phone_region: CN
sources:
  - name: shop
    path: ../in/*.csv
    table: orders
    columns:
      order_id: Order No
      customer_email: Email
      customer_phone: Phone
      ordered_at: Order Date
      gross_amount: Total
      status: Status
"""


def _setup(tmp_path: Path, files: dict[str, str | bytes]) -> Workspace:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "crmkit.yaml").write_text(ORDERS_CONFIG, encoding="utf-8")
    inbox = tmp_path / "in"
    inbox.mkdir(exist_ok=True)
    for name, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (inbox / name).write_bytes(data)
    return Workspace(ws)


def _digest(ws: Workspace) -> dict[str, str]:
    """sha256 of every warehouse file except the commit metadata (which names the run)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(ws.warehouse.dir.glob("*.parquet"))
    }


def _orders(ws: Workspace) -> pl.DataFrame:
    return ws.table("orders").sort("order_id").collect()


def test_counts_add_up_and_bad_rows_land_in_rejects_with_reasons(tmp_path):
    body = (
        'A1,ZhangWei@Example.com,138 0013 8000,2025/1/3 14:05,"¥1,234.00",已完成\n'
        "A2,li@example.com,+86 139 0000 1111,2025-13-45,10.00,已完成\n"  # bad date
        "A3,wang@example.com,,2025-02-01 10:00,-5.00,已完成\n"  # negative, not a refund
        'A1,ZhangWei@Example.com,138 0013 8000,2025/1/3 14:05,"¥1,234.00",已完成\n'  # repeat
        "A4,zhao@example.com,,2025-02-02 09:00,20.00,已退款\n"
    )
    ws = _setup(tmp_path, {"a.csv": HEADER + body})
    result = ingest(ws)
    (f,) = result.files
    assert (f.rows_read, f.rows_accepted, f.rows_rejected, f.rows_duplicate) == (5, 2, 2, 1)
    orders = _orders(ws)
    assert orders["order_id"].to_list() == ["A1", "A4"]
    a1 = orders.row(0, named=True)
    assert a1["gross_amount"] == Decimal("1234.00")
    assert a1["customer_email"] == "zhangwei@example.com"
    assert a1["customer_phone"] == "+8613800138000"
    assert a1["ordered_at"].isoformat() == "2025-01-03T06:05:00+00:00"  # 14:05 Shanghai
    assert a1["source_line"] == 2 and a1["source"] == "shop"
    assert orders["status"].to_list() == ["completed", "refunded"]
    rejects = ws.table("rejects").sort("source_line").collect()
    assert rejects["source_line"].to_list() == [3, 4]
    assert rejects["reason_code"].to_list() == ["bad_date", "negative_amount"]
    assert all(r for r in rejects["reason"].to_list())
    assert json.loads(rejects["raw"][0])["Order Date"] == "2025-13-45"
    manifest = ws.table("manifest").collect().row(0, named=True)
    assert (
        manifest["rows_read"]
        == manifest["rows_accepted"] + manifest["rows_rejected"] + (manifest["rows_duplicate"])
    )


def test_reingesting_the_same_files_changes_nothing_byte_for_byte(tmp_path):
    ws = _setup(tmp_path, {"a.csv": HEADER + "A1,a@x.com,,2025-01-03 10:00,5.00,completed\n"})
    ingest(ws)
    before = _digest(ws)
    again = ingest(ws)
    assert [f.status for f in again.files] == ["unchanged"]
    assert not again.committed
    assert _digest(ws) == before


def test_a_known_file_is_not_reread_but_a_changed_one_is(tmp_path, monkeypatch):
    path = tmp_path / "in" / "a.csv"
    ws = _setup(tmp_path, {"a.csv": HEADER + "A1,a@x.com,,2025-01-03 10:00,5.00,completed\n"})
    # A time with sub-microsecond digits: the manifest keeps whole microseconds, truncated.
    os.utime(path, ns=(1_795_443_858_000_000_000, 1_795_443_858_728_510_999))
    ingest(ws)
    stored = ws.table("manifest").collect().row(0, named=True)
    st = path.stat()
    assert stored["modified_at"] == dt.datetime(2026, 11, 23, 14, 24, 18, 728510, tzinfo=dt.UTC)
    assert stored["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()

    import crmkit.pipeline.ingest as ing

    hashed: list[Path] = []
    real = ing.sha256_file
    monkeypatch.setattr(ing, "sha256_file", lambda p: hashed.append(p) or real(p))
    assert [f.status for f in ingest(ws).files] == ["unchanged"]
    assert hashed == []  # path, size and time match the manifest: not read at all
    assert [f.status for f in ingest(ws, rehash=True).files] == ["unchanged"]
    assert [p.resolve() for p in hashed] == [path.resolve()]

    # Same size, content edited, time moved: hashed again and ingested.
    path.write_text(HEADER + "A1,a@x.com,,2025-01-03 10:00,6.00,completed\n", encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    (f,) = ingest(ws).files
    assert f.status == "ingested" and len(hashed) == 2
    assert _orders(ws)["gross_amount"].to_list() == [Decimal("6.00")]


def test_an_overlapping_export_adds_new_rows_and_updates_changed_ones(tmp_path):
    first = HEADER + (
        "A1,a@x.com,,2025-01-03 10:00,5.00,completed\nA2,b@x.com,,2025-01-04 10:00,7.00,completed\n"
    )
    ws = _setup(tmp_path, {"export_1.csv": first})
    ingest(ws)
    second = HEADER + (
        "A2,b@x.com,,2025-01-04 10:00,7.00,refunded\n"  # changed: latest wins
        "A1,a@x.com,,2025-01-03 10:00,5.00,completed\n"  # same: a duplicate
        "A3,c@x.com,,2025-01-05 10:00,9.00,completed\n"  # new
    )
    (tmp_path / "in" / "export_2.csv").write_text(second, encoding="utf-8")
    result = ingest(ws)
    new = next(f for f in result.files if f.path.endswith("export_2.csv"))
    assert (new.rows_read, new.rows_accepted, new.rows_duplicate) == (3, 2, 1)
    assert result.updated == {"orders": 1}
    orders = _orders(ws)
    assert orders["order_id"].to_list() == ["A1", "A2", "A3"]
    assert orders["status"].to_list() == ["completed", "refunded", "completed"]
    assert orders.filter(pl.col("order_id") == "A2")["source_file"][0].endswith("export_2.csv")


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("missing.csv", "Order No,Email\nA9,a@x.com\n", "missing_columns"),
        ("empty.csv", b"", "empty_file"),
        ("binary.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary_file"),
        (
            "latin.csv",
            HEADER.encode() + b"A9,\x80\x80\xff\xfe,,2025-01-01,1,completed\n",
            "undecodable",
        ),
    ],
)
def test_a_bad_file_is_refused_and_leaves_the_data_untouched(tmp_path, name, content, code):
    ws = _setup(tmp_path, {"good.csv": HEADER + "A1,a@x.com,,2025-01-03 10:00,5.00,completed\n"})
    ingest(ws)
    orders_before = _digest(ws)["orders.parquet"]
    (tmp_path / "in" / name).write_bytes(
        content if isinstance(content, bytes) else content.encode()
    )
    result = ingest(ws)
    (bad,) = [f for f in result.files if f.status == "refused"]
    assert bad.reason_code == code and name in bad.path and bad.message
    assert _digest(ws)["orders.parquet"] == orders_before
    assert result.problems(ws.config.thresholds)  # the run exits 1
    rejects = ws.table("rejects").filter(pl.col("reason_code") == code).collect()
    assert rejects.height == 1 and rejects["source_line"][0] == 0
    # The refused file is not in the manifest, so it is retried once fixed; retrying the same
    # bad file again records one reject, not two.
    assert name not in " ".join(ws.table("manifest").collect()["path"].to_list())
    ingest(ws)
    assert ws.table("rejects").filter(pl.col("reason_code") == code).collect().height == 1


def test_a_file_with_only_bad_rows_is_ingested_with_every_row_rejected(tmp_path):
    body = "A1,a@x.com,,yesterday,5.00,completed\nA2,b@x.com,,2025-01-01,abc,completed\n"
    ws = _setup(tmp_path, {"bad.csv": HEADER + body})
    result = ingest(ws)
    (f,) = result.files
    assert (f.rows_read, f.rows_accepted, f.rows_rejected) == (2, 0, 2)
    assert _orders(ws).height == 0
    assert sorted(ws.table("rejects").collect()["reason_code"]) == ["bad_amount", "bad_date"]
    assert result.problems(ws.config.thresholds)


def test_gbk_chinese_text_survives_intact(tmp_path):
    text = (
        "小票号,门店,交易时间,会员手机号,会员姓名,应收金额,状态\r\n"
        "P1,上海南京路店,2025/1/3 14:05,13800138000,张伟,88.00,已完成\r\n"
    )
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "crmkit.yaml").write_text("timezone: Asia/Shanghai\nphone_region: CN\n")
    path = tmp_path / "pos.csv"
    path.write_bytes(text.encode("gbk"))
    result = ingest(Workspace(ws), [path], table="orders", source="pos")
    assert result.files[0].rows_accepted == 1
    row = Workspace(ws).table("orders").collect().row(0, named=True)
    assert (row["store"], row["customer_name"]) == ("上海南京路店", "张伟")


def test_a_killed_run_leaves_the_previous_warehouse(tmp_path):
    """SIGKILL an ingest at several moments; the warehouse is always the old or the new one."""
    ws = _setup(tmp_path, {"a.csv": HEADER + "A1,a@x.com,,2025-01-03 10:00,5.00,completed\n"})
    ingest(ws)
    old = _digest(ws)
    rows = "".join(f"B{i},u{i}@x.com,,2025-01-03 10:00,{i}.00,completed\n" for i in range(1, 40001))
    (tmp_path / "in" / "b.csv").write_text(HEADER + rows, encoding="utf-8")
    cmd = [sys.executable, "-m", "crmkit", "ingest", "-w", str(ws.path), "-q"]
    outcomes = set()
    for delay in (0.3, 0.8, 1.5, 2.5):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        Workspace(ws.path).warehouse.recover()
        now = _digest(ws)
        if now == old:
            outcomes.add("old")
        else:
            assert Workspace(ws.path).table("orders").select(pl.len()).collect().item() == 40001
            outcomes.add("new")
            break
    assert outcomes  # every attempt ended in one of the two consistent states


def test_derive_fills_a_column_from_a_pattern_in_another(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "crmkit.yaml").write_text(
        "sources:\n  - name: lines\n    path: ../lines.csv\n    table: order_lines\n"
        "    columns: {order_id: Order, product_id: SKU, quantity: Qty, line_amount: Amount,"
        " category: Category}\n"
        "    derive: {category: {from: product_id, pattern: '^([A-Z]+)-'}}\n",
        encoding="utf-8",
    )
    (tmp_path / "lines.csv").write_text(
        "Order,SKU,Qty,Amount,Category\nA1,TEA-001,1,5.00,\nA1,CUP-9,2,8.00,Gifts\nA2,x1,1,1.00,\n",
        encoding="utf-8",
    )
    ingest(Workspace(ws))
    lines = Workspace(ws).table("order_lines").sort("source_line").collect()
    # Filled from the SKU where empty; a given category wins; no match leaves it empty.
    assert lines["category"].to_list() == ["TEA", "Gifts", None]
