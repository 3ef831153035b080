"""`crmkit customers list|show|explain` on a small resolved workspace, and the Python API."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from crmkit.cli.main import main
from crmkit.identity import build_records, reference_id, resolve
from crmkit.identity.explain import explain_customer, list_customers
from crmkit.schema import CUSTOMERS, ORDERS
from crmkit.warehouse import Warehouse
from crmkit.workspace import Workspace

UTC = dt.UTC


def _conform(df: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    return df.select(
        (pl.col(c).cast(t) if c in df.columns else pl.lit(None, t).alias(c))
        for c, t in schema.items()
    )


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[Path, str]:
    """张伟 in CRM with two shop orders and a POS receipt; 李娜 and a "Li Na" order share only
    the placeholder test@test.com."""
    crm = _conform(
        pl.DataFrame(
            {
                "source": ["crm", "crm"],
                "source_record_id": ["1001", "1002"],
                "full_name": ["張偉", "李娜"],
                "email": ["zhangwei@example.com", "test@test.com"],
                "phone": ["+8613800138000", None],
            }
        ),
        CUSTOMERS.polars_schema(),
    )
    t = [dt.datetime(2025, 3, d, 10, tzinfo=UTC) for d in (1, 2, 3, 4)]
    orders = _conform(
        pl.DataFrame(
            {
                "source": ["shop", "shop", "pos", "shop"],
                "order_id": ["#1", "#2", "SH1", "#3"],
                "customer_email": [
                    "zhangwei@example.com",
                    "zhangwei@example.com",
                    None,
                    "test@test.com",
                ],
                "customer_phone": ["+8613800138000", None, "+8613800138000", None],
                "customer_name": ["Zhang Wei", "zhang wei", "张伟", "Li Na"],
                "ordered_at": t,
                "gross_amount": ["10.00", "20.00", "30.00", "5.00"],
            }
        ).with_columns(pl.col("gross_amount").cast(pl.Decimal(18, 2))),
        ORDERS.polars_schema(),
    ).drop("customer_key")
    tables = {"customer_records": crm.lazy(), "orders": orders.lazy()}
    res = resolve(build_records(tables), previous=None, settings={}, run_id="r1")
    keyed = (
        reference_id(orders)
        .join(
            res.identity_map.select("source", "source_record_id", "customer_key"),
            left_on=["source", "ref_record_id"],
            right_on=["source", "source_record_id"],
            how="left",
        )
        .drop("ref_record_id")
    )
    with Warehouse(tmp_path).transaction("r1") as tx:
        tx.write("customer_records", crm)
        tx.write("orders", keyed)
        tx.write("customers", res.customers)
        tx.write("identity_map", res.identity_map)
        tx.write("identity_links", res.links)
        tx.write("identity_changes", res.changes)
    key = res.identity_map.filter(pl.col("source_record_id") == "1001")["customer_key"][0]
    return tmp_path, key


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    code = main(list(args))
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def test_explain_shows_every_record_and_the_links(workspace, capsys) -> None:
    ws, key = workspace
    res = run_json(capsys, "customers", "explain", key, "-w", str(ws), "-f", "json")
    assert res["customer_key"] == key
    recs = {(r["source"], r["full_name"]) for r in res["records"]}
    assert recs == {("crm", "張偉"), ("shop", "Zhang Wei"), ("shop", "zhang wei"), ("pos", "张伟")}
    rules = {r["match_rule"] for r in res["records"]}
    assert rules <= {"email", "phone"}
    accepted = res["links"]
    assert accepted and all(r["status"] == "accepted" for r in accepted)
    fs_fields = [r for r in accepted if r["rule"] == "email"]
    assert fs_fields and fs_fields[0]["w_email"] > 0  # per-field contribution


def test_explain_shows_links_refused_by_a_guard(workspace, capsys) -> None:
    ws, _ = workspace
    lina = run_json(capsys, "customers", "list", "--name", "李娜", "-w", str(ws), "-f", "json")
    assert len(lina) == 1
    res = run_json(
        capsys, "customers", "explain", lina[0]["customer_key"], "-w", str(ws), "-f", "json"
    )
    assert [r["source"] for r in res["records"]] == ["crm"]  # the test@test.com order stays apart
    reasons = [r["reason"] for r in res["refused"]]
    assert any(r and r.startswith("guarded contact point") for r in reasons)


def test_show_and_list(workspace, capsys) -> None:
    ws, key = workspace
    shown = run_json(capsys, "customers", "show", key, "-w", str(ws), "-f", "json")
    assert shown["customer"]["customer_key"] == key
    assert sorted(o["order_id"] for o in shown["orders"]) == ["#1", "#2", "SH1"]
    assert shown["customer"]["emails"] == ["zhangwei@example.com"]
    assert shown["customer"]["record_count"] == 4
    listed = run_json(capsys, "customers", "list", "--source", "pos", "-w", str(ws), "-f", "json")
    assert [r["customer_key"] for r in listed] == [key]
    assert main(["customers", "show", "CNOPE", "-w", str(ws)]) == 2  # unknown key: usage error


def test_python_api_matches_the_cli(workspace) -> None:
    ws, key = workspace
    tables = Workspace(ws).tables()
    assert list_customers(tables, email="zhangwei@example.com")["customer_key"].to_list() == [key]
    assert explain_customer(tables, key)["records"].height == 4
