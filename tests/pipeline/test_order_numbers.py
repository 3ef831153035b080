"""Integer keys written by ingest: `order_no` on orders and their lines, `customer_no` on the
customers and their orders (docs/schema.md, "Workspace-internal numbers").

Expected numbers are worked out by hand from the input order of the files; the consistency of
a whole workspace is checked against joins on the string keys the numbers stand for.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from crmkit import schema
from crmkit.pipeline.ingest import ingest
from crmkit.workspace import Workspace

ORDERS = "order_id,customer_id,ordered_at,gross_amount,net_amount,status,channel\n"
LINES = "order_id,line_no,product_id,category,quantity,line_amount\n"


def _order(oid: str, cust: str, day: int, net: str = "10.00", status: str = "completed") -> str:
    return f"{oid},{cust},2025-01-{day:02d} 10:00,{net},{net},{status},pos\n"


def _line(oid: str, no: int, cat: str = "tea", amount: str = "5.00") -> str:
    return f"{oid},{no},P{no},{cat},1,{amount}\n"


def _workspace(tmp_path: Path, name: str = "ws") -> Workspace:
    path = tmp_path / name
    path.mkdir()
    (path / "crmkit.yaml").write_text("timezone: UTC\n", encoding="utf-8")
    return Workspace(path)


def _ingest(ws: Workspace, table: str, body: str, file: str) -> None:
    path = ws.path.parent / file
    path.write_text((ORDERS if table == "orders" else LINES) + body, encoding="utf-8")
    ingest(ws, [path], source="shop", table=table)


def _numbers(ws: Workspace, table: str) -> dict[tuple, int | None]:
    key = ["order_id"] if table == "orders" else ["order_id", "line_no"]
    rows = ws.table(table).select(*key, "order_no").collect().rows()
    return {r[:-1] if len(r) > 2 else r[0]: r[-1] for r in rows}


def assert_consistent(ws: Workspace) -> None:
    """Every number means what it stands for, checked by joins on the string keys."""
    orders = ws.table("orders").collect()
    lines = ws.table("order_lines").collect() if ws.warehouse.has("order_lines") else None
    customers = ws.table("customers").collect()
    # order_no: one per order, never null
    assert orders["order_no"].null_count() == 0
    assert orders["order_no"].n_unique() == orders.height
    if lines is not None:
        # a line's number is its order's (by source and order_id), null when the order is unknown
        expected = lines.join(
            orders.select("source", "order_id", pl.col("order_no").alias("want")),
            on=["source", "order_id"],
            how="left",
        )
        assert expected.filter(pl.col("order_no").ne_missing(pl.col("want"))).height == 0
    # customer_no: the row of the customer in `customers`, which is sorted by key
    assert customers["customer_no"].to_list() == list(range(customers.height))
    assert customers["customer_key"].to_list() == sorted(customers["customer_key"].to_list())
    by_key = dict(customers.select("customer_key", "customer_no").iter_rows())
    for key, no in orders.select("customer_key", "customer_no").iter_rows():
        assert no == by_key.get(key)  # both null for an order without a customer


def test_orders_are_numbered_in_input_order_and_lines_take_their_orders_number(tmp_path):
    ws = _workspace(tmp_path)
    _ingest(
        ws,
        "orders",
        _order("A1", "c1", 2) + _order("A2", "c2", 3) + _order("A3", "c1", 4),
        "o1.csv",
    )
    _ingest(
        ws,
        "order_lines",
        _line("A3", 1) + _line("A1", 1) + _line("A1", 2) + _line("A9", 1),
        "l1.csv",
    )
    assert _numbers(ws, "orders") == {"A1": 0, "A2": 1, "A3": 2}
    # A9 has no order (yet): no number
    assert _numbers(ws, "order_lines") == {
        ("A3", 1): 2,
        ("A1", 1): 0,
        ("A1", 2): 0,
        ("A9", 1): None,
    }
    customers = ws.table("customers").collect()
    assert customers.height == 2  # c1 and c2
    keys = sorted(customers["customer_key"])
    orders = ws.table("orders").sort("order_id").collect()
    # A1 and A3 are c1's: the same customer, so the same number, its key's place among the keys
    assert orders["customer_no"].to_list() == [keys.index(k) for k in orders["customer_key"]]
    assert orders["customer_no"][0] == orders["customer_no"][2] != orders["customer_no"][1]
    assert_consistent(ws)


def test_a_reexport_keeps_numbers_and_new_orders_get_the_next_ones(tmp_path):
    ws = _workspace(tmp_path)
    _ingest(
        ws,
        "orders",
        _order("A1", "c1", 2) + _order("A2", "c2", 3) + _order("A3", "c1", 4),
        "o1.csv",
    )
    _ingest(ws, "order_lines", _line("A2", 1) + _line("A3", 1), "l1.csv")
    # the next export: A2 refunded since (a changed record), A3 again unchanged, A4 and A5 new
    reexport = (
        _order("A4", "c3", 5)
        + _order("A2", "c2", 3, status="refunded")
        + _order("A3", "c1", 4)
        + _order("A5", "c2", 6)
    )
    _ingest(ws, "orders", reexport, "o2.csv")
    orders = ws.table("orders").collect()
    assert orders.height == 5
    assert orders.filter(pl.col("order_id") == "A2")["status"].item() == "refunded"
    # A2 keeps its number although its row was replaced; new orders continue from 3, in order
    assert _numbers(ws, "orders") == {"A1": 0, "A2": 1, "A3": 2, "A4": 3, "A5": 4}
    # the stored lines of A2 and A3 still point at their orders
    assert _numbers(ws, "order_lines") == {("A2", 1): 1, ("A3", 1): 2}
    assert_consistent(ws)  # c3 is a new customer: the numbers after its key moved up


def test_lines_that_come_before_their_orders_get_numbers_when_the_orders_arrive(tmp_path):
    ws = _workspace(tmp_path)
    _ingest(ws, "order_lines", _line("A1", 1) + _line("A2", 1) + _line("A9", 1), "l1.csv")
    lines = ws.table("order_lines").collect()
    assert lines["order_no"].dtype == pl.Int64 and lines["order_no"].null_count() == 3
    _ingest(ws, "orders", _order("A2", "c1", 2) + _order("A1", "c2", 3), "o1.csv")
    assert _numbers(ws, "orders") == {"A2": 0, "A1": 1}
    assert _numbers(ws, "order_lines") == {("A1", 1): 1, ("A2", 1): 0, ("A9", 1): None}
    _ingest(ws, "orders", _order("A9", "c1", 4), "o2.csv")
    assert _numbers(ws, "order_lines") == {("A1", 1): 1, ("A2", 1): 0, ("A9", 1): 2}
    assert_consistent(ws)


def test_lines_of_another_source_do_not_take_an_order_of_the_same_id(tmp_path):
    ws = _workspace(tmp_path)
    _ingest(ws, "orders", _order("A1", "c1", 2), "o1.csv")
    path = tmp_path / "other.csv"
    path.write_text(LINES + _line("A1", 1), encoding="utf-8")
    ingest(ws, [path], source="pos", table="order_lines")
    assert _numbers(ws, "order_lines") == {("A1", 1): None}  # pos's A1 is not shop's A1
    assert_consistent(ws)


SHOPIFY = (
    "Name,Email,Financial Status,Created at,Total,Lineitem quantity,Lineitem name,"
    "Lineitem price,Lineitem sku\n"
    "#1002,b@example.com,paid,2025-01-03 10:00:00 +0800,30.00,1,Cup,20.00,CUP-1\n"
    "#1002,,,,,1,Tea,10.00,TEA-1\n"
    "#1001,a@example.com,paid,2025-01-02 10:00:00 +0800,5.00,1,Tea,5.00,TEA-2\n"
)


def test_a_line_item_export_numbers_its_orders_and_their_lines_together(tmp_path):
    ws = _workspace(tmp_path)
    path = tmp_path / "orders_export.csv"
    path.write_text(SHOPIFY, encoding="utf-8")
    ingest(ws, [path], source="shopify", preset="shopify_orders")
    orders = _numbers(ws, "orders")
    # one file gives orders and lines; orders are numbered in the order of their first rows
    assert orders == {"#1002": 0, "#1001": 1}
    lines = ws.table("order_lines").select("order_id", "order_no").collect()
    assert lines.height == 3
    assert {oid: orders[oid] for oid in lines["order_id"]} == dict(lines.iter_rows())
    assert_consistent(ws)


def test_stored_lines_waiting_for_their_order_get_it_from_a_line_item_export(tmp_path):
    ws = _workspace(tmp_path)
    first = tmp_path / "first_orders.csv"
    first.write_text(ORDERS + _order("#1000", "c1", 1), encoding="utf-8")
    ingest(ws, [first], source="shopify", table="orders")
    early = tmp_path / "extra_lines.csv"
    early.write_text(LINES + _line("#1000", 1) + _line("#1001", 9) + _line("#1003", 1), "utf-8")
    ingest(ws, [early], source="shopify", table="order_lines")
    path = tmp_path / "orders_export.csv"
    path.write_text(SHOPIFY, encoding="utf-8")
    ingest(ws, [path], source="shopify", preset="shopify_orders")  # orders and lines at once
    assert _numbers(ws, "orders") == {"#1000": 0, "#1002": 1, "#1001": 2}
    numbers = _numbers(ws, "order_lines")
    # the stored line of #1001 found its order; #1000's kept its own; #1003 has none yet
    assert numbers[("#1001", 9)] == 2 and numbers[("#1000", 1)] == 0
    assert numbers[("#1003", 1)] is None
    assert_consistent(ws)


def test_two_ingests_of_the_same_files_number_the_same(tmp_path):
    orders = _order("B7", "c9", 9) + _order("A1", "c1", 2) + _order("A2", "c2", 3)
    lines = _line("A2", 1) + _line("B7", 1) + _line("B7", 2)
    tables = []
    for name in ("one", "two"):
        ws = _workspace(tmp_path, name)
        _ingest(ws, "orders", orders, f"{name}-o.csv")
        _ingest(ws, "order_lines", lines, f"{name}-l.csv")
        assert_consistent(ws)
        tables.append(
            [
                ws.table(t).select(pl.exclude("source_file")).collect()
                for t in ("orders", "order_lines", "customers")
            ]
        )
    for first, second in zip(*tables, strict=True):
        assert_frame_equal(first, second)


def test_orders_stored_before_numbers_existed_are_numbered_by_their_row(tmp_path):
    ws = _workspace(tmp_path)
    _ingest(ws, "orders", _order("A1", "c1", 2) + _order("A2", "c2", 3), "o1.csv")
    _ingest(ws, "order_lines", _line("A2", 1) + _line("A1", 1), "l1.csv")
    # as an older crmkit left the workspace: no numbers anywhere
    with ws.warehouse.lock(), ws.warehouse.transaction("old") as tx:
        for table, cols in (
            ("orders", ["order_no", "customer_no"]),
            ("order_lines", ["order_no"]),
            ("customers", ["customer_no"]),
        ):
            tx.write(table, ws.table(table).drop(cols).collect())
    assert "order_no" not in ws.table("order_lines").collect_schema().names()
    _ingest(ws, "orders", _order("A3", "c1", 4), "o2.csv")
    # stored orders by their row (A1 0, A2 1), the new one next; the old lines looked up again
    assert _numbers(ws, "orders") == {"A1": 0, "A2": 1, "A3": 2}
    assert _numbers(ws, "order_lines") == {("A2", 1): 1, ("A1", 1): 0}
    assert_consistent(ws)


def test_orders_ingested_without_identity_resolution_are_numbered_too(tmp_path):
    ws = _workspace(tmp_path)
    path = tmp_path / "o1.csv"
    path.write_text(ORDERS + _order("A1", "c1", 2) + _order("A2", "c2", 3), encoding="utf-8")
    ingest(ws, [path], source="shop", table="orders", resolve_identity=False)
    assert _numbers(ws, "orders") == {"A1": 0, "A2": 1}


def test_the_declared_numbers_are_written_and_documented(tmp_path):
    ws = _workspace(tmp_path)
    _ingest(ws, "orders", _order("A1", "c1", 2), "o1.csv")
    _ingest(ws, "order_lines", _line("A1", 1), "l1.csv")
    doc = (Path(__file__).parents[2] / "docs" / "schema.md").read_text(encoding="utf-8")
    assert set(schema.INTERNAL_NUMBERS) == {"orders", "order_lines", "customers"}
    for table, columns in schema.INTERNAL_NUMBERS.items():
        stored = ws.table(table).collect_schema()
        for column in columns:
            assert stored[column] == pl.Int64, (table, column)
            assert f"`{column}`" in doc
