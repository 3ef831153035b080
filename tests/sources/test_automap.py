"""The automapper: synonyms, normalisation, value evidence, refusals and order independence."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import InputFileError
from crmkit.sources.automap import automap, name_score
from crmkit.sources.mapping import detect, resolve_mapping

POS = ["小票号", "门店", "交易时间", "会员手机号", "会员姓名", "件数", "应收金额", "优惠金额",
       "实收金额", "支付方式", "状态"]  # fmt: skip
POS_EXPECTED = {
    "order_id": "小票号", "store": "门店", "ordered_at": "交易时间",
    "customer_phone": "会员手机号", "customer_name": "会员姓名", "items_count": "件数",
    "gross_amount": "应收金额", "discount_amount": "优惠金额", "net_amount": "实收金额",
    "status": "状态",
}  # fmt: skip
ENGLISH = ["Order Number", "Customer Email", "Order Date", "Total"]


def test_pos_chinese_receipts_map_to_orders():
    mapping = resolve_mapping(POS)
    assert (mapping.table, mapping.method) == ("orders", "auto")
    assert mapping.columns == POS_EXPECTED
    assert mapping.confidence >= 0.9
    assert "ignored: 支付方式" in mapping.notes
    best = detect(POS)[0]
    assert (best.table, best.preset) == ("orders", None)
    assert best.confidence >= 0.9


def test_english_generic_orders():
    mapping = resolve_mapping(ENGLISH)
    assert mapping.table == "orders"
    assert mapping.columns == {
        "order_id": "Order Number",
        "customer_email": "Customer Email",
        "ordered_at": "Order Date",
        "gross_amount": "Total",
    }
    assert mapping.confidence == 1.0


def test_full_width_and_bom_headers():
    headers = ["\ufeff订单编号", "下单时间（北京时间）", "订单金额（元）", "Ｅｍａｉｌ", "备注"]
    mapping = resolve_mapping(headers)
    assert mapping.table == "orders"
    assert mapping.columns == {
        "order_id": "\ufeff订单编号",
        "ordered_at": "下单时间（北京时间）",
        "gross_amount": "订单金额（元）",
        "customer_email": "Ｅｍａｉｌ",
    }
    # 下单时间 inside a longer header is a weaker (containment) match, so confidence < 1
    assert 0.6 <= mapping.confidence < 1.0


def test_two_equally_good_headers_for_a_required_column_is_refused():
    with pytest.raises(InputFileError) as exc:
        resolve_mapping(["Order ID", "Email", "Order Date", "Total", "Amount"], path="a.csv")
    err = exc.value
    assert err.reason_code == "ambiguous_mapping"
    assert "gross_amount" in err.message
    assert "'Amount'" in err.message and "'Total'" in err.message


def test_two_tables_fitting_equally_is_refused():
    # id + created + email: a contact list or a ticket list? Nothing in the headers says.
    with pytest.raises(InputFileError) as exc:
        resolve_mapping(["ID", "Created at", "Email"])
    assert exc.value.reason_code == "ambiguous_mapping"
    assert "customers" in exc.value.message and "tickets" in exc.value.message
    assert resolve_mapping(["ID", "Created at", "Email"], table="tickets").columns == {
        "ticket_id": "ID",
        "created_at": "Created at",
        "customer_email": "Email",
    }


def test_sample_values_break_a_name_tie():
    headers = ["Order ID", "Email", "Date", "Created", "Total"]
    with pytest.raises(InputFileError, match="ordered_at"):
        resolve_mapping(headers, table="orders")
    sample = pl.DataFrame(
        {
            "Order ID": ["1", "2"],
            "Email": ["a@x.io", "b@x.io"],
            "Date": ["2026-01-01", "2026-01-02"],
            "Created": ["yes", "no"],
            "Total": ["5.00", "6.00"],
        }
    )
    mapping = resolve_mapping(headers, table="orders", sample=sample)
    assert mapping.columns["ordered_at"] == "Date"


def test_value_evidence_lowers_a_wrong_looking_column():
    sample = pl.DataFrame({"Email": ["not an email", "nope"], "Order ID": ["1", "2"]})
    good = automap(["Email", "Order ID"], "orders").scores["customer_email"]
    bad = automap(["Email", "Order ID"], "orders", sample=sample).scores["customer_email"]
    assert good == 1.0
    assert bad == pytest.approx(0.75)


def test_missing_required_column_names_it_and_the_headers():
    with pytest.raises(InputFileError) as exc:
        resolve_mapping(["Order ID", "Email", "Order Date"], table="orders", path="shop.csv")
    err = exc.value
    assert err.reason_code == "missing_columns"
    assert "gross_amount" in err.message
    assert "'Order ID', 'Email', 'Order Date'" in err.message
    assert err.path == "shop.csv"


def test_missing_customer_reference_is_reported():
    with pytest.raises(InputFileError) as exc:
        resolve_mapping(["小票号", "交易时间", "应收金额"], table="orders")
    assert "customer_ref" in exc.value.message


def test_name_scores():
    assert name_score("orders", "order_id", "Order #") == 1.0
    assert name_score("customers", "first_name", "FIRSTNAME") == 1.0
    assert name_score("orders", "ordered_at", "Order Date 2") == pytest.approx(0.5 + 0.4 * 9 / 10)
    assert name_score("orders", "customer_id", "Id") == 0.0  # no CJK containment for latin
    assert name_score("tickets", "ticket_id", "Payment ID") < 0.6
    assert 0.6 <= name_score("orders", "ordered_at", "Ordr Date") < 1.0  # a typo still matches


@settings(max_examples=40, deadline=None)
@given(st.permutations(POS), st.permutations([*ENGLISH, "Notes", "Coupon"]))
def test_header_order_never_changes_the_mapping(pos: list[str], english: list[str]):
    assert resolve_mapping(pos).columns == POS_EXPECTED
    assert resolve_mapping(list(english)) == resolve_mapping([*ENGLISH, "Notes", "Coupon"])


@settings(max_examples=25, deadline=None)
@given(st.permutations(["Phone", "Mobile", "Order ID", "Order Date", "Total"]))
def test_optional_ties_are_resolved_by_header_text_not_position(headers: list[str]):
    mapping = resolve_mapping(headers)
    assert mapping.columns["customer_phone"] == "Mobile"
    assert any("customer_phone" in n and "fit equally" in n for n in mapping.notes)


def test_contacts_without_an_id_map_to_customers_with_a_hash_note():
    mapping = resolve_mapping(["姓名", "手机", "邮箱", "生日"])
    assert mapping.table == "customers"
    assert mapping.columns == {
        "full_name": "姓名",
        "phone": "手机",
        "email": "邮箱",
        "birth_date": "生日",
    }
    with pytest.raises(InputFileError) as exc:
        resolve_mapping(["姓名", "生日"], table="customers")
    assert "source_record_id (or an email or phone" in exc.value.message
