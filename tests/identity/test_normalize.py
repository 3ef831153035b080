"""Normalisers: e-mail provider rules, phones (+86, full-width digits), Chinese and romanised
names, addresses, postcodes and birth dates. Expected values are written out by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.identity import normalize as nz
from crmkit.identity.features import prepare
from crmkit.identity.settings import identity_settings

from .conftest import records

EMAIL_RULES = identity_settings({})["email"]


def one(expr: pl.Expr, value: object, dtype: pl.DataType = pl.String) -> object:
    return pl.DataFrame({"v": [value]}, schema={"v": dtype}).select(expr).item()


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("ZhangWei@Example.com", "zhangwei@example.com"),
        ("  zhangwei@example.com ", "zhangwei@example.com"),
        ("J.o.h.n+newsletter@GoogleMail.com", "john@gmail.com"),
        ("john.smith+shop@gmail.com", "johnsmith@gmail.com"),
        ("jane.doe+x@corp.cn", "jane.doe+x@corp.cn"),  # plus tags kept for unknown domains
        ("ｚｈａｎｇ＠ｑｑ．ｃｏｍ", "zhang@qq.com"),  # full-width
        ("not-an-email", None),
        ("a@b", None),
        ("a@@b.com", None),
        ("", None),
    ],
)
def test_email_key(raw: str, key: str | None) -> None:
    assert one(nz.email_key(pl.col("v"), EMAIL_RULES), raw) == key


def test_email_rules_are_configurable() -> None:
    rules = {"domain_aliases": {}, "ignore_dots": [], "plus_tags": []}
    assert one(nz.email_key(pl.col("v"), rules), "j.o+x@googlemail.com") == "j.o+x@googlemail.com"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("138 0013 8000", "+8613800138000"),
        ("+86 13800138000", "+8613800138000"),
        ("+86-138-0013-8000", "+8613800138000"),
        ("0086 138 0013 8000", "+8613800138000"),
        ("１３８００１３８０００", "+8613800138000"),  # full-width digits from a POS keyboard
        ("+8613800138000", "+8613800138000"),
        ("(212) 555-0123", "+862125550123"),  # read as a Shanghai landline (021) in CN
        ("+1 212", None),  # too short
        ("12345", None),
        ("无", None),
    ],
)
def test_phone_key(raw: str, key: str | None) -> None:
    assert one(nz.phone_key(pl.col("v"), "CN"), raw) == key


def test_phone_key_revalidates_e164_on_request() -> None:
    # E.164-shaped values come validated from the cleaning stage and are trusted by default
    assert one(nz.phone_key(pl.col("v"), None), "+8612345678") == "+8612345678"
    assert one(nz.phone_key(pl.col("v"), None, revalidate=True), "+8612345678") is None


@pytest.mark.parametrize(
    ("phone", "blocked"),
    [
        ("+8613800000000", True),  # placeholder: a run of zeros
        ("+8613888888888", True),
        ("+864008123456", True),  # 400 service line
        ("+868001234567", True),  # 800 service line
        ("+8612345678901", True),
        ("+8613800138000", False),
        ("+8615829724719", False),
    ],
)
def test_phone_blocklist(phone: str, blocked: bool) -> None:
    bl = identity_settings({})["blocklist"]
    assert one(nz.phone_blocked(pl.col("v"), bl), phone) is blocked


@pytest.mark.parametrize(
    ("email", "blocked"),
    [
        ("test@test.com", True),
        ("none@none.com", True),
        ("noreply@shop.com", True),
        ("none@qq.com", True),
        ("aaaa@163.com", True),
        ("x@mailinator.com", True),
        ("zhangwei@example.com", False),
        ("wangfang88@qq.com", False),
    ],
)
def test_email_blocklist(email: str, blocked: bool) -> None:
    bl = identity_settings({})["blocklist"]
    assert one(nz.email_blocked(pl.col("v"), bl), email) is blocked


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("張偉", "张伟"),  # traditional → simplified
        ("张 伟", "张伟"),
        ("ＺＨＡＮＧ　Ｗｅｉ", "zhang wei"),  # full-width Latin and ideographic space
        ("  Zhang   Wei ", "zhang wei"),
        ("O'Brien-Smith, Mary", "obrien smith mary"),
        ("客户", None),  # placeholder name
    ],
)
def test_name_norm(raw: str, norm: str | None) -> None:
    blocked = identity_settings({})["blocklist"]["names"]
    assert one(nz.name_norm(pl.col("v"), blocked), raw) == norm


@pytest.mark.parametrize(
    ("name", "surname", "py"),
    [
        ("张伟", False, "zhangwei"),
        ("秀英", False, "xiuying"),
        ("曾", True, "zeng"),  # surname reading, not ceng
        ("单", True, "shan"),
        ("müller", False, "muller"),
        ("chloé", False, "chloe"),
    ],
)
def test_pinyin(name: str, surname: bool, py: str) -> None:
    assert one(nz.pinyin(pl.col("v"), surname=surname), name) == py


@pytest.mark.parametrize(
    ("full", "given", "surname"),
    [
        ("张伟", "伟", "张"),
        ("欧阳娜娜", "娜娜", "欧阳"),  # compound surname
        ("mary jane smith", "mary jane", "smith"),
        ("smith", None, "smith"),
    ],
)
def test_split_name(full: str, given: str | None, surname: str) -> None:
    g, s = nz.split_name(pl.col("v"))
    assert one(g, full) == given
    assert one(s, full) == surname


def test_same_person_in_three_scripts_shares_a_pinyin_key() -> None:
    feat = prepare(
        records(
            [
                {"id": 1, "full_name": "張偉"},
                {"id": 2, "full_name": "zhang wei"},
                {"id": 3, "full_name": "Wei Zhang"},
                {"id": 4, "first_name": "Wei", "last_name": "ZHANG"},
                {"id": 5, "full_name": "张薇"},  # same sound, other person: same weak key only
                {"id": 6, "full_name": "张强"},
            ]
        ),
        identity_settings({}),
    )
    keys = feat["pinyin_key"].to_list()
    assert keys[:5] == ["wei zhang"] * 5
    assert keys[5] == "qiang zhang"
    assert feat["name_key"].to_list()[0] == "张伟"
    assert feat["name_key"].to_list()[2] == "wei zhang"  # tokens sorted


def test_address_postcode_and_birth_date() -> None:
    assert one(nz.address_norm(pl.col("v")), "12 Main Street, Apartment 4") == "12 main st apt 4"
    assert one(nz.postcode_norm(pl.col("v")), "'200040") == "200040"
    assert one(nz.postcode_norm(pl.col("v")), "sw1a 1aa") == "SW1A1AA"
    assert one(nz.postcode_norm(pl.col("v")), "２００ ０４０") == "200040"
    bad = ["1900-01-01", "1970-01-01"]
    assert one(nz.birth_date_norm(pl.col("v"), bad), dt.date(1970, 1, 1), pl.Date) is None
    assert one(nz.birth_date_norm(pl.col("v"), bad), dt.date(1888, 5, 1), pl.Date) is None
    d = dt.date(1990, 6, 15)
    assert one(nz.birth_date_norm(pl.col("v"), bad), d, pl.Date) == d


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("12 GryllsCrescent", "12 grylls cres"),  # a street word run into the street's name
        ("7 copeplace", "7 cope pl"),
        ("1 Broad Road", "1 broad rd"),  # "b" + "road": too short to be a glued street word
        ("9 Railroad", "9 rail rd"),
    ],
)
def test_address_norm_splits_glued_street_words(raw: str, norm: str) -> None:
    assert one(nz.address_norm(pl.col("v")), raw) == norm


@pytest.mark.parametrize(
    ("address", "number", "street"),
    [
        ("12 grylls cres", "12", "grylls"),
        ("unit 4 88 ocean rd", "4", "unit"),  # the first number and the first long word
        ("locn 316", "316", "locn"),
        ("st kilda rd", None, "kilda"),  # two letters are not a street name
        ("上海市浦东新区张江路88号", "88", "上海市浦东新区张江路"),
    ],
)
def test_street_number_and_name(address: str, number: str | None, street: str) -> None:
    assert one(nz.street_number(pl.col("v")), address) == number
    assert one(nz.street_name(pl.col("v")), address) == street


@pytest.mark.parametrize(
    ("name", "code"),
    [
        # Soundex: first letter, then digits for the consonants (b f p v = 1, c g j k q s x z
        # = 2, d t = 3, l = 4, m n = 5, r = 6), vowels, h, w, y and repeats dropped, padded to 4
        ("smith", "S530"),
        ("smyth", "S530"),
        ("walsh", "W420"),
        ("catherine", "C365"),
        ("katherine", "K365"),  # the first letter is kept: a typo there changes the code
        ("zhang", "Z520"),
    ],
)
def test_phonetic_code(name: str, code: str) -> None:
    assert one(nz.phonetic(pl.col("v")), name) == code
    assert one(nz.phonetic(pl.col("v")), None) is None


def test_normalisers_run_on_distinct_values_only() -> None:
    calls: list[str] = []

    def f(v: str) -> str:
        calls.append(v)
        return v.upper()

    df = pl.DataFrame({"v": ["a", "b", "a", None, "a", "b"]})
    out = df.select(nz.on_distinct(pl.col("v"), f, pl.String())).to_series().to_list()
    assert out == ["A", "B", "A", None, "A", "B"]
    assert sorted(calls) == ["a", "b"]


_local = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._+", min_size=1, max_size=12)
_domain = st.sampled_from(["gmail.com", "GoogleMail.com", "qq.com", "163.com", "Corp.CN"])


@settings(max_examples=60, deadline=None)
@given(_local, _domain)
def test_email_key_is_idempotent(local: str, domain: str) -> None:
    first = one(nz.email_key(pl.col("v"), EMAIL_RULES), f"{local}@{domain}")
    if first is not None:
        assert one(nz.email_key(pl.col("v"), EMAIL_RULES), first) == first


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=12))
def test_name_norm_is_idempotent(text: str) -> None:
    first = one(nz.name_norm(pl.col("v")), text)
    if first is not None:
        assert one(nz.name_norm(pl.col("v")), first) == first


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=99_999_999), st.sampled_from([138, 139, 186, 150]))
def test_phone_key_is_stable_across_formats(n: int, prefix: int) -> None:
    national = f"{prefix}{n:08d}"
    e164 = one(nz.phone_key(pl.col("v"), "CN"), national)
    assert e164 == f"+86{national}"
    spaced = f"{national[:3]} {national[3:7]} {national[7:]}"
    wide = national.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})
    for form in (spaced, f"+86 {national}", wide, e164):
        assert one(nz.phone_key(pl.col("v"), "CN"), form) == e164


def test_simplified_in_one_call_equals_one_call_per_value() -> None:
    values = ["張偉", "歐陽娜娜", "臺北市", "Zhang", "後面", "乾隆"]
    assert nz._simplify_all(values) == ["张伟", "欧阳娜娜", "台北市", "Zhang", "后面", "乾隆"]
    with_break = [*values, "發財\n樹"]  # a line break inside a value: one call per value
    assert nz._simplify_all(with_break) == [nz._simplify(v) for v in with_break]


def test_records_with_only_an_id_get_the_features_normalising_them_would_give() -> None:
    from crmkit.identity.features import _normalised

    rows = [
        {"id": "9", "full_name": "张伟", "email": "ZW@qq.com"},
        {"id": "3"},  # an order system's member id and nothing else
        {"id": "5", "phone": "+8613800138000"},
        {"id": "1"},
    ]
    recs = records(rows)
    s = identity_settings({})
    feat = prepare(recs, s)
    # rid order is (source, id) order, whatever order the records came in
    assert feat["source_record_id"].to_list() == ["1", "3", "5", "9"]
    # the reference: every record through the full normalisation
    full = _normalised(recs.sort("source", "source_record_id").with_row_index("rid"), s, ())
    assert feat.equals(full.with_columns(pl.col("rid").cast(pl.Int64)))
    only_id = feat.filter(pl.col("source_record_id").is_in(["1", "3"]))
    features = only_id.drop("rid", "source", "source_record_id")
    assert features.null_count().row(0) == (2,) * features.width
    assert prepare(records([{"id": "1"}, {"id": "2"}]), s)["email_key"].to_list() == [None, None]
