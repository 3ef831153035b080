"""The ingest step stores the identity state (`identity_features`) and the next ingest uses it:
its tables are the same as those of an ingest that has to start from the identity map alone."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from crmkit.pipeline.ingest import ingest
from crmkit.warehouse import Warehouse
from crmkit.workspace import Workspace

HEADER = "Order No,Email,Phone,Name,Order Date,Total,Status\n"
CONFIG = """\
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
      customer_name: Name
      ordered_at: Order Date
      gross_amount: Total
      status: Status
"""
FIRST = HEADER + (
    "A1,zw@qq.com,138 0013 8000,张伟,2025-01-03 10:00,5.00,completed\n"
    "A2,lina@163.com,,李娜,2025-01-04 10:00,7.00,completed\n"
    "A3,,139 5271 8463,Mary Smith,2025-01-05 10:00,9.00,completed\n"
)
SECOND = HEADER + (
    "B1,zw@qq.com,138 0013 8000,张伟,2025-02-03 10:00,15.00,completed\n"  # a repeat customer
    "B2,ZW@qq.com,,Zhang Wei,2025-02-04 10:00,6.00,completed\n"  # joins 张伟
    "B3,new@x.com,,刘洋,2025-02-05 10:00,3.00,completed\n"  # a new customer
)
TABLES = ("identity_map", "identity_links", "identity_changes", "customers", "orders")


def _workspace(root: Path) -> Workspace:
    ws = root / "ws"
    ws.mkdir(parents=True)
    (ws / "crmkit.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "in").mkdir()
    (root / "in" / "a.csv").write_text(FIRST, encoding="utf-8")
    return Workspace(ws)


def _second_ingest(root: Path, *, keep_state: bool) -> Workspace:
    ws = _workspace(root)
    ingest(ws)
    assert ws.warehouse.has("identity_features")
    if not keep_state:
        with Warehouse(ws.path).transaction("drop") as tx:
            tx.delete("identity_features")
    (root / "in" / "b.csv").write_text(SECOND, encoding="utf-8")
    ingest(Workspace(ws.path))
    return Workspace(ws.path)


def test_second_ingest_with_stored_state_gives_the_same_tables(tmp_path: Path) -> None:
    with_state = _second_ingest(tmp_path / "a", keep_state=True)
    without = _second_ingest(tmp_path / "b", keep_state=False)
    for name in TABLES:
        a = with_state.table(name).collect()
        b = without.table(name).collect()
        drop = [c for c in ("run_id", "source_file") if c in a.columns]
        assert_frame_equal(a.drop(drop), b.drop(drop), check_row_order=False)
    feats = with_state.table("identity_features").collect()
    imap = with_state.table("identity_map").collect()
    assert feats["source_record_id"].to_list() == imap["source_record_id"].to_list()
    key = dict(with_state.table("orders").select("order_id", "customer_key").collect().iter_rows())
    assert key["A1"] == key["B1"] == key["B2"]  # 张伟 in three spellings
    assert len({key["A1"], key["A2"], key["A3"], key["B3"]}) == 4
    customers = with_state.table("customers").collect()
    assert customers.height == 4
    assert (
        customers.filter(pl.col("customer_key") == key["A1"])["first_order_at"].is_not_null().all()
    )
