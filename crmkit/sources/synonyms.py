"""Header normalisation, header synonyms and the default value vocabularies of every table.

The automapper matches normalised headers against these synonyms; the cleaning stage calls
`default_status_map` so that every source, preset or not, shares one status vocabulary.
"""

from __future__ import annotations

import re
import unicodedata

_TYPE_SUFFIX = re.compile(r"\s*\[[a-z]+\]\s*$", re.IGNORECASE)  # Zendesk `Ticket Category [list]`
_UNIT_SUFFIX = re.compile(r"\s*\((元|人民币|rmb|[a-z]{3}|¥|\$)\)\s*$")  # `订单金额（元）`, `(UTC)`
_NON_WORD = re.compile(r"[^\w#%]+|_+")


def clean_header(header: str) -> str:
    """A header as written, minus BOM and surrounding whitespace (what regexes match against)."""
    return header.replace("\ufeff", "").strip()


def normalize_header(header: str) -> str:
    """Fold a header for matching: NFKC (full-width → half-width), case-fold, drop a ` [type]`
    or unit suffix (`(元)`, `(USD)`), and collapse punctuation, underscores and spaces."""
    text = unicodedata.normalize("NFKC", clean_header(header)).casefold()
    text = _UNIT_SUFFIX.sub("", _TYPE_SUFFIX.sub("", text))
    return " ".join(_NON_WORD.sub(" ", text).split())


def header_key(header: str) -> str:
    """The compact matching key: the normalised header without spaces.

    `First Name`, `FirstName`, `FIRSTNAME` and `first_name` share the key `firstname`, which is
    how Salesforce Data Loader API names match Report labels.
    """
    return normalize_header(header).replace(" ", "")


def fold_value(value: str) -> str:
    """Fold an enumeration value the way apply_mapping does (trim + lower-case)."""
    return value.strip().lower()


_REF_ID = ["customer id", "customer no", "client id", "member id", "buyer id", "user id",
           "会员id", "会员编号", "会员卡号", "客户id", "客户编号", "买家会员名", "买家id",
           "下单帐号", "下单账号", "用户id"]  # fmt: skip
_REF_EMAIL = ["email", "e-mail", "customer email", "email address", "buyer email",
              "billing email", "requester email", "contact email", "recipient email",
              "邮箱", "电子邮箱", "邮件", "客户邮箱", "邮箱地址"]  # fmt: skip
_REF_PHONE = ["phone", "mobile", "phone number", "mobile phone", "mobile number", "telephone",
              "tel", "customer phone", "contact phone", "手机", "手机号", "手机号码",
              "会员手机号", "会员手机", "联系电话", "联系手机", "电话", "客户手机号",
              "买家手机号", "收货人手机号", "收件人手机号", "顾客手机号"]  # fmt: skip
_REF_NAME = ["customer", "customer name", "buyer name", "client name", "member name",
             "requester", "requester name", "contact name", "full name", "会员姓名", "客户姓名",
             "客户名称", "买家姓名", "收货人姓名", "收货人", "收件人", "姓名", "顾客姓名",
             "会员名称"]  # fmt: skip


def _ref() -> dict[str, list[str]]:
    return {
        "customer_id": _REF_ID,
        "customer_email": _REF_EMAIL,
        "customer_phone": _REF_PHONE,
        "customer_name": _REF_NAME,
    }


_ORDER_ID = ["order id", "order number", "order no", "order #", "order", "order ref",
             "receipt number", "receipt no", "receipt id", "transaction id", "invoice number",
             "订单号", "订单编号", "订单id", "小票号", "小票编号", "单号", "交易号", "流水号",
             "主订单编号", "销售单号", "单据号", "交易单号"]  # fmt: skip

#: table -> canonical column -> header synonyms (written naturally; matched by `header_key`).
SYNONYMS: dict[str, dict[str, list[str]]] = {
    "orders": {
        "order_id": _ORDER_ID,
        **_ref(),
        "ordered_at": [
            "date",
            "order date",
            "created at",
            "created",
            "order time",
            "ordered at",
            "purchase date",
            "transaction date",
            "transaction time",
            "date created",
            "created date",
            "order created",
            "sale date",
            "下单时间",
            "交易时间",
            "订单创建时间",
            "创建时间",
            "订单时间",
            "日期",
            "买家下单时间",
            "订单提交时间",
            "销售时间",
            "消费时间",
            "结账时间",
            "下单日期",
            "交易日期",
            "销售日期",
        ],
        "status": [
            "status",
            "order status",
            "financial status",
            "payment status",
            "transaction status",
            "状态",
            "订单状态",
            "交易状态",
            "支付状态",
        ],
        "currency": ["currency", "currency code", "币种", "货币"],
        "gross_amount": [
            "total",
            "amount",
            "order total",
            "total amount",
            "gross",
            "gross sales",
            "gross amount",
            "order amount",
            "sales",
            "sale amount",
            "应收金额",
            "订单金额",
            "总金额",
            "金额",
            "应付金额",
            "销售金额",
            "商品金额合计",
            "消费金额",
            "应收订单金额",
            "原价金额",
            "订单总额",
        ],
        "discount_amount": [
            "discount",
            "discounts",
            "discount amount",
            "优惠金额",
            "优惠",
            "折扣",
            "折扣金额",
            "优惠总金额",
            "店铺优惠合计",
            "减免金额",
        ],
        "refund_amount": [
            "refund",
            "refunds",
            "refunded amount",
            "refund amount",
            "退款金额",
            "已退款金额",
            "订单已退款金额",
        ],
        "shipping_amount": [
            "shipping",
            "shipping amount",
            "freight",
            "delivery fee",
            "shipping cost",
            "运费",
            "邮费",
            "运费金额",
        ],
        "tax_amount": ["tax", "taxes", "tax amount", "vat", "税费", "税额"],
        "net_amount": [
            "net",
            "net amount",
            "net sales",
            "net total",
            "paid amount",
            "amount paid",
            "total collected",
            "实收金额",
            "实付金额",
            "实收",
            "实付",
            "买家实付金额",
            "买家实际支付金额",
            "订单实付金额",
            "订单实收金额",
            "实收款",
            "支付金额",
        ],
        "cost_amount": ["cost", "cogs", "cost of goods", "成本", "成本金额", "商品成本"],
        "channel": ["channel", "sales channel", "source", "渠道", "销售渠道", "订单来源"],
        "store": [
            "store",
            "shop",
            "location",
            "outlet",
            "branch",
            "store name",
            "门店",
            "店铺",
            "门店名称",
            "店铺名称",
            "分店",
            "归属店铺",
            "收银门店",
        ],
        "items_count": [
            "items",
            "items count",
            "item count",
            "quantity",
            "qty",
            "items sold",
            "number of items",
            "件数",
            "数量",
            "商品数量",
            "宝贝总数量",
            "商品件数",
            "总数量",
            "总件数",
        ],
    },
    "order_lines": {
        "order_id": _ORDER_ID,
        "line_no": ["line", "line no", "line number", "item #", "行号"],
        "product_id": [
            "sku",
            "product id",
            "item id",
            "product code",
            "item code",
            "商品id",
            "商品编码",
            "商家编码",
            "货号",
            "规格编码",
            "商品编号",
            "sku编码",
        ],
        "product_name": [
            "product",
            "product name",
            "item",
            "item name",
            "商品名称",
            "商品",
            "宝贝标题",
            "标题",
            "品名",
            "选购商品",
            "菜品名称",
        ],
        "category": ["category", "product category", "类目", "商品类目", "分类", "品类"],
        "quantity": ["quantity", "qty", "数量", "购买数量", "商品数量", "销售数量", "订购数量"],
        "unit_price": ["price", "unit price", "单价", "价格", "商品单价", "售价"],
        "line_amount": [
            "amount",
            "line total",
            "line amount",
            "total",
            "subtotal",
            "金额",
            "小计",
            "商品金额小计",
            "金额合计",
            "商品实际成交金额",
        ],
        "cost_amount": ["cost", "unit cost", "成本", "商品成本价", "成本价"],
    },
    "tickets": {
        "ticket_id": [
            "ticket id",
            "id",
            "ticket number",
            "ticket #",
            "ticket no",
            "case number",
            "case id",
            "工单号",
            "工单编号",
            "工单id",
        ],
        **_ref(),
        "created_at": [
            "created at",
            "created time",
            "created",
            "create date",
            "created date",
            "opened at",
            "创建时间",
            "提交时间",
            "工单创建时间",
        ],
        "first_response_at": [
            "first response at",
            "first responded at",
            "first reply at",
            "first response time",
            "首次响应时间",
            "首次回复时间",
        ],
        "resolved_at": [
            "resolved at",
            "solved at",
            "resolved time",
            "closed at",
            "resolved date",
            "解决时间",
            "关闭时间",
        ],
        "status": ["status", "ticket status", "状态", "工单状态"],
        "channel": ["channel", "via", "source", "渠道", "来源", "工单来源"],
        "category": [
            "category",
            "type",
            "ticket type",
            "ticket category",
            "分类",
            "类型",
            "问题类型",
            "工单类型",
        ],
        "priority": ["priority", "优先级"],
        "subject": ["subject", "title", "ticket name", "主题", "标题"],
        "is_complaint": ["complaint", "is complaint", "是否投诉", "投诉"],
        "satisfaction": [
            "satisfaction",
            "satisfaction score",
            "csat",
            "survey results",
            "survey result",
            "rating",
            "满意度",
            "评价",
        ],
        "handling_cost": ["handling cost", "cost", "处理成本"],
    },
    "survey_responses": {
        "response_id": [
            "response id",
            "responseid",
            "respondent id",
            "id",
            "#",
            "submission id",
            "答卷编号",
            "序号",
        ],
        **_ref(),
        "responded_at": [
            "submitted at",
            "submit date",
            "submitted",
            "response date",
            "recorded date",
            "end date",
            "submit date utc",
            "提交时间",
            "提交答卷时间",
            "填写时间",
        ],
        "survey": ["survey", "survey name", "问卷", "问卷名称"],
        "nps": ["nps", "nps score", "likelihood to recommend", "推荐度", "净推荐值", "推荐意愿"],
        "csat": ["csat", "satisfaction", "满意度", "csat score"],
        "ces": ["ces", "effort", "customer effort", "费力度", "ces score"],
        "ratings": ["ratings"],
        "comment": ["comment", "comments", "feedback", "remarks", "评论", "意见", "建议", "留言"],
    },
    "marketing_spend": {
        "date": ["date", "day", "日期", "时间", "周期", "tag", "jour", "día"],
        "channel": ["channel", "渠道", "媒体", "platform", "平台"],
        "campaign": [
            "campaign",
            "campaign name",
            "广告计划名称",
            "计划名称",
            "项目名称",
            "推广计划名称",
            "广告名称",
            "kampagne",
            "campagne",
            "campanha",
        ],
        "cost": [
            "cost",
            "spend",
            "amount spent",
            "消耗",
            "花费",
            "消费",
            "总消耗",
            "费用",
            "kosten",
            "coût",
            "custo",
        ],
        "currency": ["currency", "currency code", "币种", "währungscode"],
        "cost_type": ["cost type", "费用类型"],
    },
    "customers": {
        "source_record_id": [
            "customer id",
            "id",
            "record id",
            "contact id",
            "member id",
            "客户id",
            "会员id",
            "会员编号",
            "客户编号",
            "会员卡号",
            "user id",
        ],
        "first_name": ["first name", "given name", "firstname", "名"],
        "last_name": ["last name", "surname", "family name", "lastname", "姓"],
        "full_name": [
            "name",
            "full name",
            "customer name",
            "姓名",
            "客户姓名",
            "客户名称",
            "会员姓名",
            "客户",
            "会员名称",
        ],
        "email": _REF_EMAIL,
        "phone": [
            "phone",
            "mobile",
            "phone number",
            "mobile phone",
            "telephone",
            "tel",
            "手机",
            "手机号",
            "手机号码",
            "电话",
            "联系电话",
            "客户手机号",
            "会员手机号",
        ],
        "gender": ["gender", "sex", "性别", "客户性别"],
        "birth_date": [
            "birthday",
            "date of birth",
            "birth date",
            "birthdate",
            "dob",
            "生日",
            "出生日期",
            "客户生日",
        ],
        "address_line": ["address", "street", "address1", "address line", "地址", "详细地址"],
        "city": ["city", "城市"],
        "region": [
            "state",
            "province",
            "region",
            "state/province",
            "state/region",
            "省",
            "省份",
            "地区",
        ],
        "postcode": ["zip", "postcode", "postal code", "zip code", "邮编"],
        "country": ["country", "country code", "country/region", "国家"],
        "signup_at": [
            "created at",
            "create date",
            "signup date",
            "registered at",
            "created time",
            "created date",
            "registration date",
            "注册时间",
            "创建时间",
            "成为客户时间",
            "开卡时间",
            "入会时间",
        ],
        "acquisition_channel": [
            "source",
            "original source",
            "acquisition channel",
            "lead source",
            "来源渠道",
            "来源",
            "获客渠道",
        ],
        "loyalty_member": ["loyalty member", "member", "is member", "是否会员"],
        "referred_by": ["referred by", "referrer", "推荐人"],
        "tags": ["tags", "tag", "标签"],
    },
    "events": {
        "event_id": ["event id", "id", "事件id"],
        **_ref(),
        "occurred_at": ["timestamp", "time", "occurred at", "event time", "时间", "发生时间"],
        "event_type": ["event", "event type", "type", "action", "事件", "事件类型"],
        "channel": ["channel", "渠道"],
        "page": ["page", "url", "页面"],
        "properties": ["properties", "属性"],
    },
}


# ---- default value vocabularies -------------------------------------------------------------

_ORDER_STATUS: dict[str, list[str]] = {
    # A paid order that is not yet shipped or confirmed (买家已付款…, 卖家已发货…, processing) is a
    # sale: the money has been taken. A later refund arrives as its own status or refund amount.
    "completed": ["completed", "complete", "paid", "success", "succeeded", "payment",
                  "processing", "fulfilled", "closed won", "已完成", "交易成功", "完成",
                  "已结账", "已支付", "已付款", "买家已付款，等待卖家发货",
                  "卖家已发货，等待买家确认", "等待出库", "待发货", "已发货", "已签收"],
    "refunded": ["refunded", "refund", "已退款", "退款成功", "全额退款"],
    "partially_refunded": ["partially_refunded", "partially refunded", "partial refund",
                           "部分退款"],
    "cancelled": ["cancelled", "canceled", "voided", "void", "failed", "交易关闭", "已取消",
                  "已关闭", "取消", "(删除)等待出库"],
    "pending": ["pending", "unpaid", "authorized", "on-hold", "on hold", "等待买家付款",
                "待付款", "待支付", "未付款"],
}  # fmt: skip

_TICKET_STATUS: dict[str, list[str]] = {
    "open": ["open", "new", "待处理", "处理中", "新建", "打开"],
    "pending": ["pending", "on-hold", "on hold", "hold", "waiting on customer",
                "waiting on third party", "等待回复", "挂起", "待回复"],
    "solved": ["solved", "resolved", "已解决"],
    "closed": ["closed", "已关闭", "关闭"],
}  # fmt: skip

_TICKET_CHANNEL: dict[str, list[str]] = {
    "email": ["email", "e-mail", "mail", "邮件", "电子邮件"],
    "web": ["web", "web form", "webform", "portal", "feedback widget", "web widget", "网页",
            "表单"],
    "chat": ["chat", "live chat", "messaging", "在线客服", "在线聊天"],
    "phone": ["phone", "phone call", "voice", "call", "电话", "热线"],
    "wechat": ["wechat", "weixin", "微信", "企业微信"],
    "other": ["api", "other", "twitter", "facebook", "其他"],
}  # fmt: skip

_ACQUISITION: dict[str, list[str]] = {
    "organic": ["organic", "organic search", "organic_search", "seo", "自然搜索"],
    "paid_search": ["paid_search", "paid search", "cpc", "sem", "付费搜索"],
    "social": ["social", "social_media", "social media", "paid_social", "社交媒体"],
    "referral": ["referral", "referrals", "推荐", "转介绍"],
    "store": ["store", "offline", "offline_sources", "门店", "线下"],
    "email": ["email", "email_marketing", "email marketing", "邮件"],
    "direct": ["direct", "direct_traffic", "direct traffic", "直接访问"],
    "other": ["other", "other_campaigns", "其他"],
}  # fmt: skip


def invert(vocab: dict[str, list[str]]) -> dict[str, str]:
    """{canonical: [source values]} → {folded source value: canonical}, with NFKC variants."""
    out: dict[str, str] = {}
    for canonical, values in vocab.items():
        for value in [canonical, *values]:
            out[fold_value(value)] = canonical
            out[fold_value(unicodedata.normalize("NFKC", value))] = canonical
    return out


_DEFAULT_VALUE_MAPS: dict[str, dict[str, dict[str, list[str]]]] = {
    "orders": {"status": _ORDER_STATUS},
    "tickets": {"status": _TICKET_STATUS, "channel": _TICKET_CHANNEL},
    "customers": {"acquisition_channel": _ACQUISITION},
}


def default_value_maps(table: str) -> dict[str, dict[str, str]]:
    """Every default value map of a table: {column: {folded source value: canonical value}}."""
    return {col: invert(vocab) for col, vocab in _DEFAULT_VALUE_MAPS.get(table, {}).items()}


def default_status_map(table: str) -> dict[str, str]:
    """The default status vocabulary of a table (folded source value → canonical enum)."""
    return default_value_maps(table).get("status", {})
