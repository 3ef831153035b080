"""Deterministic sample data for crmkit: one tea & homeware business, seven systems, one truth.

Run ``python sample_data/generate.py [--out DIR]``. The same seed always gives byte-identical
files, so the committed output can be checked by regenerating it (see tests/test_sample_data.py).
The business, the planted dirt and the truth files are described in sample_data/README.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import polars as pl
import xlsxwriter

T = TypeVar("T")
SEED = 20261123
START = dt.datetime(2024, 10, 1)
END = dt.datetime(2026, 9, 30, 23, 59, 59)
EXPORT1_END = dt.datetime(2025, 12, 31, 23, 59, 59)
EXPORT2_START = dt.datetime(2025, 10, 1)
POS_SPLIT = dt.datetime(2026, 1, 1)
N_PERSONS = 5000
DIRT_RATE = 0.015
FIXED_CREATED = dt.datetime(2026, 10, 1, 9, 0, 0)

# --------------------------------------------------------------------------- reference tables


def columns(header: str) -> list[str]:
    """Column names from a header line written exactly as the export has it."""
    return header.split(",")


def words(text: str) -> list[str]:
    """Whitespace-separated words of a compact table written as text."""
    return text.split()


def triples(text: str) -> list[tuple[str, str, str]]:
    """Parse 'simplified traditional pinyin' word triples from a table written as text."""
    items = words(text)
    return [(items[i], items[i + 1], items[i + 2]) for i in range(0, len(items), 3)]


# (simplified, traditional, pinyin) — every traditional form is GBK-encodable.
SURNAMES = triples(
    """
    王 王 Wang   李 李 Li   张 張 Zhang   刘 劉 Liu   陈 陳 Chen   杨 楊 Yang
    黄 黃 Huang   赵 趙 Zhao   吴 吳 Wu   周 周 Zhou   徐 徐 Xu   孙 孫 Sun
    马 馬 Ma   朱 朱 Zhu   胡 胡 Hu   郭 郭 Guo   何 何 He   林 林 Lin
    高 高 Gao   罗 羅 Luo   郑 鄭 Zheng   梁 梁 Liang   谢 謝 Xie   宋 宋 Song
    唐 唐 Tang   许 許 Xu   韩 韓 Han   冯 馮 Feng   邓 鄧 Deng   曹 曹 Cao
    彭 彭 Peng   曾 曾 Zeng   萧 蕭 Xiao   田 田 Tian   董 董 Dong   潘 潘 Pan
    袁 袁 Yuan   蔡 蔡 Cai   蒋 蔣 Jiang   余 余 Yu
"""
)
# characters for given names: (simplified, traditional, pinyin); names are 1 or 2 characters
GIVEN_CHARS_F = triples(
    """
    芳 芳 fang   娜 娜 na   敏 敏 min   静 靜 jing   丽 麗 li   艳 艷 yan
    娟 娟 juan   霞 霞 xia   秀 秀 xiu   英 英 ying   丹 丹 dan   婷 婷 ting
    欣 欣 xin   怡 怡 yi   涵 涵 han   雨 雨 yu   萱 萱 xuan   燕 燕 yan
    玲 玲 ling   红 紅 hong   梅 梅 mei   琳 琳 lin   倩 倩 qian   佳 佳 jia
    慧 慧 hui   晓 曉 xiao   雪 雪 xue   颖 穎 ying   思 思 si   婉 婉 wan
    璐 璐 lu   淑 淑 shu   月 月 yue   兰 蘭 lan   洁 潔 jie   雅 雅 ya
    诗 詩 shi   晶 晶 jing   蕾 蕾 lei   凤 鳳 feng
"""
)
GIVEN_CHARS_M = triples(
    """
    伟 偉 wei   强 強 qiang   磊 磊 lei   军 軍 jun   洋 洋 yang   勇 勇 yong
    杰 傑 jie   涛 濤 tao   明 明 ming   超 超 chao   刚 剛 gang   平 平 ping
    华 華 hua   建 建 jian   东 東 dong   浩 浩 hao   宇 宇 yu   俊 俊 jun
    志 志 zhi   文 文 wen   鹏 鵬 peng   辉 輝 hui   博 博 bo   昊 昊 hao
    晨 晨 chen   国 國 guo   栋 棟 dong   振 振 zhen   轩 軒 xuan   然 然 ran
    斌 斌 bin   峰 峰 feng   龙 龍 long   海 海 hai   林 林 lin   凯 凱 kai
    鑫 鑫 xin   鸿 鴻 hong   飞 飛 fei   成 成 cheng
"""
)
# first name -> common misspelling (None: no typo variant)
WESTERN_F = {
    "Mary": None,
    "Jennifer": "Jenifer",
    "Sarah": "Sara",
    "Emily": "Emilie",
    "Jessica": "Jesica",
    "Catherine": "Katherine",
    "Rebecca": "Rebbeca",
    "Olivia": None,
    "Sophie": "Sophia",
    "Charlotte": None,
    "Emma": None,
    "Hannah": "Hanna",
    "Laura": None,
    "Anna": "Ana",
    "Grace": None,
    "Chloe": "Chloé",
    "Amelia": None,
    "Lena": None,
}
WESTERN_M = {
    "James": None,
    "John": "Jon",
    "Robert": None,
    "Michael": "Micheal",
    "William": None,
    "David": None,
    "Thomas": "Tomas",
    "Daniel": None,
    "Matthew": "Mathew",
    "Jonathan": "Jonathon",
    "Christopher": "Christoper",
    "Steven": "Stephen",
    "Philip": "Phillip",
    "Andrew": None,
    "Benjamin": None,
    "Lukas": "Lucas",
    "Felix": None,
    "Oliver": None,
    "Jack": None,
    "Liam": None,
}
SURNAMES_WEST = {
    "US": words(
        "Smith Johnson Williams Brown Jones Miller Davis Garcia Wilson Anderson Taylor Moore "
        "Martin Lee Clark Lewis Walker Hall Young King Wright Lopez Hill Scott Green Adams "
        "Baker "
    ),
    "GB": words(
        "Smith Jones Taylor Brown Williams Wilson Evans Thomas Roberts Walker Wright Thompson "
        "Johnson White Hughes Edwards Green Hall Wood Harris Clarke Jackson "
    ),
    "DE": words(
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Hoffmann Schulz Koch "
        "Richter Klein Wolf Neumann Schwarz Zimmermann Braun "
    ),
    "AU": words(
        "Smith Jones Williams Brown Wilson Taylor Nguyen White Martin Anderson Thompson "
        "Walker Harris Ryan Kelly King "
    ),
}
SURNAME_TYPOS = {
    "Thompson": "Thomson",
    "Müller": "Mueller",
    "Schmidt": "Schmitt",
    "Meyer": "Meier",
    "Hoffmann": "Hofmann",
    "Williams": "Willams",
}


@dataclass(frozen=True)
class City:
    """A customer city: names, Shopify province code and a postcode prefix."""

    country: str
    zh: str
    en: str
    province: str
    zip_prefix: str
    store: str | None = None


CITIES_CN = [
    City("CN", "上海", "Shanghai", "SH", "200", "上海静安店"),
    City("CN", "北京", "Beijing", "BJ", "100", "北京三里屯店"),
    City("CN", "杭州", "Hangzhou", "ZJ", "310", "杭州西湖店"),
    City("CN", "深圳", "Shenzhen", "GD", "518", "深圳南山店"),
    City("CN", "广州", "Guangzhou", "GD", "510"),
    City("CN", "成都", "Chengdu", "SC", "610"),
    City("CN", "南京", "Nanjing", "JS", "210"),
    City("CN", "苏州", "Suzhou", "JS", "215"),
    City("CN", "武汉", "Wuhan", "HB", "430"),
    City("CN", "西安", "Xi'an", "SN", "710"),
]
CITY_CN_WEIGHTS = [22, 16, 12, 12, 8, 7, 7, 6, 5, 5]
CITIES_ABROAD = {
    "US": [
        City("US", "纽约", "New York", "NY", "100"),
        City("US", "旧金山", "San Francisco", "CA", "941"),
        City("US", "西雅图", "Seattle", "WA", "981"),
        City("US", "芝加哥", "Chicago", "IL", "606"),
    ],
    "GB": [City("GB", "伦敦", "London", "", "SW"), City("GB", "曼彻斯特", "Manchester", "", "M")],
    "DE": [
        City("DE", "柏林", "Berlin", "", "10"),
        City("DE", "慕尼黑", "München", "", "80"),
        City("DE", "汉堡", "Hamburg", "", "20"),
    ],
    "AU": [
        City("AU", "悉尼", "Sydney", "NSW", "20"),
        City("AU", "墨尔本", "Melbourne", "VIC", "30"),
    ],
}
COUNTRY_WEIGHTS = {"CN": 70, "US": 12, "GB": 8, "DE": 5, "AU": 5}
COUNTRY_NAMES = {
    "CN": ("China", "中国"),
    "US": ("United States", "美国"),
    "GB": ("United Kingdom", "英国"),
    "DE": ("Germany", "德国"),
    "AU": ("Australia", "澳大利亚"),
}
UTC_OFFSET = {"CN": 8, "US": -5, "GB": 0, "DE": 1, "AU": 10}  # hours, used for local time of day
STORES = [c.store for c in CITIES_CN if c.store]
STORE_CODES = {"上海静安店": "SH", "北京三里屯店": "BJ", "杭州西湖店": "HZ", "深圳南山店": "SZ"}
CHANNELS = ["organic", "paid_search", "social", "referral", "store"]
HUBSPOT_SOURCE = {
    "organic": "ORGANIC_SEARCH",
    "paid_search": "PAID_SEARCH",
    "social": "SOCIAL_MEDIA",
    "referral": "REFERRALS",
    "store": "OFFLINE",
}
PLACEHOLDER_EMAILS = ["test@test.com", "none@none.com"]
PLACEHOLDER_PHONE = "13800000000"
CN_MOBILE_PREFIXES = [
    int(prefix)
    for prefix in words(
        "130 131 132 133 135 136 137 138 139 150 151 152 155 156 157 158 159 166 176 177 "
        "178 180 181 182 183 185 186 187 188 189 198 199 "
    )
]


@dataclass(frozen=True)
class Product:
    """One catalogue product; the SKU prefix is its category."""

    sku: str
    name_en: str
    name_zh: str
    price: int  # CNY fen

    @property
    def category(self) -> str:
        """Category = SKU prefix (TEA, CUP, POT, GIFT, HOME, ACC)."""
        return self.sku.split("-", 1)[0]


def _p(sku: str, en: str, zh: str, yuan: int) -> Product:
    return Product(sku, en, zh, yuan * 100)


PRODUCTS = [
    _p("TEA-LJ100", "West Lake Longjing 100g", "西湖龙井 100g", 168),
    _p("TEA-BLC100", "Biluochun Green Tea 100g", "碧螺春 100g", 138),
    _p("TEA-TGY100", "Tieguanyin Oolong 100g", "铁观音 100g", 128),
    _p("TEA-DHP100", "Da Hong Pao Rock Tea 100g", "大红袍 100g", 198),
    _p("TEA-PE357", "Pu'er Tea Cake 357g", "普洱茶饼 357g", 268),
    _p("TEA-JSM100", "Jasmine Dragon Pearls 100g", "茉莉龙珠 100g", 98),
    _p("TEA-BHYZ50", "Silver Needle White Tea 50g", "白毫银针 50g", 228),
    _p("TEA-QM100", "Keemun Black Tea 100g", "祁门红茶 100g", 118),
    _p("TEA-DD100", "Dong Ding Oolong 100g", "冻顶乌龙 100g", 148),
    _p("TEA-SAMPLER", "Tea Sampler (8 teas)", "品鉴装 8 款", 88),
    _p("CUP-CEL2", "Celadon Cups (pair)", "青瓷对杯", 128),
    _p("CUP-GLASS", "Double-wall Glass Cup", "双层玻璃杯", 68),
    _p("CUP-RUYAO", "Ru Kiln Teacup", "汝窑品茗杯", 58),
    _p("CUP-MUG", "Stoneware Mug", "粗陶马克杯", 78),
    _p("CUP-GAIWAN", "Porcelain Gaiwan", "白瓷盖碗", 98),
    _p("CUP-FAIR", "Glass Fair Cup", "公道杯", 88),
    _p("CUP-TRAVEL", "Travel Tea Tumbler", "便携泡茶杯", 158),
    _p("POT-YIXING", "Yixing Clay Teapot", "宜兴紫砂壶", 588),
    _p("POT-GLASS", "Glass Teapot 600ml", "玻璃茶壶 600ml", 128),
    _p("POT-IRON", "Cast Iron Kettle", "铸铁壶", 698),
    _p("POT-KETTLE", "Electric Tea Kettle", "电热烧水壶", 399),
    _p("POT-KUNGFU", "Kung Fu Tea Set", "功夫茶具套装", 468),
    _p("POT-WARMER", "Teapot Warmer", "暖茶炉", 158),
    _p("GIFT-MOON", "Mid-Autumn Gift Box", "中秋礼盒", 388),
    _p("GIFT-NY", "Spring Festival Gift Box", "新春礼盒", 458),
    _p("GIFT-CARD200", "Gift Card 200", "礼品卡 200 元", 200),
    _p("GIFT-SET", "Tea & Cups Gift Set", "茶杯礼盒", 298),
    _p("GIFT-WINTER", "Winter Gift Box", "冬日礼盒", 328),
    _p("GIFT-CORP", "Business Gift Set", "商务礼盒", 688),
    _p("HOME-TRAY", "Bamboo Tea Tray", "竹制茶盘", 238),
    _p("HOME-COAST", "Linen Coasters (6)", "亚麻杯垫 6 片", 48),
    _p("HOME-RUNNER", "Tea Table Runner", "茶席", 98),
    _p("HOME-VASE", "Celadon Vase", "青瓷花瓶", 168),
    _p("HOME-CANDLE", "Osmanthus Scented Candle", "桂花香薰蜡烛", 128),
    _p("HOME-CADDY", "Tin Tea Caddy", "锡制茶叶罐", 88),
    _p("ACC-STRAIN", "Tea Strainer", "茶滤", 38),
    _p("ACC-TOOLS", "Tea Tool Set (6)", "茶道六君子", 118),
    _p("ACC-TOWEL", "Tea Towel", "茶巾", 28),
    _p("ACC-SCOOP", "Bamboo Tea Scoop", "竹茶则", 36),
    _p("ACC-PET", "Clay Tea Pet", "紫砂茶宠", 68),
]
CATEGORIES = ["TEA", "CUP", "POT", "GIFT", "HOME", "ACC"]
CATEGORY_WEIGHTS = [40, 15, 10, 13, 12, 10]
# primary category -> [(category added to the basket, probability)]
CO_PURCHASE = {
    "TEA": [("CUP", 0.30), ("TEA", 0.25), ("ACC", 0.15)],
    "CUP": [("TEA", 0.45), ("CUP", 0.15)],
    "POT": [("TEA", 0.55), ("CUP", 0.40), ("ACC", 0.20)],
    "GIFT": [("GIFT", 0.10), ("TEA", 0.10)],
    "HOME": [("HOME", 0.25), ("TEA", 0.15)],
    "ACC": [("TEA", 0.40), ("CUP", 0.15)],
}
BY_CATEGORY = {c: [p for p in PRODUCTS if p.category == c] for c in CATEGORIES}
SPRING_FESTIVAL = [dt.datetime(2025, 1, 29), dt.datetime(2026, 2, 17)]
MID_AUTUMN = [dt.datetime(2025, 10, 6), dt.datetime(2026, 9, 25)]


# --------------------------------------------------------------------------- people


@dataclass
class Person:
    """One real person: the truth every source record points back to."""

    pid: str
    country: str
    city: City
    gender: str
    birth: dt.date
    surname: tuple[str, str, str]  # (simplified/western, traditional/typo, pinyin/western)
    given: tuple[str, str, str]
    email: str | None
    phone: str  # E.164
    channel: str
    signup: dt.datetime
    prospect: bool
    online_share: float
    accepts_marketing: bool
    loyalty: bool = False
    loyalty_join: dt.datetime | None = None
    referrer: Person | None = None
    referrer_recorded: bool = False
    orders: list[Order] = field(default_factory=list)

    @property
    def chinese(self) -> bool:
        """Chinese-named person (all CN customers)."""
        return self.country == "CN"

    @property
    def name(self) -> str:
        """Canonical name: 张伟 for Chinese, 'Jonathan Smith' for western names."""
        if self.chinese:
            return self.surname[0] + self.given[0]
        return f"{self.given[0]} {self.surname[0]}"

    @property
    def home_store(self) -> str | None:
        """The store in the person's city, if any."""
        return self.city.store


def pick(rng: random.Random, items: Sequence[T], weights: Sequence[float] | None = None) -> T:
    """One item drawn with rng.choices, optionally weighted."""
    return rng.choices(items, weights=weights, k=1)[0]


def chinese_given_name(
    rng: random.Random, chars: list[tuple[str, str, str]]
) -> tuple[str, str, str]:
    """A one- or two-character given name as (simplified, traditional, pinyin)."""
    picked = [pick(rng, chars) for _ in range(1 if rng.random() < 0.35 else 2)]
    return (
        "".join(c[0] for c in picked),
        "".join(c[1] for c in picked),
        "".join(c[2] for c in picked).capitalize(),
    )


def cn_mobile(rng: random.Random) -> str:
    """A random mainland mobile number in E.164."""
    return f"+86{pick(rng, CN_MOBILE_PREFIXES)}{rng.randint(0, 99_999_999):08d}"


def foreign_mobile(rng: random.Random, country: str) -> str:
    """A random plausible mobile number in E.164 for US, GB, DE or AU."""
    if country == "US":
        area = pick(rng, [212, 415, 617, 312, 206, 503, 646])
        return f"+1{area}{rng.randint(201, 989)}{rng.randint(0, 9999):04d}"
    if country == "GB":
        return f"+447{rng.randint(400_000_000, 999_999_999)}"
    if country == "DE":
        return f"+49{pick(rng, [151, 152, 157])}{rng.randint(10_000_000, 99_999_999)}"
    return f"+614{rng.randint(10_000_000, 99_999_999)}"


def make_email(rng: random.Random, first: str, last: str, country: str, taken: set[str]) -> str:
    """A unique lower-case e-mail built from a romanised name."""
    first_l = first.lower().replace("ü", "ue").replace("é", "e").replace("'", "")
    last_l = last.lower().replace("ü", "ue").replace("'", "")
    if country == "CN":
        domain = pick(
            rng,
            ["qq.com", "163.com", "126.com", "sina.com", "gmail.com", "outlook.com", "foxmail.com"],
            [40, 22, 8, 6, 10, 8, 6],
        )
    else:
        domain = pick(
            rng,
            {
                "US": ["gmail.com", "yahoo.com", "outlook.com", "icloud.com"],
                "GB": ["gmail.com", "hotmail.co.uk", "outlook.com", "btinternet.com"],
                "DE": ["gmail.com", "web.de", "gmx.de", "t-online.de"],
                "AU": ["gmail.com", "bigpond.com", "outlook.com", "icloud.com"],
            }[country],
        )
    while True:
        style = rng.randrange(5)
        if domain == "qq.com" and style < 2:
            local = str(rng.randint(10_000_000, 2_999_999_999))
        elif style in (0, 1):
            local = (
                f"{last_l}{first_l}{rng.randint(1, 99)}"
                if country == "CN"
                else f"{first_l}.{last_l}"
            )
        elif style == 2:
            local = f"{first_l}.{last_l}{rng.randint(1, 999)}"
        elif style == 3:
            local = f"{first_l[0]}{last_l}{rng.randint(60, 99)}"
        else:
            local = f"{last_l}_{first_l}{rng.randint(1, 9999)}"
        email = f"{local}@{domain}"
        if email not in taken:
            taken.add(email)
            return email


def random_datetime(rng: random.Random, lo: dt.datetime, hi: dt.datetime) -> dt.datetime:
    """Uniform datetime in [lo, hi), to the second."""
    return lo + dt.timedelta(seconds=rng.randrange(int((hi - lo).total_seconds())))


def make_person(rng: random.Random, n: int, taken: set[str]) -> Person:
    """Draw one person: origin, name, contact points, acquisition and signup."""
    country = pick(rng, list(COUNTRY_WEIGHTS), list(COUNTRY_WEIGHTS.values()))
    gender = pick(rng, ["f", "m"], [56, 44])
    if country == "CN":
        city = pick(rng, CITIES_CN, CITY_CN_WEIGHTS)
        surname = pick(rng, SURNAMES, [max(1, 12 - i // 2) for i in range(len(SURNAMES))])
        given = chinese_given_name(rng, GIVEN_CHARS_F if gender == "f" else GIVEN_CHARS_M)
        first_roman, last_roman = given[2], surname[2]
        phone = cn_mobile(rng)
    else:
        city = pick(rng, CITIES_ABROAD[country])
        names = WESTERN_F if gender == "f" else WESTERN_M
        first = pick(rng, list(names))
        last = pick(rng, SURNAMES_WEST[country])
        surname = (last, SURNAME_TYPOS.get(last, last), last)
        given = (first, names[first] or first, first)
        first_roman, last_roman = first, last
        phone = foreign_mobile(rng, country)
    store_city = city.store is not None
    channel = pick(rng, CHANNELS, [35, 20, 20, 10, 30 if store_city else 0])
    prospect = channel != "store" and rng.random() < 0.11
    if channel == "store":
        online_share = rng.betavariate(1.2, 4)
    elif country == "CN" and store_city:
        online_share = rng.betavariate(1.5, 2.5)
    else:
        online_share = 1.0
    no_email = country == "CN" and channel == "store" and rng.random() < 0.4
    email = None if no_email else make_email(rng, first_roman, last_roman, country, taken)
    if rng.random() < 0.2:
        signup = random_datetime(rng, dt.datetime(2024, 1, 1), START)
    else:
        signup = random_datetime(rng, START, dt.datetime(2026, 9, 20))
    age = rng.gauss(36 if country == "CN" else 42, 10)
    birth = dt.date(2026, 1, 1) - dt.timedelta(days=int(max(18.5, min(age, 78)) * 365.25))
    birth -= dt.timedelta(days=rng.randrange(365))
    return Person(
        pid=f"P{n:05d}",
        country=country,
        city=city,
        gender=gender,
        birth=birth,
        surname=surname,
        given=given,
        email=email,
        phone=phone,
        channel=channel,
        signup=signup,
        prospect=prospect,
        online_share=online_share,
        accepts_marketing=rng.random() < 0.62,
    )


def plant_identity_cases(rng: random.Random, people: list[Person]) -> None:
    """Hard cases: shared family phones and two different people both called 王芳 in 上海."""
    cn = [p for p in people if p.chinese and not p.prospect]
    for a, b in zip(cn[10:50:2], cn[11:51:2], strict=True):  # 20 households share one phone
        b.phone = a.phone
        b.city = a.city
    wang = SURNAMES[0]
    fang = ("芳", "芳", "Fang")
    for p in (cn[60], cn[61]):
        p.surname, p.given, p.gender, p.city = wang, fang, "f", CITIES_CN[0]


def make_people(rng: random.Random) -> list[Person]:
    """All persons, sorted by id; referrers drawn among earlier signups."""
    taken: set[str] = set()
    people = [make_person(rng, n + 1, taken) for n in range(N_PERSONS)]
    plant_identity_cases(rng, people)
    by_signup = sorted(people, key=lambda p: (p.signup, p.pid))
    for i, p in enumerate(by_signup):
        if p.channel == "referral" and i > 20:
            p.referrer = pick(rng, [q for q in by_signup[max(0, i - 400) : i] if not q.prospect])
            p.referrer_recorded = rng.random() < 0.8
    return people


# --------------------------------------------------------------------------- purchases


@dataclass
class Order:
    """One purchase (POS receipt or online order) with its final state."""

    person: Person | None
    at: dt.datetime  # Asia/Shanghai wall time
    channel: str  # pos | online
    store: str | None
    items: list[tuple[Product, int]]
    status: str = "completed"  # completed | refunded | partially_refunded | pending | voided
    discount_code: str = ""
    discount: int = 0
    order_id: str = ""

    @property
    def gross(self) -> int:
        """Sum of line amounts in CNY fen."""
        return sum(p.price * q for p, q in self.items)


def days_to(at: dt.datetime, event: dt.datetime) -> float:
    """Days from at until event (negative after it)."""
    return (event - at).total_seconds() / 86400


def seasonality(at: dt.datetime, channel: str, country: str) -> float:
    """Relative demand: 双11, 618, Christmas, Spring Festival and Mid-Autumn; POS weekends."""
    s = 1.0
    online = channel == "online"
    if at.month == 11 and at.day <= 11 and country == "CN":
        s *= 1 + (3.0 if online else 0.4) * (at.day / 11) ** 2
    if at.month == 6 and at.day <= 18 and country == "CN":
        s *= 1 + (2.0 if online else 0.3) * (at.day / 18) ** 2
    if at.month == 12 and at.day <= 24:
        s *= 1 + (2.0 if country != "CN" else 0.4) * at.day / 24
    if at.month == 11 and at.day >= 20 and country != "CN":  # Black Friday weeks
        s *= 1.8
    for sf in SPRING_FESTIVAL:
        d = days_to(at, sf)
        if 0 < d <= 21 and country == "CN":
            s *= 1.9
        elif -7 < d <= 0 and country == "CN":
            s *= 0.35 if not online else 0.6
    for ma in MID_AUTUMN:
        if 0 < days_to(at, ma) <= 14 and country == "CN":
            s *= 1.5
    if not online and at.weekday() >= 5:
        s *= 1.4
    return s


S_MAX = 4.0  # the highest value seasonality() takes (online on 双11); thinning needs it
RATE_MEAN = 0.1
POS_RATE_BOOST = 3.5
MAX_RATE = 0.15
DROP_A, DROP_B = 0.5, 1.0
POS_HOURS = list(range(10, 22))
POS_HOUR_W = [3, 5, 8, 7, 5, 6, 7, 8, 9, 9, 7, 4]
WEB_HOUR_W = [2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 7, 6, 5, 5, 5, 6, 7, 8, 10, 11, 9, 5]


def with_time_of_day(
    rng: random.Random, day: dt.datetime, channel: str, country: str
) -> dt.datetime:
    """Put a plausible local time of day on a date, returned as Shanghai wall time."""
    if channel == "pos":
        hour = pick(rng, POS_HOURS, POS_HOUR_W)
        return day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
    local = day.replace(
        hour=pick(rng, list(range(24)), WEB_HOUR_W),
        minute=rng.randrange(60),
        second=rng.randrange(60),
    )
    at = local + dt.timedelta(hours=8 - UTC_OFFSET[country])
    if at > END:  # keep orders inside the two years: move to the day before / after
        at -= dt.timedelta(days=1)
    elif at < START:
        at += dt.timedelta(days=1)
    return at


def basket(rng: random.Random, at: dt.datetime) -> list[tuple[Product, int]]:
    """Items of one purchase: a primary category plus co-purchased categories."""
    weights = list(CATEGORY_WEIGHTS)
    gift_season = at.month in (1, 12) or any(0 < days_to(at, d) <= 21 for d in MID_AUTUMN)
    if gift_season:
        weights[CATEGORIES.index("GIFT")] *= 3
    primary = pick(rng, CATEGORIES, weights)
    chosen = [pick(rng, BY_CATEGORY[primary])]
    for cat, prob in CO_PURCHASE[primary]:
        if rng.random() < prob:
            product = pick(rng, BY_CATEGORY[cat])
            if product not in chosen:
                chosen.append(product)
    return [(p, 1 if p.price > 30000 or rng.random() < 0.7 else rng.randint(2, 3)) for p in chosen]


def next_purchase(rng: random.Random, person: Person, t: dt.datetime, lam: float) -> Order | None:
    """Next purchase after t by thinning a Poisson process with seasonal rate; None past END."""
    while True:
        t = t + dt.timedelta(days=rng.expovariate(lam * S_MAX))
        if t > END:
            return None
        channel = "online" if rng.random() < person.online_share else "pos"
        if rng.random() * S_MAX < seasonality(t, channel, person.country):
            return make_order(rng, person, t, channel)


def make_order(rng: random.Random, person: Person | None, t: dt.datetime, channel: str) -> Order:
    """An order on the day of t with time of day, store and basket."""
    country = person.country if person else "CN"
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    at = with_time_of_day(rng, day, channel, country)
    store = None
    if channel == "pos":
        home = person.home_store if person else None
        store = home if home and rng.random() < 0.92 else pick(rng, STORES)
    return Order(person, at, channel, store, basket(rng, at))


def simulate_person(rng: random.Random, person: Person) -> None:
    """BG/NBD-like life: gamma purchase rate, beta dropout after every purchase."""
    # purchases per day while active; regulars who can walk into a store buy more often
    lam = rng.gammavariate(0.9, RATE_MEAN / 0.9) * (1 + POS_RATE_BOOST * (1 - person.online_share))
    lam = min(lam, MAX_RATE)
    p_drop = rng.betavariate(DROP_A, DROP_B)
    order: Order | None
    if person.signup >= START:  # first purchase at signup (in store) or soon after (online)
        channel = "pos" if person.channel == "store" else "online"
        delay = dt.timedelta(hours=0 if channel == "pos" else rng.expovariate(1 / 30))
        order = make_order(rng, person, person.signup + delay, channel)
    elif rng.random() < 0.3:
        order = None  # an older customer who lapsed before the data window
    else:
        order = next_purchase(rng, person, START, lam)
    while order is not None and order.at <= END:
        person.orders.append(order)
        if rng.random() < p_drop:
            return
        order = next_purchase(rng, person, order.at, lam)


def assign_loyalty(rng: random.Random, people: list[Person]) -> None:
    """Loyalty members: more likely the more a person buys and if acquired in store."""
    for p in people:
        if p.prospect:
            continue
        n = len(p.orders)
        prob = 0.06 + 0.7 * min(n, 12) / 12 + (0.1 if p.channel == "store" else 0)
        if n and rng.random() < prob:
            p.loyalty = True
            anchor = p.orders[min(1, n - 1)].at
            p.loyalty_join = anchor + dt.timedelta(minutes=rng.randint(1, 60 * 24 * 20))
            p.loyalty_join = min(p.loyalty_join, END - dt.timedelta(hours=1))


DISCOUNT_CODES = [("DOUBLE11", 15, 11), ("XMAS15", 15, 12), ("618SALE", 12, 6)]


def price_order(rng: random.Random, order: Order) -> None:
    """Discounts, then final status (refunds, voids, pending)."""
    p = order.person
    code, pct = "", 0
    for c, pc, month in DISCOUNT_CODES:
        if order.at.month == month and rng.random() < 0.45:
            code, pct = c, pc
    if p and p.orders and p.orders[0] is order and order.channel == "online" and rng.random() < 0.5:
        code, pct = "WELCOME10", 10
    if not code and rng.random() < 0.04:
        code, pct = f"SPRING{order.at.year}" if order.at.month <= 2 else "FRIENDS5", 5
    if order.channel == "pos":
        code = ""  # tills print no code; members get 5% off in store
        if p and p.loyalty_join and order.at >= p.loyalty_join:
            pct = max(pct, 5)
    order.discount_code = code
    order.discount = order.gross * pct // 100
    r = rng.random()
    if order.channel == "pos":
        order.status = "refunded" if r < 0.03 else "completed"
    elif days_to(order.at, END) < 2 and r < 0.5:
        order.status = "pending"
    else:
        order.status = pick(
            rng, ["completed", "refunded", "partially_refunded", "voided"], [93, 4, 2, 1]
        )


def walk_in_orders(rng: random.Random, n: int) -> list[Order]:
    """Anonymous POS receipts: shoppers who gave no member phone."""
    orders = []
    while len(orders) < n:
        t = random_datetime(rng, START, END)
        if rng.random() * S_MAX < seasonality(t, "pos", "CN"):
            orders.append(make_order(rng, None, t, "pos"))
    return orders


def simulate(rng: random.Random, people: list[Person]) -> list[Order]:
    """Every order of the two years, sorted by time, with ids assigned."""
    for p in people:
        if not p.prospect:
            simulate_person(rng, p)
    assign_loyalty(rng, people)
    member_pos = sum(o.channel == "pos" for p in people for o in p.orders)
    orders = [o for p in people for o in p.orders] + walk_in_orders(rng, member_pos // 3)
    orders.sort(key=lambda o: (o.at, o.person.pid if o.person else "", o.channel))
    for o in orders:
        price_order(rng, o)
    assign_order_ids(orders)
    return orders


def assign_order_ids(orders: list[Order]) -> None:
    """小票号 = store code + date + daily sequence; Shopify Name = #10001 onwards."""
    seq: dict[tuple[str, dt.date], int] = {}
    name = 10000
    for o in orders:
        if o.channel == "pos":
            key = (o.store or "", o.at.date())
            seq[key] = seq.get(key, 0) + 1
            o.order_id = f"{STORE_CODES[o.store or '']}{o.at:%y%m%d}{seq[key]:04d}"
        else:
            name += 1
            o.order_id = f"#{name}"


# --------------------------------------------------------------------------- rows, dirt, writing


@dataclass
class Row:
    """One output row, its truth record and any dirt planted in it."""

    values: list
    record: tuple[str, str, str] | None = None  # (record_type, record_id, person_id)
    kind: str = ""
    detail: str = ""
    dup_of: Row | None = None
    line: int = 0
    eligible: bool = True


@dataclass
class Table:
    """A file's header and rows, ready to write."""

    path: str
    header: list[str]
    rows: list[Row]
    source: str


Planter = Callable[[Row, random.Random], str | None]


def setter(header: list[str], column: str, values: list[str]) -> Planter:
    """A planter that overwrites one column with one of values."""
    idx = header.index(column)

    def plant(row: Row, rng: random.Random) -> str | None:
        if row.values[idx] in ("", None):
            return None
        row.values[idx] = pick(rng, values)
        return f"{column}={row.values[idx]}"

    return plant


def plant_dirt(table: Table, rng: random.Random, planters: dict[str, Planter]) -> None:
    """Mutate ~DIRT_RATE of the eligible rows, cycling through planters; add duplicate rows."""
    kinds = [*planters, "duplicate_row"]
    eligible = [r for r in table.rows if r.eligible]
    n = max(len(kinds), round(DIRT_RATE * len(table.rows)))
    candidates = rng.sample(eligible, min(len(eligible), n * 3))
    planted = 0
    dups: dict[int, Row] = {}
    for row in candidates:
        if planted == n:
            break
        kind = kinds[planted % len(kinds)]
        if kind == "duplicate_row":
            dups[id(row)] = Row(list(row.values), kind=kind, dup_of=row, eligible=False)
            planted += 1
            continue
        detail = planters[kind](row, rng)
        if detail is not None:
            row.kind, row.detail = kind, detail
            if kind == "missing_id":
                row.record = None
            planted += 1
    out: list[Row] = []
    for row in table.rows:
        out.append(row)
        if id(row) in dups:
            out.append(dups[id(row)])
    table.rows = out


class _Chunks(list):
    """A write() target for csv.writer that keeps each write as a separate chunk."""

    def write(self, text: str) -> None:
        self.append(text)


def render_csv(
    rows: Iterable[list[str]], first_line: int, terminator: str
) -> tuple[str, list[int]]:
    """CSV text and the 1-based physical start line of every row (embedded newlines counted)."""
    chunks = _Chunks()
    writer = csv.writer(chunks, lineterminator=terminator)
    starts = []
    line = first_line
    for values in rows:
        done = len(chunks)
        writer.writerow(values)
        starts.append(line)
        line += sum(chunk.count("\n") for chunk in chunks[done:])
    return "".join(chunks), starts


def write_csv(
    out: Path,
    table: Table,
    *,
    encoding: str = "utf-8",
    terminator: str = "\n",
    preamble: list[list[str]] | None = None,
    trailer: list[list[str]] | None = None,
    gz: bool = False,
) -> None:
    """Write a table as CSV and set each row's physical line number."""
    head = [*(preamble or []), table.header]
    text_head, _ = render_csv(head, 1, terminator)
    body, starts = render_csv([r.values for r in table.rows], len(head) + 1, terminator)
    text_tail, _ = render_csv(trailer or [], 0, terminator)
    for row, line in zip(table.rows, starts, strict=True):
        row.line = line
    data = (text_head + body + text_tail).encode(encoding)
    if gz:
        data = gzip.compress(data, compresslevel=9, mtime=0)
    path = out / table.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def money(fen: int) -> str:
    """1234.00 style."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def fullwidth(s: str) -> str:
    """Digits to full-width (１３８…), as some POS keyboards and IMEs type them."""
    return s.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})


def phone_variant(rng: random.Random, e164: str, weights: list[float] | None = None) -> str:
    """The same number as a person or a system might type it."""
    if e164.startswith("+86"):
        n = e164[3:]
        forms = [
            n,
            f"{n[:3]} {n[3:7]} {n[7:]}",
            f"+86 {n}",
            f"+86-{n[:3]}-{n[3:7]}-{n[7:]}",
            fullwidth(n),
            e164,
        ]
        return pick(rng, forms, weights or [40, 15, 15, 10, 5, 15])
    if e164.startswith("+1"):
        n = e164[2:]
        forms = [
            f"+1 {n[:3]}-{n[3:6]}-{n[6:]}",
            f"({n[:3]}) {n[3:6]}-{n[6:]}",
            f"{n[:3]}.{n[3:6]}.{n[6:]}",
            e164,
        ]
    elif e164.startswith("+44"):
        n = e164[3:]
        forms = [f"+44 {n[:4]} {n[4:]}", f"0{n[:4]} {n[4:]}", e164]
    elif e164.startswith("+49"):
        n = e164[3:]
        forms = [f"+49 {n[:3]} {n[3:]}", f"0{n[:3]} {n[3:]}", f"+49 (0){n[:3]} {n[3:7]} {n[7:]}"]
    else:
        n = e164[3:]
        forms = [f"+61 {n[:3]} {n[3:6]} {n[6:]}", f"0{n[:3]} {n[3:6]} {n[6:]}", e164]
    return pick(rng, forms)


def email_variant(rng: random.Random, email: str) -> str:
    """Mostly as stored; sometimes with capitals typed by the customer."""
    if rng.random() >= 0.12:
        return email
    local, domain = email.split("@")
    parts = local.replace(".", " . ").replace("_", " _ ").split(" ")
    local = "".join(part.capitalize() for part in parts)
    return f"{local}@{domain.upper() if rng.random() < 0.3 else domain.capitalize()}"


def name_variant(rng: random.Random, p: Person, *, latin_ok: bool = True) -> str:
    """The person's name as typed in some system: 張偉, Zhang Wei, Wei Zhang, Jonathon Smith."""
    if p.chinese:
        forms = [p.name, p.surname[1] + p.given[1]]
        weights = [80, 8]
        if latin_ok:
            forms += [f"{p.surname[2]} {p.given[2]}", f"{p.given[2]} {p.surname[2]}"]
            weights += [7, 5]
        return pick(rng, forms, weights)
    first = p.given[1] if rng.random() < 0.06 else p.given[0]
    last = p.surname[1] if rng.random() < 0.04 else p.surname[0]
    return f"{first} {last}"


# --------------------------------------------------------------------------- POS


POS_HEADER = columns(
    "小票号,门店,交易时间,会员手机号,会员姓名,件数,应收金额,优惠金额,实收金额,支付方式,状态"
)


def pos_time(at: dt.datetime) -> str:
    """2025/1/3 14:05."""
    return f"{at.year}/{at.month}/{at.day} {at.hour:02d}:{at.minute:02d}"


def pos_money(rng: random.Random, fen: int, yen_style: bool) -> str:
    """1234.00, or ￥1,234.00 from the older tills."""
    if not yen_style:
        return money(fen)
    return f"￥{fen // 100:,}.{fen % 100:02d}"


def pos_rows(rng: random.Random, orders: list[Order]) -> list[Row]:
    """One row per receipt."""
    rows = []
    for o in orders:
        p = o.person
        if p is None:
            phone, name = pick(rng, ["", "无"], [75, 25]), ""
            record = ("receipt", o.order_id, "")  # walk-in: no person known
        else:
            phone = PLACEHOLDER_PHONE if rng.random() < 0.004 else phone_variant(rng, p.phone)
            name = "" if rng.random() < 0.25 else name_variant(rng, p, latin_ok=False)
            record = ("receipt", o.order_id, p.pid)
        yen = o.store in ("北京三里屯店",) and o.at < dt.datetime(2025, 6, 1)
        pay = pick(rng, ["微信支付", "支付宝", "银联卡", "现金", "会员储值"], [45, 30, 10, 5, 10])
        row = Row(
            [
                o.order_id,
                o.store,
                pos_time(o.at),
                phone,
                name,
                str(sum(q for _, q in o.items)),
                pos_money(rng, o.gross, yen),
                pos_money(rng, o.discount, yen),
                pos_money(rng, o.gross - o.discount, yen),
                pay,
                "已退款" if o.status == "refunded" else "已完成",
            ],
            record,
        )
        mark_placeholder(row, phone, "会员手机号")
        rows.append(row)
    return rows


def pos_tables(rng: random.Random, orders: list[Order]) -> list[Table]:
    """Two yearly POS files with dirt planted."""
    pos = [o for o in orders if o.channel == "pos"]
    tables = []
    for path, part in [
        ("pos/pos_receipts_2024-2025.csv", [o for o in pos if o.at < POS_SPLIT]),
        ("pos/pos_receipts_2026.csv", [o for o in pos if o.at >= POS_SPLIT]),
    ]:
        t = Table(path, POS_HEADER, pos_rows(rng, part), "pos")
        h = t.header
        plant_dirt(
            t,
            rng,
            {
                "bad_date": setter(h, "交易时间", ["2025/13/45 10:00", "昨天", "2025/2/30 25:61"]),
                "placeholder": setter(h, "实收金额", ["N/A", "-", "null", "无"]),
                "negative_amount": negative_money(h, "实收金额", "状态", "已完成"),
                "future_date": setter(h, "交易时间", ["2031/3/8 15:20", "2031/11/11 00:05"]),
                "missing_id": setter(h, "小票号", [""]),
            },
        )
        tables.append(t)
    return tables


def negative_money(
    header: list[str], column: str, status_col: str | None = None, ok_status: str = ""
) -> Planter:
    """A planter that negates an amount, only on rows whose status is ok_status (not a refund)."""
    idx = header.index(column)
    sidx = header.index(status_col) if status_col else None

    def plant(row: Row, rng: random.Random) -> str | None:
        value = row.values[idx]
        if sidx is not None and row.values[sidx] != ok_status:
            return None
        if not value or value.startswith("-") or value in ("0", "0.00"):
            return None
        row.values[idx] = "-" + value
        return f"{column}={row.values[idx]}"

    return plant


# --------------------------------------------------------------------------- Shopify


SHOP_HEADER = columns(
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Accepts Marketing,Currency,"
    "Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Created at,Lineitem quantity,"
    "Lineitem name,Lineitem price,Lineitem sku,Billing Name,Billing City,Billing Zip,"
    "Billing Province,Billing Country,Billing Phone,Notes,Cancelled at,Refunded Amount,Id,"
    "Phone,Source"
)
FIN_STATUS = {
    "completed": "paid",
    "refunded": "refunded",
    "partially_refunded": "partially_refunded",
    "pending": "pending",
    "voided": "voided",
}
NOTES = [
    "Gift wrap please",
    "请在周末送货\n谢谢",
    "Please leave at the door",
    "Happy birthday Mum!\nLove, J.",
    "送人的，不要放发票",
    "utm_source=xiaohongshu\nutm_campaign=618",
    "请用顺丰快递",
    "Can you include a card?\nIt's for my teacher.",
]


@dataclass
class ShopView:
    """What one export shows of an order (status may differ between the two exports)."""

    status: str
    fulfillment: str


def shop_time(at: dt.datetime) -> str:
    """2025-05-12 12:54:07 +0800."""
    return f"{at:%Y-%m-%d %H:%M:%S} +0800"


def usd(fen: int) -> int:
    """A USD list price in cents ending in .99 for a CNY price in fen (about 7.1 CNY per USD)."""
    return max(99, round(fen / 7.1 / 100) * 100 - 1)


@dataclass
class ShopOrder:
    """An online order with its derived Shopify fields (stable across both exports)."""

    order: Order
    email: str
    billing_name: str
    phone: str
    zip_code: str
    note: str
    shopify_id: int
    source: str
    currency: str
    lines: list[tuple[Product, int, int]]  # product, quantity, unit price (minor units)
    shipping: int
    taxes: int
    discount: int

    def discount_code(self) -> str:
        """The code shown in the export (only when it gave a discount)."""
        return self.order.discount_code if self.discount else ""


def shop_order(rng: random.Random, o: Order, shopify_id: int) -> ShopOrder:
    """Derive everything that does not depend on the export snapshot."""
    p = o.person
    assert p is not None
    cny = p.country == "CN"
    lines = [(prod, q, prod.price if cny else usd(prod.price)) for prod, q in o.items]
    sub = sum(q * price for _, q, price in lines)
    discount = sub * (o.discount * 100 // max(1, o.gross)) // 100
    if cny:
        shipping = 0 if sub - discount >= 9900 else 1000
        taxes = (sub - discount + shipping) * 13 // 113
    else:
        shipping = 0 if sub - discount >= 7900 else 1200
        taxes = 0
    if rng.random() < 0.003:
        email = pick(rng, PLACEHOLDER_EMAILS)  # typed by a customer who wants no mail
    else:
        email = email_variant(rng, p.email) if p.email else ""  # phone-only checkout
    zip_code = city_zip(rng, p.city)
    if cny and rng.random() < 0.3:
        zip_code = "'" + zip_code
    return ShopOrder(
        order=o,
        email=email,
        billing_name=name_variant(rng, p),
        phone="" if p.email and rng.random() < 0.15 else phone_variant(rng, p.phone),
        zip_code=zip_code,
        note=pick(rng, NOTES) if rng.random() < 0.05 else "",
        shopify_id=shopify_id,
        source=pick(rng, ["web", "web", "web", "shopify_draft_order", "580111"]),
        currency="CNY" if cny else "USD",
        lines=lines,
        shipping=shipping,
        taxes=taxes,
        discount=discount,
    )


def city_zip(rng: random.Random, city: City) -> str:
    """A postcode in the city's format."""
    if city.country == "CN":
        return f"{city.zip_prefix}{rng.randint(0, 999):03d}"
    if city.country == "GB":
        letter = pick(rng, list("ABDEFGHJLNPQRSTUWXYZ"))
        return f"{city.zip_prefix}{rng.randint(1, 19)} {rng.randint(1, 9)}{letter}A"
    if city.country == "US":
        return f"{city.zip_prefix}{rng.randint(1, 99):02d}"
    if city.country == "DE":
        return f"{city.zip_prefix}{rng.randint(100, 999)}"
    return f"{city.zip_prefix}{rng.randint(0, 99):02d}"


def shop_rows(so: ShopOrder, view: ShopView) -> list[Row]:
    """Shopify rows of one order: full first row, continuation rows with line items only."""
    o, p = so.order, so.order.person
    assert p is not None
    sub = sum(q * price for _, q, price in so.lines) - so.discount
    total = sub + so.shipping + (so.taxes if so.currency == "USD" else 0)
    refunded = {"refunded": total, "partially_refunded": total // 3}.get(view.status, 0)
    paid = (
        "" if view.status in ("pending", "voided") else shop_time(o.at + dt.timedelta(seconds=17))
    )
    cancelled = shop_time(o.at + dt.timedelta(hours=5)) if view.status == "voided" else ""
    rows = []
    for i, (prod, q, price) in enumerate(so.lines):
        item = [
            str(q),
            f"{prod.name_en} {prod.name_zh}" if so.currency == "CNY" else prod.name_en,
            money(price),
            prod.sku,
        ]
        if i == 0:
            values = [
                o.order_id,
                so.email,
                FIN_STATUS[view.status],
                paid,
                view.fulfillment,
                "yes" if p.accepts_marketing else "no",
                so.currency,
                money(sub),
                money(so.shipping),
                money(so.taxes),
                money(total),
                so.discount_code(),
                money(so.discount),
                shop_time(o.at),
                *item,
                so.billing_name,
                p.city.en,
                so.zip_code,
                p.city.province,
                p.country,
                so.phone,
                so.note,
                cancelled,
                money(refunded),
                str(so.shopify_id),
                so.phone,
                so.source,
            ]
            record = ("order", o.order_id, p.pid)
        else:
            values = [o.order_id, so.email, *[""] * 11, shop_time(o.at), *item, *[""] * 12]
            record = None
        rows.append(Row(values, record))
    return rows


def shop_views(rng: random.Random, so: ShopOrder) -> tuple[ShopView, ShopView | None]:
    """Final view (latest export) and, for orders in both exports, the older export's view."""
    o = so.order
    fulfilled = "unfulfilled" if days_to(o.at, END) < 3 else "fulfilled"
    if o.status in ("pending", "voided"):
        fulfilled = "unfulfilled"
    elif o.status == "partially_refunded" and rng.random() < 0.5:
        fulfilled = "partial"
    final = ShopView(o.status, fulfilled)
    if not EXPORT2_START <= o.at <= EXPORT1_END:
        return final, None
    older = ShopView(o.status, fulfilled)
    if o.status in ("refunded", "partially_refunded") and rng.random() < 0.5:
        older = ShopView("completed", "fulfilled")  # refunded only after the first export
    if days_to(o.at, EXPORT1_END) < 3 and o.status == "completed":
        older = ShopView("pending" if rng.random() < 0.4 else "completed", "unfulfilled")
    return final, older


def shop_tables(rng: random.Random, orders: list[Order]) -> tuple[list[Table], int]:
    """Two overlapping Shopify exports (newest order first) and the number of changed orders."""
    export1: list[Row] = []
    export2: list[Row] = []
    changed = 0
    shopify_id = 5_801_234_000_000
    for o in [o for o in orders if o.channel == "online"]:
        shopify_id += rng.randint(1_000, 90_000)
        so = shop_order(rng, o, shopify_id)
        final, older = shop_views(rng, so)
        single = len(so.lines) == 1
        for export, view, included in [
            (export1, older or final, o.at <= EXPORT1_END),
            (export2, final, o.at >= EXPORT2_START),
        ]:
            if included:
                rows = shop_rows(so, view)
                for r in rows:
                    r.eligible = older is None and single
                mark_placeholder(rows[0], so.email, "Email")
                export.extend(reversed(rows))
        changed += older is not None and older != final
    tables = [
        Table("shop/orders_export_1.csv.gz", SHOP_HEADER, export1[::-1], "shop"),
        Table("shop/orders_export_2.csv.gz", SHOP_HEADER, export2[::-1], "shop"),
    ]
    for t in tables:
        h = t.header
        plant_dirt(
            t,
            rng,
            {
                "bad_date": setter(h, "Created at", ["2025-13-45 10:00:00 +0800", "昨天"]),
                "placeholder": setter(h, "Total", ["N/A", "-", "null"]),
                "negative_amount": negative_money(h, "Total", "Financial Status", "paid"),
                "future_date": setter(h, "Created at", ["2031-05-12 12:54:07 +0800"]),
                "missing_id": setter(h, "Name", [""]),
            },
        )
    return tables, changed


def mark_placeholder(row: Row, value: str, column: str) -> None:
    """Record a placeholder contact point (test@test.com, 13800000000 …) as dirt."""
    if value in (*PLACEHOLDER_EMAILS, PLACEHOLDER_PHONE):
        row.kind, row.detail, row.eligible = "placeholder_contact", f"{column}={value}", False


# --------------------------------------------------------------------------- CRM


CRM_HEADER = columns(
    "Record ID,First Name,Last Name,Email,Phone Number,Create Date,Lifecycle Stage,Lead Status,"
    "City,Country/Region,Gender,Date of Birth,Loyalty Member,Referred By,Original Source"
)


def crm_contact(rng: random.Random, p: Person, created: dt.datetime, duplicate: bool) -> list:
    """One HubSpot contact row (Record ID filled in later)."""
    if p.chinese:
        r = rng.random()
        if r < 0.10:
            first, last = p.given[2], p.surname[2]
        elif r < 0.15:
            first, last = p.given[1], p.surname[1]
        elif r < 0.17:
            first, last = p.name, ""
        else:
            first, last = p.given[0], p.surname[0]
    else:
        first, last = name_variant(rng, p).split(" ", 1)
    if p.email is None:
        email = "none@none.com" if rng.random() < 0.08 else ""
    else:
        email = "" if duplicate and rng.random() < 0.3 else email_variant(rng, p.email)
    phone = "" if rng.random() < 0.1 else phone_variant(rng, p.phone, [30, 20, 20, 15, 5, 10])
    if rng.random() < 0.004:
        phone = PLACEHOLDER_PHONE
    if p.prospect:
        stage = pick(rng, ["Subscriber", "Lead", "Marketing Qualified Lead"], [40, 45, 15])
        status = pick(
            rng, ["NEW", "OPEN", "IN_PROGRESS", "ATTEMPTED_TO_CONTACT", "UNQUALIFIED", "BAD_TIMING"]
        )
    else:
        stage, status = "Customer", ("" if rng.random() < 0.85 else "CONNECTED")
    zh_fields = p.chinese and rng.random() < 0.6
    gender = {"f": ("Female", "女"), "m": ("Male", "男")}[p.gender][zh_fields]
    return [
        None,
        first,
        last,
        email,
        phone,
        f"{created:%Y-%m-%d %H:%M}",
        stage,
        status,
        p.city.zh if zh_fields else p.city.en,
        COUNTRY_NAMES[p.country][zh_fields],
        "" if rng.random() < 0.3 else gender,
        "" if rng.random() < 0.5 else p.birth.isoformat(),
        "yes" if p.loyalty else "no",
        None,
        HUBSPOT_SOURCE[p.channel],
    ]


def crm_table(rng: random.Random, people: list[Person]) -> Table:
    """HubSpot contacts: most people, every prospect, some people twice."""
    entries: list[tuple[dt.datetime, str, Person, list]] = []
    for p in people:
        in_crm = p.prospect or rng.random() < (0.6 if p.channel == "store" else 0.95)
        if not in_crm:
            continue
        entries.append((p.signup, p.pid, p, crm_contact(rng, p, p.signup, False)))
        if rng.random() < 0.04:
            later = random_datetime(rng, p.signup, END)
            entries.append((later, p.pid + "b", p, crm_contact(rng, p, later, True)))
    entries.sort(key=lambda e: (e[0], e[1]))
    record_id = 1000
    first_id: dict[str, int] = {}
    rows = []
    for _, _, p, values in entries:
        record_id += rng.randint(1, 40)
        values[0] = record_id
        first_id.setdefault(p.pid, record_id)
        row = Row(values, ("contact", str(record_id), p.pid))
        mark_placeholder(row, values[3], "Email")
        mark_placeholder(row, values[4], "Phone Number")
        rows.append((p, row))
    for p, row in rows:
        if p.referrer is not None and p.referrer_recorded and p.referrer.pid in first_id:
            row.values[13] = first_id[p.referrer.pid]
    table = Table("crm/contacts.xlsx", CRM_HEADER, [r for _, r in rows], "crm")
    h = table.header
    plant_dirt(
        table,
        rng,
        {
            "bad_date": setter(h, "Create Date", ["2025-13-45 09:14", "昨天", "2025-02-30 25:61"]),
            "placeholder": setter(h, "Email", ["N/A", "-", "null", "无", "未知"]),
            "future_date": setter(h, "Create Date", ["2031-03-12 09:14"]),
            "missing_id": clear_cell(h, "Record ID"),
        },
    )
    return table


def clear_cell(header: list[str], column: str) -> Planter:
    """A planter that empties a cell of any type (the XLSX Record ID is a number)."""
    idx = header.index(column)

    def plant(row: Row, rng: random.Random) -> str | None:
        row.values[idx] = None
        return f"{column}="

    return plant


def write_xlsx(out: Path, table: Table) -> None:
    """One sheet 'Contacts', header in row 1; each row's line = its sheet row number."""
    path = out / table.path
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"created": FIXED_CREATED, "author": "crmkit sample data"})
    sheet = workbook.add_worksheet("Contacts")
    bold = workbook.add_format({"bold": True})
    sheet.write_row(0, 0, table.header, bold)
    for i, row in enumerate(table.rows, start=1):
        row.line = i + 1
        for j, value in enumerate(row.values):
            if value is None or value == "":
                continue
            if isinstance(value, int):
                sheet.write_number(i, j, value)
            else:
                sheet.write_string(i, j, value)
    workbook.close()


# --------------------------------------------------------------------------- Zendesk


DESK_HEADER = columns(
    "Id,Requester,Requester email,Subject,Tags,Status,Priority,Via,Ticket type,Created at,"
    "Updated at,Solved at,Satisfaction Score,First reply time in minutes,"
    "Full resolution time in minutes,Ticket Category [list]"
)
TICKET_SUBJECTS = {
    "delivery": (
        ["我的订单什么时候发货？", "快递显示已签收但我没收到", "物流信息一直不更新"],
        [
            "Where is my order?",
            "Tracking hasn't updated in a week",
            "Package marked delivered but not received",
        ],
    ),
    "product_question": (
        ["龙井怎么冲泡比较好？", "紫砂壶第一次使用需要开壶吗？", "礼盒可以加贺卡吗？"],
        [
            "How should I brew the Longjing?",
            "Is the glass teapot dishwasher safe?",
            "Do you ship to Canada?",
        ],
    ),
    "refund": (
        ["申请退款", "退货地址是哪里？", "退款什么时候到账？"],
        ["Refund request", "How do I return an item?", "When will I get my refund?"],
    ),
    "product_quality": (
        ["收到的杯子有裂痕", "茶叶受潮了", "茶壶漏水"],
        ["Cup arrived chipped", "The tea tastes stale", "Teapot lid doesn't fit"],
    ),
    "payment": (
        ["支付宝付款失败", "重复扣款了", "发票怎么开？"],
        ["Card charged twice", "Payment declined at checkout", "Need a VAT invoice"],
    ),
    "account": (
        ["会员积分没有到账", "想修改绑定的手机号", "登录不了账户"],
        ["Loyalty points missing", "Can't log in to my account", "Change my email address"],
    ),
    "complaint": (
        ["投诉：客服态度很差", "投诉：发错货了", "投诉：快递员态度恶劣", "投诉：退款拖了一个月"],
        [
            "Complaint: wrong item sent",
            "Complaint: rude delivery driver",
            "Very disappointed with customer service",
            "Complaint: refund still not received",
        ],
    ),
}
TICKET_CATEGORY_W = {
    "delivery": 30,
    "product_question": 20,
    "refund": 13,
    "product_quality": 10,
    "payment": 7,
    "account": 8,
    "complaint": 12,
}
TICKET_TYPE = {
    "delivery": "incident",
    "product_question": "question",
    "refund": "task",
    "product_quality": "incident",
    "payment": "incident",
    "account": "question",
    "complaint": "problem",
}


def ticket_values(rng: random.Random, p: Person, at: dt.datetime, order: Order | None) -> list[str]:
    """One Zendesk ticket row (Id filled in later)."""
    cat = pick(rng, list(TICKET_CATEGORY_W), list(TICKET_CATEGORY_W.values()))
    zh = p.chinese and rng.random() < 0.9
    subject = pick(rng, TICKET_SUBJECTS[cat][0 if zh else 1])
    if (
        order is not None
        and order.channel == "online"
        and cat in ("delivery", "refund", "complaint")
        and rng.random() < 0.4
    ):
        subject += f" {order.order_id}" if not zh else f"（订单 {order.order_id}）"
    if p.chinese:
        requester = pick(
            rng,
            [p.name, f"{p.surname[2]} {p.given[2]}".lower(), f"{p.surname[2]} {p.given[2]}"],
            [50, 40, 10],
        )
    else:
        requester = name_variant(rng, p)
    email = email_variant(rng, p.email) if p.email else ""
    tags = [cat, "zh" if zh else "en"] + (["vip"] if p.loyalty else [])
    if cat == "complaint" or (cat in ("delivery", "product_quality") and rng.random() < 0.15):
        tags.append("complaint")
    via = pick(
        rng,
        ["WeChat", "Phone call", "Chat", "Web form", "Email"],
        [45, 15, 20, 10, 10] if p.chinese else [0, 5, 25, 25, 45],
    )
    first_reply = max(
        1, int(rng.lognormvariate(math.log(20 if via in ("Chat", "WeChat") else 150), 1.0))
    )
    resolution = first_reply + int(rng.lognormvariate(math.log(1500), 1.1))
    solved_at = at + dt.timedelta(minutes=resolution)
    age_end = days_to(solved_at, END)
    if age_end < 0:
        status, solved, updated = pick(rng, ["new", "open", "pending"], [20, 50, 30]), "", at
        resolution_txt, sat = "", "Unoffered"
        if status == "new":
            first_reply_txt = ""
        else:
            first_reply_txt = str(min(first_reply, int((END - at).total_seconds() // 60)))
            updated = at + dt.timedelta(minutes=int(first_reply_txt))
    else:
        status = "closed" if age_end > 4 else "solved"
        solved, updated = (
            desk_time(solved_at),
            solved_at + dt.timedelta(days=4 if status == "closed" else 0),
        )
        resolution_txt, first_reply_txt = str(resolution), str(first_reply)
        bad = 25 if "complaint" in tags else 8
        sat = pick(rng, ["Unoffered", "Offered", "Good", "Bad"], [20, 35, 45 - bad // 2, bad])
    priority = pick(
        rng,
        ["low", "normal", "high", "urgent"],
        [5, 50, 35, 10] if "complaint" in tags else [20, 62, 14, 4],
    )
    return [
        "",
        requester,
        email,
        subject,
        " ".join(tags),
        status,
        priority,
        via,
        TICKET_TYPE[cat],
        desk_time(at),
        desk_time(min(updated, END)),
        solved,
        sat,
        first_reply_txt,
        resolution_txt,
        cat,
    ]


def desk_time(at: dt.datetime) -> str:
    """2025-03-04 10:11:12 +0800."""
    return f"{at:%Y-%m-%d %H:%M:%S} +0800"


def desk_table(rng: random.Random, people: list[Person]) -> Table:
    """~3,000 support tickets, mostly about recent orders."""
    buyers = [p for p in people if p.orders]
    prospects = [p for p in people if p.prospect]
    weights = [len(p.orders) ** 0.6 for p in buyers]
    entries = []
    while len(entries) < 3000:
        if rng.random() < 0.05:
            p, order = pick(rng, prospects), None
            at = random_datetime(rng, max(p.signup, START), END)
        else:
            p = pick(rng, buyers, weights)
            order = pick(rng, p.orders)
            at = order.at + dt.timedelta(minutes=rng.randint(30, 60 * 24 * 12))
        if START <= at <= END:
            entries.append((at, p.pid, p, ticket_values(rng, p, at, order)))
    entries.sort(key=lambda e: (e[0], e[1]))
    rows = []
    for n, (_, _, p, values) in enumerate(entries, start=1001):
        values[0] = str(n)
        rows.append(Row(values, ("ticket", str(n), p.pid)))
    table = Table("support/tickets.csv", DESK_HEADER, rows, "desk")
    h = table.header
    plant_dirt(
        table,
        rng,
        {
            "bad_date": setter(h, "Created at", ["2025-13-45 10:00:00 +0800", "昨天"]),
            "placeholder": setter(h, "Status", ["N/A", "-", "null"]),
            "negative_value": negative_money(h, "First reply time in minutes", "Status", "closed"),
            "future_date": setter(h, "Created at", ["2031-01-15 09:30:00 +0800"]),
            "missing_id": setter(h, "Id", [""]),
        },
    )
    return table


# --------------------------------------------------------------------------- survey


SURVEY_HEADER = columns(
    "Response ID,Submitted At,Email,Phone,Name,NPS,CSAT,CES,Product quality,Service,Price,"
    "Delivery,Comment"
)
COMMENTS = {
    "praise": (
        [
            "茶叶品质很好，包装精美，会回购",
            "客服很耐心，发货也快，好评",
            "紫砂壶做工精细，非常满意",
            "送朋友的礼盒很有面子，朋友很喜欢",
            "门店店员很专业，推荐的茶很好喝",
        ],
        [
            "Lovely tea, beautifully packed. Will order again!",
            "Great service and fast shipping.",
            "The teapot is gorgeous, excellent quality.",
            "Best oolong I've had outside Taiwan.",
            "Friendly staff and a wonderful gift box.",
        ],
    ),
    "mixed": (
        ["茶不错，就是价格有点贵", "整体还行，物流慢了两天", "东西可以，包装可以再好一点"],
        [
            "Good tea but a bit pricey.",
            "Nice products, delivery took a while.",
            "Decent quality, nothing special.",
        ],
    ),
    "delivery": (
        ["快递太慢了，等了一个多星期", "收到时杯子碎了，物流太差", "物流信息一直不更新，很着急"],
        [
            "Delivery took three weeks and the box was damaged.",
            "Package arrived late and one cup was broken.",
            "Shipping was painfully slow.",
        ],
    ),
    "price": (
        ["价格太贵，性价比不高", "双11优惠力度太小了", "运费太贵"],
        [
            "Too expensive for what you get.",
            "Shipping costs are outrageous.",
            "Prices went up again, not worth it.",
        ],
    ),
    "service": (
        ["客服回复太慢，问题一直没解决", "退款流程太麻烦了", "店员态度冷淡"],
        [
            "Customer service never answered my emails.",
            "The refund took forever.",
            "Support was rude and unhelpful.",
        ],
    ),
    "quality": (
        ["茶叶有陈味，和描述不符", "壶有裂纹，质量太差", "杯子用了一周就掉漆"],
        ["The tea tasted stale.", "My mug cracked after a week.", "Quality has gone down a lot."],
    ),
}
ATTR_MEANS = {"quality": 4.1, "service": 3.9, "price": 3.3, "delivery": 3.7}
ATTR_WEIGHTS = {"quality": 1.1, "service": 0.9, "price": 0.35, "delivery": 0.6}


def clip_round(x: float, lo: int, hi: int) -> int:
    """Round and clip to a scale."""
    return max(lo, min(hi, round(x)))


def survey_scores(rng: random.Random) -> tuple[dict[str, int], int, int, int]:
    """Attribute ratings that drive NPS (quality and service most, price least), CSAT and CES."""
    mood = rng.gauss(0, 0.6)
    attrs = {a: clip_round(m + mood + rng.gauss(0, 0.9), 1, 5) for a, m in ATTR_MEANS.items()}
    drive = sum(ATTR_WEIGHTS[a] * (attrs[a] - ATTR_MEANS[a]) for a in attrs)
    nps = clip_round(7.9 + 1.25 * drive + rng.gauss(0, 0.9), 0, 10)
    csat = clip_round(3.9 + 0.55 * drive + rng.gauss(0, 0.5), 1, 5)
    ces = clip_round(3.0 - 0.6 * drive + rng.gauss(0, 0.9), 1, 7)
    return attrs, nps, csat, ces


def survey_comment(rng: random.Random, attrs: dict[str, int], nps: int, zh: bool) -> str:
    """A comment matching the score; detractors complain about their worst attribute."""
    if rng.random() > 0.55:
        return ""
    if nps >= 9:
        key = "praise"
    elif nps >= 7:
        key = "mixed"
    else:
        key = min(attrs, key=lambda a: (attrs[a], a))
    return pick(rng, COMMENTS[key][0 if zh else 1])


def score_text(rng: random.Random, value: int) -> str:
    """A score, sometimes blank and sometimes the declared missing code -99."""
    r = rng.random()
    return "" if r < 0.03 else "-99" if r < 0.05 else str(value)


def survey_table(rng: random.Random, people: list[Person]) -> Table:
    """~2,500 post-purchase NPS/CSAT/CES responses."""
    orders = [o for p in people for o in p.orders if o.at < END - dt.timedelta(days=10)]
    entries = []
    seen: set[tuple[str, str]] = set()
    while len(entries) < 2500:
        o = pick(rng, orders)
        p = o.person
        assert p is not None
        if (p.pid, o.order_id) in seen or rng.random() < 0.3:
            continue
        seen.add((p.pid, o.order_id))
        at = o.at + dt.timedelta(days=rng.uniform(1, 10)) - dt.timedelta(hours=8)
        at = at.replace(microsecond=0)
        attrs, nps, csat, ces = survey_scores(rng)
        zh = p.chinese and rng.random() < 0.92
        email = email_variant(rng, p.email) if p.email and rng.random() < 0.8 else ""
        phone = phone_variant(rng, p.phone) if not email or rng.random() < 0.2 else ""
        name = name_variant(rng, p) if rng.random() < 0.5 else ""
        rid = "R_" + "".join(
            rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", k=15)
        )
        values = [
            rid,
            f"{at:%Y-%m-%dT%H:%M:%SZ}",
            email,
            phone,
            name,
            score_text(rng, nps),
            score_text(rng, csat),
            score_text(rng, ces),
            *[score_text(rng, attrs[a]) for a in ATTR_MEANS],
            survey_comment(rng, attrs, nps, zh),
        ]
        entries.append((at, rid, Row(values, ("response", rid, p.pid))))
    entries.sort(key=lambda e: (e[0], e[1]))
    table = Table("surveys/survey_responses.csv", SURVEY_HEADER, [e[2] for e in entries], "survey")
    h = table.header
    plant_dirt(
        table,
        rng,
        {
            "bad_date": setter(h, "Submitted At", ["2025-13-45T10:11:12Z", "昨天"]),
            "placeholder": setter(h, "NPS", ["N/A", "-", "null"]),
            "future_date": setter(h, "Submitted At", ["2031-06-18T08:00:00Z"]),
            "missing_id": setter(h, "Response ID", [""]),
        },
    )
    return table


# --------------------------------------------------------------------------- ads


GOOGLE_HEADER = columns("Day,Campaign,Currency code,Cost,Impr.,Clicks,Conversions")
# name, daily spend (CNY), cost per click, click-through rate, conversion rate
GOOGLE_CAMPAIGNS = [
    ("Search - Brand", 40.0, 4.0, 0.06, 0.08),
    ("Search - Tea Generic", 150.0, 5.5, 0.035, 0.03),
    ("Shopping - All Products", 230.0, 3.2, 0.012, 0.025),
    ("PMax - Gifts", 300.0, 2.8, 0.01, 0.02),
    ("Display - Remarketing", 70.0, 1.5, 0.004, 0.012),
]
META_HEADER = columns(
    "Reporting starts,Reporting ends,Campaign name,Ad set name,Day,Amount spent (CNY),"
    "Impressions,Reach,Link clicks,Results"
)
META_ADSETS = [
    ("Prospecting | Tea Lovers", "Lookalike 1% - Buyers", 130.0),
    ("Prospecting | Tea Lovers", "Interest - Tea & Wellness", 90.0),
    ("Retargeting | Cart Abandoners", "Viewed product 30d", 45.0),
    ("Retargeting | Cart Abandoners", "Added to cart 14d", 35.0),
    ("Holiday | Gifts", "Gift buyers", 250.0),
    ("Holiday | Gifts", "Broad 25-55", 175.0),
]


def ad_days() -> list[dt.datetime]:
    """Every day of the two years."""
    return [START + dt.timedelta(days=i) for i in range((END - START).days + 1)]


def ad_demand(day: dt.datetime) -> float:
    """Ad pressure follows the busiest market's seasonality, damped."""
    noon = day.replace(hour=12)
    return max(seasonality(noon, "online", "CN"), seasonality(noon, "online", "US")) ** 0.6


def gift_season(day: dt.datetime) -> bool:
    """Gift campaigns run around 双11/Christmas, Spring Festival, 618 and Mid-Autumn."""
    return (
        day.month in (11, 12, 1)
        or (day.month == 6 and day.day <= 20)
        or any(0 < days_to(day, m) <= 21 for m in MID_AUTUMN)
    )


def num(x: float, decimals: int = 0) -> str:
    """1,316.14 style (quoted by the CSV writer because of the comma)."""
    return f"{x:,.{decimals}f}"


def google_table(rng: random.Random) -> tuple[Table, list[list[str]]]:
    """Daily campaign rows plus the two total rows Google appends."""
    rows = []
    totals = [0.0, 0, 0, 0.0]
    for day in ad_days():
        demand = ad_demand(day)
        for name, spend, cpc, ctr, cvr in GOOGLE_CAMPAIGNS:
            if name.startswith("PMax") and not gift_season(day):
                continue
            paused = name.startswith("Display") and dt.datetime(2025, 4, 1) <= day < dt.datetime(
                2025, 6, 1
            )
            if paused:
                rows.append(Row([f"{day:%Y-%m-%d}", name, "CNY", "0.00", "0", "0", "--"]))
                continue
            cost = round(spend * demand * rng.lognormvariate(0, 0.18), 2)
            clicks = max(1, round(cost / (cpc * rng.lognormvariate(0, 0.1))))
            impr = round(clicks / (ctr * rng.lognormvariate(0, 0.15)))
            conv = round(clicks * cvr * rng.lognormvariate(0, 0.35) * 2) / 2
            totals = [totals[0] + cost, totals[1] + impr, totals[2] + clicks, totals[3] + conv]
            rows.append(
                Row(
                    [
                        f"{day:%Y-%m-%d}",
                        name,
                        "CNY",
                        num(cost, 2),
                        num(impr),
                        num(clicks),
                        num(conv, 2),
                    ]
                )
            )
    total = [num(totals[0], 2), num(totals[1]), num(totals[2]), num(totals[3], 2)]
    trailer = [["Total: Account", "--", "CNY", *total], ["Total: Campaigns", "--", "CNY", *total]]
    table = Table("ads/google_ads_campaigns.csv", GOOGLE_HEADER, rows, "ads")
    h = table.header
    plant_dirt(
        table,
        rng,
        {
            "bad_date": setter(h, "Day", ["2025-13-45", "昨天"]),
            "placeholder": setter(h, "Cost", ["N/A", "-", "null"]),
            "negative_amount": negative_money(h, "Cost"),
            "future_date": setter(h, "Day", ["2031-10-01"]),
        },
    )
    return table, trailer


def meta_table(rng: random.Random) -> Table:
    """Daily ad-set rows; the holiday campaign only runs in gift seasons."""
    rows = []
    for day in ad_days():
        demand = ad_demand(day)
        for campaign, adset, spend in META_ADSETS:
            if campaign.startswith("Holiday") and not gift_season(day):
                continue
            cost = round(spend * demand * rng.lognormvariate(0, 0.2), 2)
            impressions = round(cost / 0.045 * rng.lognormvariate(0, 0.15))
            reach = round(impressions / rng.uniform(1.2, 2.2))
            clicks = round(impressions * 0.011 * rng.lognormvariate(0, 0.2))
            results = round(clicks * 0.025 * rng.lognormvariate(0, 0.4))
            d = f"{day:%Y-%m-%d}"
            rows.append(
                Row(
                    [
                        d,
                        d,
                        campaign,
                        adset,
                        d,
                        f"{cost:.2f}",
                        str(impressions),
                        str(reach),
                        str(clicks),
                        str(results) if results else "",
                    ]
                )
            )
    table = Table("ads/meta_ads.csv", META_HEADER, rows, "ads")
    h = table.header
    plant_dirt(
        table,
        rng,
        {
            "bad_date": setter(h, "Day", ["2025-13-45", "昨天"]),
            "placeholder": setter(h, "Amount spent (CNY)", ["N/A", "-", "null"]),
            "negative_amount": negative_money(h, "Amount spent (CNY)"),
            "future_date": setter(h, "Day", ["2031-10-01"]),
        },
    )
    return table


# --------------------------------------------------------------------------- events


EVENT_COLUMNS = columns(
    "event_id,customer_email,customer_phone,occurred_at,event_type,channel,page"
)
EMAIL_CAMPAIGNS = [
    (dt.datetime(2024, 10, 28, 10), "double11-2024"),
    (dt.datetime(2024, 12, 5, 10), "winter-gifts-2024"),
    (dt.datetime(2025, 1, 8, 10), "spring-festival-2025"),
    (dt.datetime(2025, 3, 20, 10), "new-harvest-2025"),
    (dt.datetime(2025, 5, 28, 10), "618-2025"),
    (dt.datetime(2025, 8, 20, 10), "mid-autumn-2025"),
    (dt.datetime(2025, 10, 28, 10), "double11-2025"),
    (dt.datetime(2025, 12, 5, 10), "winter-gifts-2025"),
    (dt.datetime(2026, 1, 27, 10), "spring-festival-2026"),
    (dt.datetime(2026, 3, 25, 10), "new-harvest-2026"),
    (dt.datetime(2026, 5, 28, 10), "618-2026"),
    (dt.datetime(2026, 9, 1, 10), "mid-autumn-2026"),
]
ACQ_WEB_CHANNEL = {
    "organic": "organic",
    "paid_search": "paid_search",
    "social": "social",
    "referral": "referral",
    "store": "direct",
}
Event = tuple[dt.datetime, Person, str, str, str]  # local time, person, type, channel, page


def session(
    rng: random.Random, p: Person, end: dt.datetime, channel: str, buy: bool, landing: str = "/"
) -> list[Event]:
    """A web visit ending at `end`: visit, page views, maybe cart_add and checkout."""
    product = f"/products/{pick(rng, PRODUCTS).sku.lower()}"
    t = end - dt.timedelta(minutes=rng.randint(6, 50))
    events = [(t, p, "visit", channel, landing)]
    for page in rng.sample(
        ["/collections/tea", "/collections/teaware", "/collections/gifts", product],
        rng.randint(1, 2),
    ):
        t += dt.timedelta(minutes=rng.randint(1, 4))
        events.append((t, p, "page_view", channel, page))
    if buy or rng.random() < 0.35:
        events.append((end - dt.timedelta(minutes=3), p, "cart_add", channel, product))
    if buy:
        events.append((end - dt.timedelta(minutes=1), p, "checkout", channel, "/checkout"))
    return events


def person_events(rng: random.Random, p: Person) -> list[Event]:
    """Funnels before online orders, browsing, social, referral and loyalty events of one person."""
    events: list[Event] = []
    online = [o for o in p.orders if o.channel == "online"]
    for k, o in enumerate(online):
        if k == 0 or rng.random() < 0.03:
            channel = (
                ACQ_WEB_CHANNEL[p.channel] if k == 0 else pick(rng, ["direct", "organic", "social"])
            )
            events += session(rng, p, o.at, channel, buy=True)
    if p.channel != "store":
        for _ in range(rng.choice([0, 0, 0, 0, 1, 2] if not p.prospect else [1, 1, 2, 3])):
            events += session(
                rng,
                p,
                random_datetime(rng, max(p.signup, START), END),
                pick(rng, ["organic", "paid_search", "social", "direct"]),
                buy=False,
            )
    if p.channel == "social":
        social = "wechat" if p.chinese else "instagram"
        for _ in range(rng.randint(0, 4)):
            at = random_datetime(rng, max(p.signup, START), END)
            events.append((at, p, "social_interaction", social, ""))
    if p.referrer is not None and p.signup >= START + dt.timedelta(days=30):
        sent = p.signup - dt.timedelta(days=rng.uniform(1, 25))
        events.append((sent, p.referrer, "referral_sent", "referral", "/refer"))
        events.append((p.signup, p, "referral_signup", "referral", "/signup"))
    if p.loyalty_join is not None:
        events.append(
            (
                p.loyalty_join,
                p,
                "loyalty_join",
                "pos" if p.channel == "store" else "online",
                "/loyalty",
            )
        )
    return events


def email_events(rng: random.Random, people: list[Person]) -> list[Event]:
    """Campaign sends to ~25% of opted-in contacts; ~25% opens, ~4% clicks (each click a visit)."""
    events: list[Event] = []
    for sent_at, slug in EMAIL_CAMPAIGNS:
        for p in people:
            if not (p.email and p.accepts_marketing and p.signup < sent_at) or rng.random() > 0.25:
                continue
            at = sent_at + dt.timedelta(seconds=rng.randrange(1800))
            events.append((at, p, "email_sent", "email", f"/campaign/{slug}"))
            if rng.random() < 0.25:
                opened = at + dt.timedelta(minutes=rng.randint(5, 2880))
                events.append((opened, p, "email_open", "email", f"/campaign/{slug}"))
                if rng.random() < 0.16:
                    clicked = opened + dt.timedelta(minutes=rng.randint(0, 20))
                    events.append((clicked, p, "email_click", "email", f"/campaign/{slug}"))
                    events += session(
                        rng,
                        p,
                        clicked + dt.timedelta(minutes=30),
                        "email",
                        buy=False,
                        landing=f"/campaign/{slug}",
                    )[:2]
    return events


def event_table(rng: random.Random, people: list[Person]) -> Table:
    """All events in the window, oldest first, ids E000001…; times stored in UTC."""
    events = [e for p in people for e in person_events(rng, p)] + email_events(rng, people)
    events = [e for e in events if START <= e[0] <= END]
    events.sort(key=lambda e: (e[0], e[1].pid, e[2]))
    rows = []
    for n, (at, p, kind, channel, page) in enumerate(events, start=1):
        email = p.email if p.email and rng.random() < 0.9 else None
        phone = p.phone if email is None or rng.random() < 0.1 else None
        utc = (at - dt.timedelta(hours=8)).replace(tzinfo=dt.UTC, microsecond=0)
        event_id = f"E{n:06d}"
        rows.append(
            Row(
                [event_id, email, phone, utc, kind, channel, page or None],
                ("event", event_id, p.pid),
            )
        )
    table = Table("events/events.parquet", EVENT_COLUMNS, rows, "events")
    plant_dirt(table, rng, {"future_date": future_event})
    return table


def future_event(row: Row, rng: random.Random) -> str:
    """Move an event to 2031."""
    row.values[3] = row.values[3].replace(year=2031)
    return f"occurred_at={row.values[3]:%Y-%m-%dT%H:%M:%SZ}"


def write_parquet(out: Path, table: Table) -> None:
    """Events as Parquet; a row's line is its 1-based row number."""
    columns = list(zip(*(r.values for r in table.rows), strict=True))
    frame = pl.DataFrame(
        {name: list(col) for name, col in zip(table.header, columns, strict=True)},
        schema={
            "event_id": pl.String,
            "customer_email": pl.String,
            "customer_phone": pl.String,
            "occurred_at": pl.Datetime("us", "UTC"),
            "event_type": pl.String,
            "channel": pl.String,
            "page": pl.String,
        },
    )
    for i, row in enumerate(table.rows, start=1):
        row.line = i
    path = out / table.path
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path, compression="zstd", compression_level=9)


# --------------------------------------------------------------------------- truth


def write_truth(out: Path, people: list[Person], tables: list[Table]) -> None:
    """persons.csv, records.csv (every record that names a person) and dirt.csv."""
    persons = [
        [
            p.pid,
            p.name,
            p.gender,
            p.birth.isoformat(),
            p.country,
            p.city.en,
            p.email or "",
            p.phone,
            p.channel,
            "true" if p.loyalty else "false",
        ]
        for p in people
    ]
    persons_table = Table(
        "truth/persons.csv",
        [
            "person_id",
            "name",
            "gender",
            "birth_date",
            "country",
            "city",
            "email",
            "phone",
            "acquisition_channel",
            "loyalty_member",
        ],
        [Row(v) for v in persons],
        "truth",
    )
    seen: set[tuple[str, str]] = set()
    records = []
    for t in tables:
        for r in t.rows:
            if r.record is not None and (t.source, r.record[1]) not in seen:
                seen.add((t.source, r.record[1]))
                records.append(Row([t.source, *r.record]))
    dirt = sorted(
        (
            [
                t.path,
                r.line,
                r.kind,
                r.detail or f"duplicate of line {r.dup_of.line if r.dup_of else 0}",
            ]
            for t in tables
            for r in t.rows
            if r.kind
        ),
        key=lambda d: (d[0], d[1]),
    )
    write_csv(out, persons_table)
    write_csv(
        out,
        Table(
            "truth/records.csv",
            ["source", "record_type", "record_id", "person_id"],
            records,
            "truth",
        ),
    )
    write_csv(
        out,
        Table(
            "truth/dirt.csv",
            ["file", "line", "kind", "detail"],
            [Row([f, str(line), k, d]) for f, line, k, d in dirt],
            "truth",
        ),
    )


# --------------------------------------------------------------------------- main


def generate(out: Path) -> dict[str, int]:
    """Build the whole business and write every file under out; returns a few counts."""
    people = make_people(random.Random(f"{SEED}:people"))
    orders = simulate(random.Random(f"{SEED}:orders"), people)
    pos = pos_tables(random.Random(f"{SEED}:pos"), orders)
    shop, changed = shop_tables(random.Random(f"{SEED}:shop"), orders)
    crm = crm_table(random.Random(f"{SEED}:crm"), people)
    desk = desk_table(random.Random(f"{SEED}:desk"), people)
    survey = survey_table(random.Random(f"{SEED}:survey"), people)
    google, trailer = google_table(random.Random(f"{SEED}:google"))
    meta = meta_table(random.Random(f"{SEED}:meta"))
    events = event_table(random.Random(f"{SEED}:events"), people)
    for t in pos:
        write_csv(out, t, encoding="gbk", terminator="\r\n")
    for t in shop:
        write_csv(out, t, gz=True)
    write_xlsx(out, crm)
    write_csv(out, desk)
    write_csv(out, survey, encoding="utf-8-sig")
    write_csv(
        out,
        google,
        preamble=[["Campaign report"], ["October 1, 2024 - September 30, 2026"]],
        trailer=trailer,
    )
    write_csv(out, meta, encoding="utf-8-sig")
    write_parquet(out, events)
    write_truth(out, people, [*pos, *shop, crm, desk, survey, events, google, meta])
    return {
        "persons": len(people),
        "prospects": sum(p.prospect for p in people),
        "buyers": sum(bool(p.orders) for p in people),
        "loyalty": sum(p.loyalty for p in people),
        "pos_receipts": sum(o.channel == "pos" for o in orders),
        "walk_ins": sum(o.person is None for o in orders),
        "online_orders": sum(o.channel == "online" for o in orders),
        "shop_changed_in_export_2": changed,
        "events": len(events.rows),
    }


def main() -> None:
    """CLI entry: python sample_data/generate.py [--out DIR]."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    for key, value in generate(args.out).items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
