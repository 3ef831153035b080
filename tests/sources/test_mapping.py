"""resolve_mapping precedence, spec forms, value maps, dropped rows and errors."""

from __future__ import annotations

import json

import polars as pl
import pytest

from crmkit.errors import InputFileError, UsageError
from crmkit.sources.mapping import Mapping, apply_mapping, resolve_mapping
from crmkit.sources.synonyms import default_status_map, default_value_maps, normalize_header


def raw(names: list[str], rows: list[dict[str, str | None]]) -> pl.LazyFrame:
    """A raw frame as the readers give it: every header a String column, plus `__line`."""
    data = {h: [r.get(h) for r in rows] for h in names}
    frame = pl.DataFrame(data, schema=dict.fromkeys(names, pl.String))
    return frame.with_columns(pl.Series("__line", range(2, len(rows) + 2), dtype=pl.Int64)).lazy()


POS = ["小票号", "门店", "交易时间", "会员手机号", "会员姓名", "件数", "应收金额", "优惠金额",
       "实收金额", "支付方式", "状态"]  # fmt: skip


def test_config_columns_win_and_missing_required_are_auto_filled():
    headers = ["Bon", "Zeit", "Betrag", "Email", "Order Date"]
    mapping = resolve_mapping(
        headers, table="orders", columns={"order_id": "Bon", "gross_amount": "Betrag"}
    )
    assert mapping.method == "config"
    assert mapping.confidence == 1.0
    # ordered_at and the customer reference were not configured: filled from unambiguous headers
    assert mapping.columns == {
        "order_id": "Bon",
        "gross_amount": "Betrag",
        "customer_email": "Email",
        "ordered_at": "Order Date",
    }
    assert any("auto-filled" in n for n in mapping.notes)


def test_config_without_table_is_a_usage_error():
    with pytest.raises(UsageError, match="table"):
        resolve_mapping(["A"], columns={"order_id": "A"})


def test_config_missing_column_error_names_column_and_headers():
    with pytest.raises(InputFileError) as exc:
        resolve_mapping(
            ["Bon", "Betrag", "Kunde"],
            table="orders",
            columns={"order_id": "Bon", "gross_amount": "Betrag", "customer_id": "Kunde"},
            path="pos/2026-01.csv",
        )
    err = exc.value
    assert err.reason_code == "missing_columns"
    assert err.path == "pos/2026-01.csv"
    assert "ordered_at" in err.message
    assert "'Bon', 'Betrag', 'Kunde'" in err.message
    assert "columns:" in (err.hint or "") and "--preset" in (err.hint or "")


def test_config_columns_on_top_of_a_preset():
    headers = ["Name", "Email", "Financial Status", "Lineitem quantity", "Lineitem name",
               "Created at", "Total", "Kassen-Nr"]  # fmt: skip
    mapping = resolve_mapping(headers, preset="shopify_orders", columns={"store": "Kassen-Nr"})
    assert mapping.method == "config"
    assert mapping.columns["store"] == "Kassen-Nr"
    assert mapping.columns["order_id"] == "Name"
    assert mapping.line_columns == {
        "product_name": "Lineitem name",
        "quantity": "Lineitem quantity",
    }


def test_named_preset_beats_detection_and_unknown_preset_errors():
    mapping = resolve_mapping(POS, preset=None)
    assert mapping.method == "auto"
    with pytest.raises(UsageError) as exc:
        resolve_mapping(POS, preset="nope")
    assert "shopify_orders" in (exc.value.hint or "")


def test_config_status_map_and_constants_override_defaults():
    mapping = resolve_mapping(
        POS, status_map={"已完成": "pending", "挂单": "pending"}, constants={"currency": "CNY"}
    )
    assert mapping.status_map["已完成"] == "pending"
    assert mapping.status_map["挂单"] == "pending"
    assert mapping.status_map["已退款"] == "refunded"  # the default vocabulary is kept
    assert mapping.columns["currency"] == {"const": "CNY"}


def test_apply_pos_default_status_vocabulary_and_blanks():
    rows = [
        {"小票号": "P001", "交易时间": "2026-01-05 12:00:00", "会员手机号": "13800138000",
         "应收金额": "100.00", "实收金额": "90.00", "状态": "已完成", "门店": "南京西路店"},
        {"小票号": "P002", "交易时间": "2026-01-05 13:00:00", "会员手机号": "  ",
         "应收金额": "50.00", "实收金额": "50.00", "状态": "已退款"},
        {"小票号": "P003", "交易时间": "2026-01-05 14:00:00", "会员手机号": "13900139000",
         "应收金额": "10.00", "状态": "挂起"},
    ]  # fmt: skip
    mapping = resolve_mapping(POS)
    out = apply_mapping(raw(POS, rows), mapping)
    assert list(out) == ["orders"]
    assert isinstance(out["orders"], pl.LazyFrame)
    got = out["orders"].collect()
    assert got.columns == [*mapping.columns, "__line"]
    assert got.select("order_id", "status", "customer_phone", "store", "__line").rows() == [
        ("P001", "completed", "13800138000", "南京西路店", 2),
        ("P002", "refunded", None, None, 3),
        ("P003", "挂起", "13900139000", None, 4),  # unknown value kept for cleaning to report
    ]


def test_value_maps_fold_case_and_whitespace():
    mapping = Mapping(
        table="customers",
        columns={"source_record_id": "id", "acquisition_channel": "src"},
        method="config",
        confidence=1.0,
        options={"value_maps": {"acquisition_channel": {"organic_search": "organic"}}},
    )
    frame = raw(["id", "src"], [{"id": "1", "src": " Organic_Search "}, {"id": "2", "src": None}])
    got = apply_mapping(frame, mapping)["customers"].collect()
    assert got["acquisition_channel"].to_list() == ["organic", None]


def test_spec_forms_const_concat_list_json_flag_sum():
    names = ["d", "t", "tz", "a", "b", "q1", "q2", "tags", "x", "y"]
    mapping = Mapping(
        table="orders",
        columns={
            "order_id": ["a", "b"],
            "ordered_at": {"concat": ["d", "t", "tz"], "sep": " "},
            "currency": {"const": "EUR"},
            "channel": {"json_object": {"quality": "q1", "price": "q2"}},
            "store": {"flag": ["tags"], "pattern": "(?i)complain"},
            "gross_amount": {"sum": ["x", "y"]},
        },
        method="config",
        confidence=1.0,
    )
    rows = [
        {"d": "2026-01-01", "t": "10:00", "tz": "CET", "a": None, "b": "B1", "q1": "5",
         "tags": "Complaint, vip", "x": "$1,000.50", "y": "2.25"},
        {"d": "2026-01-02", "a": "A2", "b": "B2", "tags": "vip", "x": "3", "y": None},
        {"a": "A3", "x": None, "y": "1"},
    ]  # fmt: skip
    got = apply_mapping(raw(names, rows), mapping)["orders"].collect()
    assert got["order_id"].to_list() == ["B1", "A2", "A3"]
    assert got["ordered_at"].to_list() == ["2026-01-01 10:00 CET", "2026-01-02", None]
    assert got["currency"].to_list() == ["EUR", "EUR", "EUR"]
    assert json.loads(got["channel"][0]) == {"quality": "5", "price": None}
    assert got["channel"][1] is None
    assert got["store"].to_list() == ["true", "false", None]
    assert got["gross_amount"].to_list() == ["1002.75", "3.00", None]


def test_bound_specs_skip_absent_headers():
    headers = ["Name", "Financial Status", "Lineitem quantity", "Lineitem name", "Created at",
               "Total", "Shipping Phone", "Email"]  # fmt: skip
    mapping = resolve_mapping(headers)
    assert mapping.columns["customer_phone"] == "Shipping Phone"
    assert mapping.columns["gross_amount"] == {"sum": ["Total"]}
    assert "currency" not in mapping.columns
    assert any(n.startswith("not in this file:") and "currency" in n for n in mapping.notes)


def test_line_items_order_without_id_is_kept_alone():
    headers = ["Name", "Financial Status", "Lineitem quantity", "Lineitem name", "Created at",
               "Total", "Email"]  # fmt: skip
    rows = [
        {"Name": "#1", "Total": "5", "Lineitem quantity": "1", "Lineitem name": "A"},
        {"Name": None, "Total": "6", "Lineitem quantity": "1", "Lineitem name": "B"},
        {"Name": None, "Total": "7", "Lineitem quantity": "1", "Lineitem name": "C"},
    ]
    out = apply_mapping(raw(headers, rows), resolve_mapping(headers))
    orders = out["orders"].collect()
    assert orders.select("order_id", "gross_amount", "__lines").rows() == [
        ("#1", "5.00", [2]),
        (None, "6.00", [3]),
        (None, "7.00", [4]),
    ]


def test_default_vocabularies():
    orders = default_status_map("orders")
    assert orders["交易成功"] == "completed"
    assert orders["买家已付款，等待卖家发货"] == "completed"
    assert orders["买家已付款,等待卖家发货"] == "completed"  # NFKC variant of the comma
    assert orders["voided"] == "cancelled"
    assert orders["部分退款"] == "partially_refunded"
    assert orders["等待买家付款"] == "pending"
    tickets = default_value_maps("tickets")
    assert tickets["status"]["等待回复"] == "pending"
    assert tickets["channel"]["web form"] == "web"
    assert tickets["channel"]["微信"] == "wechat"
    assert default_status_map("marketing_spend") == {}


def test_normalize_header():
    assert normalize_header("\ufeff  Ticket Category [list] ") == "ticket category"
    assert normalize_header("商家备注等级（等级1-5为由高到低）") == "商家备注等级 等级1 5为由高到低"
    assert normalize_header("订单金额（元）") == "订单金额"
    assert normalize_header("FIRST_NAME") == normalize_header("First  Name") == "first name"


def test_configured_header_absent_from_the_file_is_warned_about():
    mapping = resolve_mapping(
        ["Bon", "Zeit", "Betrag", "Tel"],
        table="orders",
        columns={
            "order_id": "Bon",
            "ordered_at": "Zeit",
            "gross_amount": "Betrag",
            "customer_phone": "Tel",
            "store": "Filiale",
        },
    )
    assert "store" not in mapping.columns
    assert "warning: configured column(s) not in this file: store" in mapping.notes
