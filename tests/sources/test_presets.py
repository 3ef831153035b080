"""Every preset against its real export header (from export_formats.md) and hand-made rows."""

# ruff: noqa: E501  (real export headers are kept on one line, exactly as exported)

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl
import pytest

from crmkit.errors import ConfigError, InputFileError, UsageError
from crmkit.schema import SOURCE_TABLES
from crmkit.sources.mapping import apply_mapping, detect, resolve_mapping
from crmkit.sources.presets import get_preset, list_presets

SHOPIFY_ORDERS = "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,Payment ID,Payment Terms Name,Next Payment Due At,Payment References"
SHOPIFY_CUSTOMERS_2024 = "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,Default Address Address1,Default Address Address2,Default Address City,Default Address Province Code,Default Address Country Code,Default Address Zip,Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,Tax Exempt,Tags,Accepts WhatsApp Marketing"
SHOPIFY_CUSTOMERS_2022 = "First Name,Last Name,Email,Accepts Email Marketing,Company,Address1,Address2,City,Province,Province Code,Country,Country Code,Zip,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Tags,Note,Tax Exempt"
SHOPIFY_CUSTOMERS_LEGACY = "First Name,Last Name,Email,Company,Address1,Address2,City,Province,Province Code,Country,Country Code,Zip,Phone,Accepts Marketing,Total Spent,Total Orders,Tags,Note,Tax Exempt"
WOO_ANALYTICS = "Date,Order #,N. Revenue (formatted),Status,Customer,Customer type,Product(s),Items sold,Coupon(s),Net Sales,Attribution"
WOO_ADVANCED = '"Order Number","Order Status","Order Date","Customer Note","First Name (Billing)","Last Name (Billing)","Company (Billing)","Address 1&2 (Billing)","City (Billing)","State Code (Billing)","Postcode (Billing)","Country Code (Billing)","Email (Billing)","Phone (Billing)","First Name (Shipping)","Last Name (Shipping)","Address 1&2 (Shipping)","City (Shipping)","State Code (Shipping)","Postcode (Shipping)","Country Code (Shipping)","Item #",SKU,Name,"Product Variation",Quantity,"Quantity (- Refund)","Item Cost","Order Line (w/o tax)","Order Line Tax","Order Line Total","Order Line Total Refunded","Order Line Total (- Refund)","Image URL","Coupon Code","Discount Amount","Discount Amount Tax","Payment Method Title","Coupons Used","Cart Discount Amount","Order Subtotal Amount","Order Tax Amount","Order Shipping Amount","Order Refund Amount","Order Total Amount","Order Total Tax Amount","Total items","Total products"'.replace(
    '"', ""
)
SQUARE_ITEMS = "Date,Time,Time Zone,Category,Item,Qty,Price Point Name,SKU,Modifiers Applied,Gross Sales,Discounts,Net Sales,Tax,Transaction ID,Payment ID,Device Name,Notes,Details,Event Type,Location,Dining Option,Customer ID,Customer Name,Customer Reference ID,Unit,Count,GTIN,Itemization Type,Commission,Employee,Fulfillment Note,Channel,Token,Card Brand,PAN Suffix"
SQUARE_TX = "Date,Time,Time Zone,Gross Sales,Discounts,Service Charges,Net Sales,Gift Card Sales,Tax,Tip,Partial Refunds,Total Collected,Source,Card,Card Entry Methods,Cash,Square Gift Card,Other Tender,Other Tender Type,Tender Note,Fees,Net Total,Transaction ID,Payment ID,Card Brand,PAN Suffix,Device Name,Staff Name,Staff ID,Details,Description,Event Type,Location,Dining Option,Customer ID,Customer Name,Customer Reference ID,Device Nickname,Third Party Fees,Deposit ID,Deposit Date,Deposit Details,Fee Percentage Rate,Fee Fixed Rate,Refund Reason,Discount Name,Transaction Status,Cash App,Order Reference ID,Fulfillment Note,Free Processing Applied,Channel,Unattributed Tips,Table Info,International Fee"
SQUARE_TX_2018 = "Date,Time,Time Zone,Gross Sales,Discounts,Net Sales,Gift Card Sales,Tax,Tip,Partial Refunds,Total Collected,Source,Card,Card Entry Methods,Cash,Square Gift Card,Installment,Other Tender,Other Tender Type,Other Tender Note,Fees,Net Total,Transaction ID,Payment ID,Card Brand,PAN Suffix,Device Name,Staff Name,Staff ID,Details,Description,Event Type,Location,Dining Option,Customer ID,Customer Name,Customer Reference ID,Device Nickname,Deposit ID,Deposit Date,Deposit Details,Fee Percentage Rate,Fee Fixed Rate,Refund Reason"
ZENDESK = "Summation column,Id,Requester,Requester id,Requester external id,Requester email,Requester domain,Submitter,Assignee,Group,Subject,Tags,Status,Priority,Via,Ticket type,Created at,Updated at,Assigned at,Organization,Due date,Initially assigned at,Solved at,Resolution time,Satisfaction Score,Group stations,Assignee stations,Reopens,Replies,First reply time in minutes,First reply time in minutes within business hours,First resolution time in minutes,First resolution time in minutes within business hours,Full resolution time in minutes,Full resolution time in minutes within business hours,Agent wait time in minutes,Agent wait time in minutes within business hours,Requester wait time in minutes,Requester wait time in minutes within business hours,On hold time in minutes,On hold time in minutes within business hours"
FRESHDESK = "Ticket ID,Subject,Description,Status,Priority,Source,Type,Agent,Group,Created time,Due by Time,Resolved time,Closed time,Last update time,Initial response time,Time tracked,First response time (in hrs),Resolution time (in hrs),Agent interactions,Customer interactions,Resolution status,First response status,Tags,Survey results,Product,Full name,Title,Email,Contact ID,Company Name"
HUBSPOT_VIEW = "Record ID,First Name,Last Name,Email,Phone Number,Contact owner,Primary Associated Company ID,Last Activity Date,Lead Status,Marketing contact status,Create Date,Associated Company"
HUBSPOT_SAMPLE = (
    HUBSPOT_VIEW
    + ",City,Country/Region,Gender,Date of Birth,Loyalty Member,Referred By,Original Source"
)
SF_LOADER = "ID,ACCOUNTID,FIRSTNAME,LASTNAME,EMAIL,PHONE,MOBILEPHONE,MAILINGCITY,MAILINGCOUNTRY,LEADSOURCE,OWNERID,CREATEDDATE,LASTMODIFIEDDATE"
SF_REPORT = "Account Name,Contact ID,First Name,Last Name,Title,Mailing Street,Mailing City,Mailing State/Province,Mailing Zip/Postal Code,Mailing Country,Phone,Fax,Mobile,Email,Account Owner,Account ID"
ZOHO = "Record Id,Contact Owner.id,Contact Owner,First Name,Last Name,Email,Date of Birth,Account Name.id,Account Name,Mobile,Phone,Email Opt Out,Tag,Description,Created By.id,Created By,Modified By.id,Modified By,Created Time,Modified Time,Last Activity Time,Mailing Street,Mailing City,Mailing State,Mailing Zip,Mailing Country"
FXIAOKE = "客户名称,负责人,所属部门,手机,电话,邮箱,创建时间,最后修改时间,最后跟进时间,成交状态,客户级别,地址"
TAOBAO = "订单编号,买家会员名,买家支付宝账号,买家应付货款,买家应付邮费,买家支付积分,总金额,返点积分,买家实际支付金额,买家实际支付积分,订单状态,买家留言,收货人姓名,收货地址,运送方式,联系电话,联系手机,订单创建时间,订单付款时间,宝贝标题,宝贝种类,物流单号,物流公司,订单备注,宝贝总数量,店铺Id,店铺名称,订单关闭原因,卖家服务费,买家服务费,发票抬头,是否手机订单,分阶段订单信息,特权订金订单id,定金排名,修改后的sku,修改后的收货地址,异常信息,天猫卡券抵扣,集分宝抵扣,是否是O2O交易"
TAOBAO_NEW = "订单编号,买家下单时间,买家付款时间,发货时间,确认收货时间,物流公司,买家实付金额,运单号,买家会员名,联系手机,收货地址,宝贝标题,宝贝规格,宝贝总数量,买家应付货款,订单状态"
TAOBAO_LINES = "订单编号,标题,价格,购买数量,外部系统编号,商品属性,套餐信息,备注,订单状态,商家编码"
YOUZAN = "订单号,销售渠道,归属店铺,订单类型,订单状态,推广方式,订单来源,订单创建时间,买家付款时间,交易成功时间,付款方式,支付流水号,商品金额合计,运费,店铺优惠合计,应收订单金额,订单实付金额,支付优惠合计,订单实收金额,订单抵用积分数,店铺优惠方式,支付优惠方式,全部商品名称,商品种类数,订单配送方式,同城送达时间/提货时间,收货人省份,收货人城市,收货人地区,详细收货地址/提货地址,收货人/提货人,收货人手机号/提货人手机号,买家备注,订单星级,买家昵称,买家是否会员,买家手机号,下单网点,收银员,分销员,销售导购,专属导购,订单退款状态,订单已退款金额,商家订单备注,桌号,挂账主体,挂账手机号,团长订单,订单风险标签,分销员_1,分销员手机号,分销员所属店铺,分销员所属团队,分销员所属分组,分销员等级,订单佣金类型,订单佣金金额,订单下级卖货提成类型,订单下级卖货提成金额"
YOUZAN_CUSTOMERS = "客户姓名,客户昵称,客户手机号,客户生日,客户性别,标签,是否会员,成长值,免费等级,付费等级,权益卡,客户积分,客户储值余额,消费次数,消费金额,累计退款金额,累计退款订单数,笔单价,上次消费时间,分销员,导购员,企微好友,来源渠道,来源方式,成为客户时间,成为会员时间,成为会员店铺,公众号,公众号关注时间,最近浏览时间,微信地域,所属区域,指定时间消费次数,指定时间消费金额"
JD = "订单号,商品ID,商品名称,订购数量,支付方式,下单时间,京东价,订单金额,结算金额,余额支付,应付金额,订单状态,订单类型,下单帐号,客户姓名,客户地址,联系电话,订单备注,发票类型,发票抬头,发票内容,商家备注,商家备注等级（等级1-5为由高到低）,运费金额,付款确认时间,增值税发票,货号,订单完成时间,订单来源,订单渠道"
DOUYIN = "主订单编号,子订单编号,选购商品,商品规格,商品数量,商品ID,商家编码,商品单价,订单应付金额,运费,优惠总金额,平台优惠,商家优惠,达人优惠,商家改价,支付优惠,红包抵扣,支付方式,手续费,收件人,收件人手机号,省,市,区,街道,详细地址,是否修改过地址,地址修改时段,买家留言,订单提交时间,旗帜颜色,商家备注,订单完成时间,支付完成时间,APP渠道,流量来源,订单状态,承诺发货时间,订单类型,鲁班落地页ID,达人ID,达人昵称,所属门店ID,售后状态,取消原因,预约发货时间,仓库ID,仓库名称,序列号,是否安心购,广告渠道,流量类型,流量体裁,流量渠道,发货主体,发货主体明细,发货时间,降价类优惠,平台实际承担优惠金额,商家实际承担优惠金额,达人实际承担优惠金额,预计送达时间,是否平台仓自流转,车型,商品69码,发货SN码,发货IMEI码1,发货IMEI码2,预约送达时间,建议发货时间（起）,建议发货时间（止）,物流SN码,物流IMEI码1,物流IMEI码2"
SURVEY = "Response ID,Submitted At,Email,Phone,Name,NPS,CSAT,CES,Product quality,Service,Price,Delivery,Comment"
QUALTRICS = "StartDate,EndDate,Status,IPAddress,Progress,Duration (in seconds),Finished,RecordedDate,ResponseId,RecipientLastName,RecipientFirstName,RecipientEmail,ExternalReference,LocationLatitude,LocationLongitude,DistributionChannel,UserLanguage,Q1,Q2"
GOOGLE_DAILY = "Day,Campaign,Currency code,Cost,Impr.,Clicks,Conversions,Conv. value"
GOOGLE_DE = "Tag,Kampagne,Währungscode,Kosten,Impr.,Klicks,Conversions"
META = 'Reporting starts,Reporting ends,Campaign name,Ad set name,Ad name,Day,Amount spent (USD),Impressions,Reach,Frequency,Results,Result indicator,Cost per results,Link clicks,CPC (cost per link click) (USD),CTR (link click-through rate),Clicks (all),CTR (all),CPC (all) (USD),"CPM (cost per 1,000 impressions) (USD)",Landing page views,Cost per landing page view (USD),Attribution setting,Campaign delivery,Purchases,Purchases conversion value,Purchase ROAS'
OCEAN = "日期,账户ID,账户名称,广告计划ID,广告计划名称,消耗,展示数,点击数,点击率,平均点击单价,转化数,转化成本"

# preset -> the real header it must be detected from
HEADERS = {
    "shopify_orders": SHOPIFY_ORDERS,
    "shopify_customers": SHOPIFY_CUSTOMERS_2024,
    "woocommerce_orders": WOO_ANALYTICS,
    "woocommerce_orders_advanced": WOO_ADVANCED,
    "square_transactions": SQUARE_TX,
    "square_items": SQUARE_ITEMS,
    "zendesk_tickets": ZENDESK + ",Ticket Category [list]",
    "freshdesk_tickets": FRESHDESK,
    "hubspot_contacts": HUBSPOT_SAMPLE,
    "salesforce_contacts": SF_LOADER,
    "zoho_contacts": ZOHO,
    "fxiaoke_customers": FXIAOKE,
    "taobao_orders": TAOBAO,
    "taobao_order_lines": TAOBAO_LINES,
    "youzan_orders": YOUZAN,
    "youzan_customers": YOUZAN_CUSTOMERS,
    "jd_orders": JD,
    "douyin_orders": DOUYIN,
    "generic_survey": SURVEY,
    "qualtrics_survey": QUALTRICS,
    "google_ads": GOOGLE_DAILY,
    "meta_ads": META,
    "ocean_engine_ads": OCEAN,
}


def split(header: str) -> list[str]:
    """A header line → names (handles the one quoted Meta header containing a comma)."""
    import csv

    return next(csv.reader([header]))


def raw(header: str | list[str], rows: list[dict[str, str]]) -> pl.LazyFrame:
    """A raw frame as the readers give it: every header a String column, plus `__line`."""
    names = split(header) if isinstance(header, str) else header
    data = {h: [r.get(h) for r in rows] for h in names}
    frame = pl.DataFrame(data, schema=dict.fromkeys(names, pl.String))
    return frame.with_columns(pl.Series("__line", range(2, len(rows) + 2), dtype=pl.Int64)).lazy()


def run(preset: str, header: str, rows: list[dict[str, str]], **kw) -> dict[str, pl.DataFrame]:
    names = split(header)
    mapping = resolve_mapping(names, preset=preset, **kw)
    return {k: v.collect() for k, v in apply_mapping(raw(names, rows), mapping).items()}


def records(frame: pl.DataFrame, *cols: str) -> list[dict]:
    return frame.select(cols).to_dicts()


# ---- registry -------------------------------------------------------------------------------


def test_every_required_preset_exists_with_docs():
    names = {p.name for p in list_presets()}
    assert set(HEADERS) <= names
    for p in list_presets():
        assert p.table in SOURCE_TABLES
        assert p.signatures, p.name
        assert p.verification in {"V-FILE", "V-SRC", "R-MULTI", "R-SINGLE", "NOT FOUND"}
        assert p.docs["source"], p.name


def test_unknown_preset_lists_known_ones():
    with pytest.raises(UsageError) as exc:
        get_preset("shopfy_orders")
    assert "shopify_orders" in (exc.value.hint or "")


def test_user_preset_from_path(tmp_path: Path):
    path = tmp_path / "mypos.yaml"
    path.write_text(
        "name: mypos\ntable: orders\ndetect: {all: [Bon]}\n"
        "columns: {order_id: Bon, ordered_at: Zeit, gross_amount: Summe, customer_phone: Tel}\n"
        "status_map: {Storniert: cancelled}\n",
        encoding="utf-8",
    )
    header = "Bon,Zeit,Summe,Tel,Status"
    mapping = resolve_mapping(split(header), preset=str(path))
    assert mapping.method == "preset:mypos"
    assert mapping.status_map["storniert"] == "cancelled"


def test_bad_user_preset_column_is_a_config_error(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text("table: orders\ncolumns: {order_number: X}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="order_number"):
        get_preset(str(path))


# ---- detection ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_detect_real_header(name: str):
    best = detect(split(HEADERS[name]))[0]
    assert (best.preset, best.table) == (name, get_preset(name).table)
    assert best.confidence >= 0.9


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_detect_survives_reorder_and_extra_columns(name: str):
    names = split(HEADERS[name])
    random.Random(7).shuffle(names)
    names.append("Some Extra Column")
    if name in ("hubspot_contacts",):  # HubSpot's signature is Record ID as the first column
        names.remove("Record ID")
        names.insert(0, "Record ID")
    best = detect(names)[0]
    assert best.preset == name
    assert best.confidence >= 0.9
    assert resolve_mapping(names).method == f"preset:{name}"


@pytest.mark.parametrize(
    ("header", "name"),
    [
        (SHOPIFY_CUSTOMERS_2022, "shopify_customers"),
        (SHOPIFY_CUSTOMERS_LEGACY, "shopify_customers"),
        (SQUARE_TX_2018, "square_transactions"),
        (SF_REPORT, "salesforce_contacts"),
        (SF_LOADER.title(), "salesforce_contacts"),
        (SF_LOADER.lower(), "salesforce_contacts"),
        (TAOBAO_NEW, "taobao_orders"),
        (HUBSPOT_VIEW, "hubspot_contacts"),
        (GOOGLE_DE, "google_ads"),
        (ZENDESK, "zendesk_tickets"),
    ],
)
def test_detect_variants(header: str, name: str):
    assert detect(split(header))[0].preset == name


def test_hubspot_and_zoho_are_told_apart():
    assert detect(split(ZOHO))[0].preset == "zoho_contacts"
    assert detect(split(HUBSPOT_VIEW))[0].preset == "hubspot_contacts"


def test_preset_for_another_table_is_not_forced():
    with pytest.raises(UsageError, match="maps to orders"):
        resolve_mapping(split(SHOPIFY_ORDERS), preset="shopify_orders", table="customers")


# ---- Shopify ------------------------------------------------------------------------------


def test_shopify_orders_split_into_orders_and_lines():
    first = {
        "Name": "#1001", "Email": "ann@example.com", "Financial Status": "paid", "Currency": "USD",
        "Subtotal": "90.00", "Shipping": "5.00", "Taxes": "9.00", "Total": "104.00",
        "Discount Amount": "10.00", "Created at": "2026-05-12 12:54:07 -0700",
        "Lineitem quantity": "1", "Lineitem name": "Mug", "Lineitem price": "20.00",
        "Lineitem sku": "MUG-1", "Billing Name": "Ann Lee", "Billing Phone": "'+15550100",
        "Refunded Amount": "0.00", "Source": "web", "Id": "5550001",
    }  # fmt: skip
    cont = {"Name": "#1001", "Email": "ann@example.com", "Created at": "2026-05-12 12:54:07 -0700",
            "Financial Status": "", "Total": "", "Discount Amount": "", "Subtotal": "",
            "Lineitem quantity": "2", "Lineitem name": "Tee", "Lineitem price": "30.00",
            "Lineitem sku": "TEE-2"}  # fmt: skip
    cont2 = {**cont, "Lineitem quantity": "1", "Lineitem name": "Cap", "Lineitem sku": "CAP-3",
             "Lineitem price": "10.00"}  # fmt: skip
    other = {
        "Name": "#1002", "Email": "bo@example.com", "Financial Status": "partially_refunded",
        "Currency": "USD", "Total": "50.00", "Discount Amount": "0.00",
        "Created at": "2026-05-13 10:00:00 -0700", "Lineitem quantity": "1",
        "Lineitem name": "Bag", "Lineitem price": "50.00", "Lineitem sku": "BAG-4",
        "Refunded Amount": "20.00",
    }  # fmt: skip
    out = run("shopify_orders", SHOPIFY_ORDERS, [first, cont, cont2, other])
    assert set(out) == {"orders", "order_lines"}
    orders = out["orders"]
    assert orders.height == 2
    assert all(dt == pl.String for c, dt in orders.schema.items() if not c.startswith("__"))
    assert records(orders, "order_id", "status", "gross_amount", "discount_amount",
                   "shipping_amount", "tax_amount", "refund_amount", "customer_phone",
                   "customer_name", "__line", "__lines") == [
        {"order_id": "#1001", "status": "completed", "gross_amount": "114.00",
         "discount_amount": "10.00", "shipping_amount": "5.00", "tax_amount": "9.00",
         "refund_amount": "0.00", "customer_phone": "'+15550100", "customer_name": "Ann Lee",
         "__line": 2, "__lines": [2, 3, 4]},
        {"order_id": "#1002", "status": "partially_refunded", "gross_amount": "50.00",
         "discount_amount": "0.00", "shipping_amount": None, "tax_amount": None,
         "refund_amount": "20.00", "customer_phone": None, "customer_name": None,
         "__line": 5, "__lines": [5]},
    ]  # fmt: skip
    assert orders["ordered_at"].to_list() == [
        "2026-05-12 12:54:07 -0700",
        "2026-05-13 10:00:00 -0700",
    ]
    lines = out["order_lines"]
    assert lines.columns == ["order_id", "line_no", "product_id", "product_name", "quantity",
                             "unit_price", "__line"]  # fmt: skip
    assert lines.rows() == [
        ("#1001", "1", "MUG-1", "Mug", "1", "20.00", 2),
        ("#1001", "2", "TEE-2", "Tee", "2", "30.00", 3),
        ("#1001", "3", "CAP-3", "Cap", "1", "10.00", 4),
        ("#1002", "1", "BAG-4", "Bag", "1", "50.00", 5),
    ]


def test_shopify_lines_follow_file_order_not_input_order():
    rows = [
        {"Name": "#1", "Financial Status": "paid", "Total": "5", "Created at": "2026-01-01",
         "Lineitem quantity": "1", "Lineitem name": "A", "Email": "a@x.io"},
        {"Name": "#1", "Lineitem quantity": "1", "Lineitem name": "B"},
    ]  # fmt: skip
    names = split(SHOPIFY_ORDERS)
    frame = raw(names, rows).reverse()  # shuffled rows still have their __line
    out = apply_mapping(frame, resolve_mapping(names))
    lines = out["order_lines"].collect()
    assert lines.select("product_name", "line_no").rows() == [("A", "1"), ("B", "2")]
    assert out["orders"].collect()["status"].to_list() == ["completed"]


def test_shopify_customers_three_generations():
    row = {"Customer ID": "'8509270720648", "First Name": "Ann", "Last Name": "Lee",
           "Email": "ann@example.com", "Default Address City": "Austin",
           "Default Address Country Code": "US", "Phone": "'+15125550100",
           "Tags": "Login with Shop, Shop", "Total Spent": "1886.82", "Total Orders": "3"}  # fmt: skip
    got = run("shopify_customers", SHOPIFY_CUSTOMERS_2024, [row])["customers"]
    assert got.select("source_record_id", "email", "city", "country", "phone", "tags").row(0) == (
        "'8509270720648", "ann@example.com", "Austin", "US", "'+15125550100",
        "Login with Shop, Shop",
    )  # fmt: skip
    legacy = {"First Name": "Bo", "Email": "bo@example.com", "City": "Lyon", "Country Code": "FR",
              "Province": "ARA", "Accepts Marketing": "no"}  # fmt: skip
    got = run("shopify_customers", SHOPIFY_CUSTOMERS_LEGACY, [legacy])["customers"]
    assert got.select("source_record_id", "city", "country", "region").row(0) == (
        "bo@example.com", "Lyon", "FR", "ARA",
    )  # fmt: skip
    got = run("shopify_customers", SHOPIFY_CUSTOMERS_2022, [legacy])["customers"]
    assert got["source_record_id"].to_list() == ["bo@example.com"]


# ---- WooCommerce --------------------------------------------------------------------------


def test_woocommerce_analytics_products_become_lines():
    rows = [
        {"Date": "2026-03-01 10:00:00", "Order #": "1201", "N. Revenue (formatted)": "$1,234.00",
         "Status": "Processing", "Customer": "Ann Lee", "Customer type": "new",
         "Product(s)": "2× Blue Mug, 1× Tea, Green", "Items sold": "3"},
        {"Date": "2026-03-02 11:00:00", "Order #": "1202", "N. Revenue (formatted)": "$9.00",
         "Status": "Refunded", "Customer": "Bo", "Customer type": "returning",
         "Product(s)": "1× Card", "Items sold": "1"},
    ]  # fmt: skip
    out = run("woocommerce_orders", WOO_ANALYTICS, rows)
    assert records(out["orders"], "order_id", "status", "gross_amount", "customer_id") == [
        {"order_id": "1201", "status": "completed", "gross_amount": "$1,234.00",
         "customer_id": "Ann Lee"},
        {"order_id": "1202", "status": "refunded", "gross_amount": "$9.00", "customer_id": "Bo"},
    ]  # fmt: skip
    assert out["order_lines"].rows() == [
        ("1201", "1", "2", "Blue Mug", 2),
        ("1201", "2", "1", "Tea, Green", 2),
        ("1202", "1", "1", "Card", 3),
    ]
    assert out["order_lines"].columns == ["order_id", "line_no", "quantity", "product_name",
                                          "__line"]  # fmt: skip


def test_woocommerce_advanced_lines_repeat_order_fields():
    base = {"Order Number": "5001", "Order Status": "completed", "Order Date": "2026-04-01 09:00",
            "First Name (Billing)": "Ann", "Last Name (Billing)": "Lee",
            "Email (Billing)": "ann@example.com", "Order Total Amount": "45.00",
            "Cart Discount Amount": "5.00", "Order Shipping Amount": "5.00", "Total items": "3"}  # fmt: skip
    rows = [
        {**base, "SKU": "A1", "Name": "Mug", "Quantity": "1", "Item Cost": "15.00",
         "Order Line Total": "15.00"},
        {**base, "SKU": "B2", "Name": "Tea", "Quantity": "2", "Item Cost": "15.00",
         "Order Line Total": "30.00"},
    ]  # fmt: skip
    out = run("woocommerce_orders_advanced", WOO_ADVANCED, rows)
    orders = out["orders"]
    assert orders.height == 1
    assert records(orders, "order_id", "customer_name", "gross_amount", "discount_amount",
                   "items_count", "status") == [
        {"order_id": "5001", "customer_name": "Ann Lee", "gross_amount": "50.00",
         "discount_amount": "5.00", "items_count": "3", "status": "completed"}
    ]  # fmt: skip
    assert out["order_lines"].select(
        "line_no", "product_id", "product_name", "line_amount"
    ).rows() == [
        ("1", "A1", "Mug", "15.00"),
        ("2", "B2", "Tea", "30.00"),
    ]


# ---- Square -------------------------------------------------------------------------------


def test_square_transactions_combines_date_time_zone():
    rows = [
        {"Date": "2026-07-18", "Time": "12:59:30", "Time Zone": "Eastern Time (US & Canada)",
         "Gross Sales": "$8.00", "Discounts": "-$1.00", "Net Sales": "$7.00", "Tax": "$0.56",
         "Total Collected": "$7.56", "Transaction ID": "T1", "Event Type": "Payment",
         "Transaction Status": "Complete", "Location": "Main St", "Customer ID": ""},
        {"Date": "2026-07-18", "Time": "13:10:00", "Time Zone": "Eastern Time (US & Canada)",
         "Gross Sales": "-$8.00", "Net Sales": "-$8.00", "Transaction ID": "T2",
         "Event Type": "Refund", "Customer ID": "C9", "Customer Name": "Ann"},
    ]  # fmt: skip
    got = run("square_transactions", SQUARE_TX, rows)["orders"]
    assert records(got, "order_id", "ordered_at", "status", "gross_amount", "net_amount",
                   "store", "customer_id") == [
        {"order_id": "T1", "ordered_at": "2026-07-18 12:59:30 Eastern Time (US & Canada)",
         "status": "completed", "gross_amount": "$8.00", "net_amount": "$7.00",
         "store": "Main St", "customer_id": None},
        {"order_id": "T2", "ordered_at": "2026-07-18 13:10:00 Eastern Time (US & Canada)",
         "status": "refunded", "gross_amount": "-$8.00", "net_amount": "-$8.00",
         "store": None, "customer_id": "C9"},
    ]  # fmt: skip


def test_square_items_are_order_lines():
    rows = [
        {"Date": "2026-07-18", "Time": "12:59:30", "Time Zone": "Eastern Time (US & Canada)",
         "Category": "Coffee", "Item": "Latte", "Qty": "2.0", "SKU": "LAT", "Gross Sales": "$9.00",
         "Net Sales": "$9.00", "Transaction ID": "T1"},
        {"Date": "2026-07-18", "Time": "12:59:30", "Time Zone": "Eastern Time (US & Canada)",
         "Category": "None", "Item": "Cookie", "Qty": "1.0", "Gross Sales": "$2.50",
         "Net Sales": "$2.50", "Transaction ID": "T1"},
    ]  # fmt: skip
    got = run("square_items", SQUARE_ITEMS, rows)["order_lines"]
    assert got.select("order_id", "line_no", "product_name", "category", "quantity",
                      "line_amount").rows() == [
        ("T1", "1", "Latte", "Coffee", "2.0", "$9.00"),
        ("T1", "2", "Cookie", None, "1.0", "$2.50"),
    ]  # fmt: skip


# ---- support desks ------------------------------------------------------------------------


def test_zendesk_custom_field_suffix_and_complaints():
    header = ZENDESK + ",Ticket Category [list],Effort Logged [dec]"
    rows = [
        {"Id": "101", "Requester": "Ann", "Requester id": "9001", "Requester email": "ann@x.io",
         "Subject": "Broken mug", "Tags": "refund complaint_escalated", "Status": "Solved",
         "Priority": "High", "Via": "Web form", "Ticket type": "Incident",
         "Created at": "2026-04-08 20:52:00 -0300", "Solved at": "2026-04-09 10:00:00 -0300",
         "Satisfaction Score": "Good", "Ticket Category [list]": "Product quality"},
        {"Id": "102", "Requester email": "bo@x.io", "Status": "Open", "Via": "Email",
         "Ticket type": "Question", "Tags": "", "Created at": "2026-04-10 08:00:00 -0300",
         "Ticket Category [list]": "Complaint"},
        {"Id": "103", "Requester email": "cy@x.io", "Status": "hold", "Via": "Chat",
         "Created at": "2026-04-11 08:00:00 -0300"},
    ]  # fmt: skip
    got = run("zendesk_tickets", header, rows)["tickets"]
    assert records(got, "ticket_id", "customer_id", "status", "channel", "category",
                   "is_complaint", "satisfaction") == [
        {"ticket_id": "101", "customer_id": "9001", "status": "solved", "channel": "web",
         "category": "Product quality", "is_complaint": "true", "satisfaction": "Good"},
        {"ticket_id": "102", "customer_id": None, "status": "open", "channel": "email",
         "category": "Complaint", "is_complaint": "true", "satisfaction": None},
        {"ticket_id": "103", "customer_id": None, "status": "pending", "channel": "chat",
         "category": None, "is_complaint": None, "satisfaction": None},
    ]  # fmt: skip


def test_freshdesk_tickets():
    rows = [
        {"Ticket ID": "7", "Subject": "Late delivery", "Status": "Resolved", "Priority": "Medium",
         "Source": "Portal", "Type": "Complaint", "Created time": "2026-02-01 09:00:00",
         "Resolved time": "2026-02-02 09:00:00", "Initial response time": "2026-02-01 10:00:00",
         "Survey results": "Extremely satisfied", "Full name": "Ann Lee", "Email": "ann@x.io",
         "Contact ID": "c-1"},
        {"Ticket ID": "8", "Status": "Waiting on Customer", "Source": "Phone", "Type": "Question",
         "Created time": "2026-02-03 09:00:00", "Closed time": "2026-02-04 09:00:00",
         "Email": "bo@x.io"},
    ]  # fmt: skip
    got = run("freshdesk_tickets", FRESHDESK, rows)["tickets"]
    assert records(got, "ticket_id", "status", "channel", "is_complaint", "resolved_at",
                   "first_response_at", "customer_email") == [
        {"ticket_id": "7", "status": "solved", "channel": "web", "is_complaint": "true",
         "resolved_at": "2026-02-02 09:00:00", "first_response_at": "2026-02-01 10:00:00",
         "customer_email": "ann@x.io"},
        {"ticket_id": "8", "status": "pending", "channel": "phone", "is_complaint": "false",
         "resolved_at": "2026-02-04 09:00:00", "first_response_at": None,
         "customer_email": "bo@x.io"},
    ]  # fmt: skip


def test_freshdesk_without_contact_fields_names_the_missing_reference():
    header = FRESHDESK.split(",Full name")[0]
    with pytest.raises(InputFileError) as exc:
        resolve_mapping(split(header), preset="freshdesk_tickets", path="desk.csv")
    assert exc.value.reason_code == "missing_columns"
    assert "customer_ref" in exc.value.message and "'Due by Time'" in exc.value.message


# ---- CRMs ---------------------------------------------------------------------------------


def test_hubspot_contacts_with_sample_extras_and_source_value_map():
    rows = [
        {"Record ID": "301", "First Name": "Ann", "Last Name": "Lee", "Email": "ann@x.io",
         "Phone Number": "+1 512 555 0100", "Create Date": "2024-03-12 09:14", "City": "Austin",
         "Country/Region": "United States", "Gender": "Female", "Date of Birth": "1990-01-02",
         "Loyalty Member": "true", "Referred By": "302", "Original Source": "ORGANIC_SEARCH"},
        {"Record ID": "302", "Email": "bo@x.io", "Original Source": "paid_search"},
        {"Record ID": "303", "Email": "cy@x.io", "Original Source": "OFFLINE"},
        {"Record ID": "304", "Email": "di@x.io", "Original Source": "SOMETHING_NEW"},
    ]  # fmt: skip
    got = run("hubspot_contacts", HUBSPOT_SAMPLE, rows)["customers"]
    assert got["acquisition_channel"].to_list() == ["organic", "paid_search", "store",
                                                    "SOMETHING_NEW"]  # fmt: skip
    assert got.row(0, named=True) | {} == {
        "source_record_id": "301", "first_name": "Ann", "last_name": "Lee", "email": "ann@x.io",
        "phone": "+1 512 555 0100", "gender": "Female", "birth_date": "1990-01-02",
        "city": "Austin", "country": "United States", "signup_at": "2024-03-12 09:14",
        "acquisition_channel": "organic", "loyalty_member": "true", "referred_by": "302",
        "__line": 2,
    }  # fmt: skip


def test_salesforce_data_loader_caps_and_report_footer():
    rows = [
        {"ID": "0035g00000AbCdEAAZ", "ACCOUNTID": "0015g0", "FIRSTNAME": "Ann", "LASTNAME": "Lee",
         "EMAIL": "ann@x.io", "MOBILEPHONE": "+15125550100", "CREATEDDATE": "2024-01-15T10:00:00.000Z",
         "LEADSOURCE": "Web"},
    ]  # fmt: skip
    got = run("salesforce_contacts", SF_LOADER, rows)["customers"]
    assert got.select("source_record_id", "first_name", "phone", "signup_at",
                      "acquisition_channel").row(0) == (
        "0035g00000AbCdEAAZ", "Ann", "+15125550100", "2024-01-15T10:00:00.000Z", "organic"
    )  # fmt: skip
    report = [
        {"Account Name": "Acme", "Contact ID": "003A", "First Name": "Bo", "Last Name": "Ng",
         "Email": "bo@x.io", "Mailing City": "Paris"},
        {"Account Name": "Grand Totals (1 records)"},
        {"Account Name": "Confidential Information - Do Not Distribute"},
        {"Account Name": "Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."},
    ]  # fmt: skip
    out = run("salesforce_contacts", SF_REPORT, report)
    assert out["customers"].select("source_record_id", "city", "__line").rows() == [
        ("003A", "Paris", 2)
    ]
    assert out["__dropped"].rows() == [
        (3, "summary row 'Grand Totals (1 records)'"),
        (4, "summary row 'Confidential Information - Do Not Distribute'"),
        (5, "summary row 'Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved.'"),
    ]


def test_zoho_contacts():
    rows = [{"Record Id": "zcrm_4876", "Contact Owner.id": "1", "First Name": "Ann",
             "Last Name": "Lee", "Email": "ann@x.io", "Mobile": "13800138000", "Phone": "021-555",
             "Created Time": "2023-07-01 10:00:00", "Tag": "vip"}]  # fmt: skip
    got = run("zoho_contacts", ZOHO, rows)["customers"]
    assert got.select("source_record_id", "phone", "signup_at", "tags").row(0) == (
        "zcrm_4876", "13800138000", "2023-07-01 10:00:00", "vip",
    )  # fmt: skip


def test_fxiaoke_customers():
    rows = [{"客户名称": "上海某某贸易有限公司", "负责人": "王五", "手机": "", "电话": "021-5555",
             "邮箱": "sales@x.cn", "创建时间": "2025-01-02 09:00", "客户级别": "A",
             "地址": "上海市浦东新区"}]  # fmt: skip
    got = run("fxiaoke_customers", FXIAOKE, rows)["customers"]
    assert got.select("source_record_id", "full_name", "phone", "email", "tags").row(0) == (
        "上海某某贸易有限公司", "上海某某贸易有限公司", "021-5555", "sales@x.cn", "A",
    )  # fmt: skip


# ---- Chinese e-commerce -------------------------------------------------------------------


def test_taobao_orders_old_and_new_headers():
    rows = [
        {"订单编号": '="1930679858170647"', "买家会员名": "tb_buyer", "买家应付货款": "598",
         "买家应付邮费": "0.00", "总金额": "598", "买家实际支付金额": "598",
         "订单状态": "交易成功", "收货人姓名": "张三", "联系手机": "'18618486065",
         "订单创建时间": "2016-05-23 22:02:10", "宝贝总数量": "2", "店铺名称": "小店"},
        {"订单编号": "1930679858170648", "买家会员名": "tb_b2", "总金额": "10",
         "订单状态": "买家已付款，等待卖家发货", "订单创建时间": "2016-05-24 08:00:00"},
        {"订单编号": "1930679858170649", "买家会员名": "tb_b3", "总金额": "20",
         "订单状态": "交易关闭", "订单创建时间": "2016-05-25 08:00:00"},
        {"订单编号": "1930679858170650", "买家会员名": "tb_b4", "总金额": "30",
         "订单状态": "等待买家付款", "订单创建时间": "2016-05-26 08:00:00"},
    ]  # fmt: skip
    got = run("taobao_orders", TAOBAO, rows)["orders"]
    assert records(got, "order_id", "customer_id", "status", "gross_amount", "net_amount",
                   "currency", "customer_phone") == [
        {"order_id": '="1930679858170647"', "customer_id": "tb_buyer", "status": "completed",
         "gross_amount": "598", "net_amount": "598", "currency": "CNY",
         "customer_phone": "'18618486065"},
        {"order_id": "1930679858170648", "customer_id": "tb_b2", "status": "completed",
         "gross_amount": "10", "net_amount": None, "currency": "CNY", "customer_phone": None},
        {"order_id": "1930679858170649", "customer_id": "tb_b3", "status": "cancelled",
         "gross_amount": "20", "net_amount": None, "currency": "CNY", "customer_phone": None},
        {"order_id": "1930679858170650", "customer_id": "tb_b4", "status": "pending",
         "gross_amount": "30", "net_amount": None, "currency": "CNY", "customer_phone": None},
    ]  # fmt: skip
    new = [{"订单编号": "1", "买家下单时间": "2022-01-01 10:00:00", "买家实付金额": "88",
            "买家会员名": "x", "买家应付货款": "90", "订单状态": "退款成功"}]  # fmt: skip
    got = run("taobao_orders", TAOBAO_NEW, new)["orders"]
    assert got.select("ordered_at", "gross_amount", "net_amount", "status").row(0) == (
        "2022-01-01 10:00:00", "90", "88", "refunded",
    )  # fmt: skip


def test_taobao_order_lines():
    rows = [
        {"订单编号": "A1", "标题": "茶杯", "价格": "29.90", "购买数量": "2", "商家编码": "CUP"},
        {"订单编号": "A1", "标题": "茶叶", "价格": "50", "购买数量": "1", "外部系统编号": "TEA"},
        {"订单编号": "B2", "标题": "茶壶", "价格": "99", "购买数量": "1", "商家编码": "POT"},
    ]
    got = run("taobao_order_lines", TAOBAO_LINES, rows)["order_lines"]
    assert got.select("order_id", "line_no", "product_id", "quantity", "unit_price").rows() == [
        ("A1", "1", "CUP", "2", "29.90"),
        ("A1", "2", "TEA", "1", "50"),
        ("B2", "1", "POT", "1", "99"),
    ]


def test_youzan_orders_and_customers():
    rows = [{"订单号": "E20220331142238091806171", "订单创建时间": "2022-03-31 14:22:38",
             "订单状态": "交易成功", "商品金额合计": "100.00", "店铺优惠合计": "10.00",
             "订单实付金额": "95.00", "运费": "5.00", "收货人/提货人": "李四",
             "收货人手机号/提货人手机号": "13800138000", "买家手机号": "——", "归属店铺": "旗舰店"}]  # fmt: skip
    got = run("youzan_orders", YOUZAN, rows)["orders"]
    assert records(got, "order_id", "status", "gross_amount", "discount_amount", "net_amount",
                   "customer_phone", "customer_name", "store") == [
        {"order_id": "E20220331142238091806171", "status": "completed", "gross_amount": "100.00",
         "discount_amount": "10.00", "net_amount": "95.00", "customer_phone": "13800138000",
         "customer_name": "李四", "store": "旗舰店"}
    ]  # fmt: skip
    cust = [{"客户姓名": "李四", "客户手机号": "13800138000", "客户性别": "男", "是否会员": "是",
             "成长值": "10", "消费次数": "2", "来源渠道": "微信", "成为客户时间": "2021-01-01"}]  # fmt: skip
    got = run("youzan_customers", YOUZAN_CUSTOMERS + ",", cust)["customers"]
    assert got.select("source_record_id", "full_name", "gender", "loyalty_member").row(0) == (
        "13800138000", "李四", "男", "是",
    )  # fmt: skip


def test_jd_orders_amounts_repeat_per_sku():
    base = {"订单号": "J1", "下单时间": "2015-12-31 23:19:56", "订单金额": "300.00",
            "应付金额": "280.00", "订单状态": "完成", "下单帐号": "jd_user", "客户姓名": "赵六",
            "联系电话": "1******6198"}  # fmt: skip
    rows = [
        {**base, "商品ID": "111", "商品名称": "电饭煲", "订购数量": "1", "京东价": "200.00"},
        {**base, "商品ID": "222", "商品名称": "锅铲", "订购数量": "2", "京东价": "50.00"},
    ]
    out = run("jd_orders", JD, rows)
    assert records(out["orders"], "order_id", "gross_amount", "net_amount", "status",
                   "customer_id", "__lines") == [
        {"order_id": "J1", "gross_amount": "300.00", "net_amount": "280.00",
         "status": "completed", "customer_id": "jd_user", "__lines": [2, 3]}
    ]  # fmt: skip
    assert out["order_lines"].select("line_no", "product_id", "quantity", "unit_price").rows() == [
        ("1", "111", "1", "200.00"),
        ("2", "222", "2", "50.00"),
    ]


def test_douyin_sub_orders_sum_into_the_main_order():
    base = {"主订单编号": "\t6917926768823643751", "订单提交时间": "2026-09-22 00:54:10",
            "订单状态": "已完成", "收件人手机号": "$$密文", "收件人": "##密文"}  # fmt: skip
    rows = [
        {**base, "子订单编号": "s1", "选购商品": "T恤", "商品数量": "1", "商品单价": "59.00",
         "订单应付金额": "59.00", "优惠总金额": "-", "商家编码": "TS"},
        {**base, "子订单编号": "s2", "选购商品": "短裤", "商品数量": "2", "商品单价": "40.00",
         "订单应付金额": "80.00", "优惠总金额": "5.00", "商家编码": "SH"},
    ]  # fmt: skip
    out = run("douyin_orders", DOUYIN, rows)
    assert records(out["orders"], "order_id", "gross_amount", "discount_amount", "status",
                   "currency") == [
        {"order_id": "\t6917926768823643751", "gross_amount": "139.00",
         "discount_amount": "5.00", "status": "completed", "currency": "CNY"}
    ]  # fmt: skip
    assert out["order_lines"].select("product_id", "product_name", "line_amount").rows() == [
        ("TS", "T恤", "59.00"),
        ("SH", "短裤", "80.00"),
    ]


# ---- surveys ------------------------------------------------------------------------------


def test_generic_survey_ratings_json():
    rows = [
        {"Response ID": "r1", "Submitted At": "2026-05-01 10:00", "Email": "ann@x.io",
         "NPS": "9", "CSAT": "4", "CES": "2", "Product quality": "5", "Service": "4",
         "Price": "", "Delivery": "3", "Comment": "送货很快"},
        {"Response ID": "r2", "Submitted At": "2026-05-02 10:00", "Phone": "13800138000",
         "NPS": "3"},
    ]  # fmt: skip
    got = run("generic_survey", SURVEY, rows)["survey_responses"]
    assert records(got, "response_id", "nps", "csat", "ces", "comment") == [
        {"response_id": "r1", "nps": "9", "csat": "4", "ces": "2", "comment": "送货很快"},
        {"response_id": "r2", "nps": "3", "csat": None, "ces": None, "comment": None},
    ]  # fmt: skip
    ratings = got["ratings"].to_list()
    assert json.loads(ratings[0]) == {
        "product_quality": "5", "service": "4", "price": None, "delivery": "3"
    }  # fmt: skip
    assert ratings[1] is None


def test_qualtrics_header_rows_go_to_dropped():
    rows = [
        {"StartDate": "Start Date", "ResponseId": "Response ID"},
        {"StartDate": '{"ImportId":"startDate","timeZone":"America/Denver"}'},
        {"StartDate": "2024-01-01 10:00:00", "RecordedDate": "2024-01-01 10:05:00",
         "ResponseId": "R_1", "RecipientFirstName": "Ann", "RecipientLastName": "Lee",
         "RecipientEmail": "ann@x.io"},
    ]  # fmt: skip
    out = run("qualtrics_survey", QUALTRICS, rows)
    assert out["survey_responses"].select("response_id", "customer_name", "__line").rows() == [
        ("R_1", "Ann Lee", 4)
    ]
    assert out["__dropped"]["__line"].to_list() == [2, 3]


# ---- marketing spend ----------------------------------------------------------------------


def test_google_ads_totals_dropped_but_total_named_campaign_kept():
    rows = [
        {"Day": "2026-09-01", "Campaign": "Brand", "Currency code": "USD", "Cost": "1,316.14"},
        {"Day": "2026-09-01", "Campaign": "Totally new", "Currency code": "USD", "Cost": "--"},
        {"Day": "Total: Account", "Campaign": "--", "Currency code": "USD", "Cost": "1,316.14"},
        {"Day": "Total: Search campaigns", "Cost": "1,316.14"},
    ]  # fmt: skip
    out = run("google_ads", GOOGLE_DAILY, rows)
    spend = out["marketing_spend"]
    assert records(spend, "date", "campaign", "cost", "currency", "channel", "cost_type") == [
        {"date": "2026-09-01", "campaign": "Brand", "cost": "1,316.14", "currency": "USD",
         "channel": "paid_search", "cost_type": "marketing"},
        {"date": "2026-09-01", "campaign": "Totally new", "cost": None, "currency": "USD",
         "channel": "paid_search", "cost_type": "marketing"},
    ]  # fmt: skip
    assert out["__dropped"].rows() == [
        (4, "summary row 'Total: Account'"),
        (5, "summary row 'Total: Search campaigns'"),
    ]


def test_google_ads_german_headers():
    rows = [{"Tag": "2026-09-01", "Kampagne": "Marke", "Währungscode": "EUR", "Kosten": "1.234,56"},
            {"Tag": "Gesamt: Konto", "Kosten": "1.234,56"}]  # fmt: skip
    out = run("google_ads", GOOGLE_DE, rows)
    assert out["marketing_spend"].select("date", "campaign", "cost", "currency").rows() == [
        ("2026-09-01", "Marke", "1.234,56", "EUR")
    ]
    assert out["__dropped"]["__line"].to_list() == [3]


def test_meta_ads_currency_from_header():
    header = META.replace("(USD)", "(GBP)")
    rows = [
        {"Reporting starts": "2026-09-01", "Reporting ends": "2026-09-30",
         "Campaign name": "Autumn", "Day": "2026-09-01", "Amount spent (GBP)": "12.50"},
        {"Reporting starts": "2026-09-01", "Reporting ends": "2026-09-30",
         "Campaign name": "Autumn", "Day": "2026-09-02", "Amount spent (GBP)": "7.25"},
    ]  # fmt: skip
    names = split(header)
    mapping = resolve_mapping(names)
    assert mapping.method == "preset:meta_ads"
    assert mapping.columns["currency"] == {"const": "GBP"}
    assert mapping.options["constants"] == {"currency": "GBP"}
    assert not any(n.startswith("warning") for n in mapping.notes)
    got = apply_mapping(raw(names, rows), mapping)["marketing_spend"].collect()
    assert records(got, "date", "campaign", "cost", "currency", "channel") == [
        {"date": "2026-09-01", "campaign": "Autumn", "cost": "12.50", "currency": "GBP",
         "channel": "social"},
        {"date": "2026-09-02", "campaign": "Autumn", "cost": "7.25", "currency": "GBP",
         "channel": "social"},
    ]  # fmt: skip


def test_meta_ads_without_day_uses_reporting_starts_and_warns():
    names = ["Reporting starts", "Reporting ends", "Campaign name", "Amount spent (EGP)"]
    rows = [{"Reporting starts": "2026-09-01", "Reporting ends": "2026-09-30",
             "Campaign name": "Ramadan", "Amount spent (EGP)": "1500"}]  # fmt: skip
    mapping = resolve_mapping(names)
    assert mapping.columns["date"] == "Reporting starts"
    assert any(n.startswith("warning: no Day column") for n in mapping.notes)
    got = apply_mapping(raw(names, rows), mapping)["marketing_spend"].collect()
    assert got.select("date", "cost", "currency").row(0) == ("2026-09-01", "1500", "EGP")


def test_ocean_engine_ads():
    rows = [
        {"日期": "2026-09-01", "账户ID": "1", "广告计划名称": "秋季上新", "消耗": "1,234.50",
         "展示数": "10000", "点击数": "300"},
        {"日期": "合计", "消耗": "1,234.50"},
    ]  # fmt: skip
    out = run("ocean_engine_ads", OCEAN, rows)
    assert records(out["marketing_spend"], "date", "campaign", "cost", "currency", "channel") == [
        {"date": "2026-09-01", "campaign": "秋季上新", "cost": "1,234.50", "currency": "CNY",
         "channel": "social"}
    ]  # fmt: skip
    assert out["__dropped"]["__line"].to_list() == [3]


def test_zendesk_subset_is_still_detected():
    header = "Id,Requester,Requester email,Subject,Status,Via,Ticket type,Created at,Ticket Category [list]"
    mapping = resolve_mapping(split(header))
    assert mapping.method == "preset:zendesk_tickets"
    assert mapping.columns["category"] == ["Ticket Category [list]", "Ticket type"]
    assert "is_complaint" in mapping.columns


def test_woocommerce_without_products_column_has_no_lines():
    header = "Date,Order #,N. Revenue,Status,Customer,Customer type,Items sold"
    out = run("woocommerce_orders", header, [{"Date": "2026-01-01", "Order #": "1",
                                             "N. Revenue": "5", "Customer": "Ann"}])  # fmt: skip
    assert list(out) == ["orders"]
    assert out["orders"]["gross_amount"].to_list() == ["5"]


def test_example_user_preset_in_configs():
    path = Path(__file__).parents[2] / "configs" / "examples" / "pos_receipts_preset.yaml"
    header = (
        "小票号,门店,交易时间,会员手机号,会员姓名,件数,应收金额,优惠金额,实收金额,支付方式,状态"
    )
    rows = [{"小票号": "P1", "交易时间": "2026-01-05 12:00:00", "会员手机号": "13800138000",
             "应收金额": "10", "状态": "挂单"}]  # fmt: skip
    got = run(str(path), header, rows)["orders"]
    assert got.select("order_id", "status", "channel", "currency").row(0) == (
        "P1", "pending", "pos", "CNY",
    )  # fmt: skip


def test_detected_preset_error_is_reported_when_nothing_else_fits():
    header = FRESHDESK.split(",Full name")[0]
    with pytest.raises(InputFileError) as exc:
        resolve_mapping(split(header), path="desk.csv")
    assert "preset:freshdesk_tickets" in exc.value.message
    assert "customer_ref" in exc.value.message


def test_meta_ad_set_rows_stay_distinct_spend():
    """Two ad sets of one campaign on one day are two spend rows, not a duplicate."""
    headers = [
        "Reporting starts",
        "Reporting ends",
        "Campaign name",
        "Ad set name",
        "Day",
        "Amount spent (CNY)",
    ]
    raw = pl.DataFrame(
        {
            "Reporting starts": ["2024-10-01"] * 2,
            "Reporting ends": ["2024-10-01"] * 2,
            "Campaign name": ["Tea Lovers"] * 2,
            "Ad set name": ["Lookalike 1%", "Interest - Tea"],
            "Day": ["2024-10-01"] * 2,
            "Amount spent (CNY)": ["107.11", "104.95"],
            "__line": [2, 3],
        }
    )
    mapping = resolve_mapping(headers, preset="meta_ads")
    out = apply_mapping(raw.lazy(), mapping)["marketing_spend"].collect()
    assert out["campaign"].to_list() == ["Tea Lovers / Lookalike 1%", "Tea Lovers / Interest - Tea"]
    assert out["currency"].to_list() == ["CNY", "CNY"]
