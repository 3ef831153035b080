"""Normalisers for raw string columns, each a polars expression (phones: distinct values).

This is the public toolbox of the cleaning step; `clean` applies them per column `kind`:

* `text`, `ident`, `loose` — trimming, NFKC, placeholders, Excel guards (`crmkit.pipeline.text`)
* `parse_datetime`, `parse_date` — lenient dates and times (`crmkit.pipeline.dates`)
* `parse_money`, `parse_float`, `parse_int`, `parse_score` — exact numbers (`crmkit.pipeline.money`)
* `normalize_phone`, `phone_e164` — E.164 via `phonenumbers` (`crmkit.pipeline.phones`)
* `normalize_email`, `parse_bool`, `parse_gender`, `parse_country`, `parse_currency`,
  `map_enum`, `parse_tags` — defined here.

Enumerations: values are matched case-folded (lower-case, spaces/hyphens → `_`). Lookup order:
`CleanOptions.status_map` (for `status`), then the preset's `value_maps[column]`, then the
shared defaults of `crmkit.sources.synonyms` (`default_value_maps(table)[column]`), then the
canonical values themselves. An unknown *status* is left null and `clean` rejects the row as
`bad_status`: the status decides what counts as revenue (refunds, cancellations), so guessing
would silently skew every metric; the reason names the value and says to add it to
`status_map:`. Unknown values of other enums (channels, cost type) become `other` when the
vocabulary has it, else null.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

import polars as pl

from crmkit.pipeline.dates import parse_date, parse_datetime
from crmkit.pipeline.money import parse_decimal, parse_float, parse_int, parse_money, parse_score
from crmkit.pipeline.phones import normalize_phone, normalize_phone_value, phone_e164
from crmkit.pipeline.text import fold, ident, let, loose, null_placeholders, text

__all__ = [
    "fold",
    "ident",
    "loose",
    "map_enum",
    "normalize_email",
    "normalize_phone",
    "normalize_phone_value",
    "null_placeholders",
    "parse_bool",
    "parse_country",
    "parse_currency",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "parse_float",
    "parse_gender",
    "parse_int",
    "parse_money",
    "parse_score",
    "parse_tags",
    "phone_e164",
    "text",
]

# local@domain.tld: no spaces, no leading/trailing/double dots in the local part, TLD 2+ letters.
EMAIL_RE = (
    r"^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+\p{L}{2,}$"
)


def normalize_email(expr: pl.Expr, *, texted: bool = False) -> pl.Expr:
    """Trimmed, lower-cased address (`mailto:` and `Name <…>` stripped); null when invalid.

    `texted=True` means `expr` already went through `text` (saves a second NFKC pass).
    """
    s = (expr if texted else text(expr)).str.to_lowercase()

    def strip(v: pl.Expr) -> pl.Expr:
        return pl.coalesce(v.str.extract(r"<([^<>\s]+@[^<>\s]+)>", 1), v)

    s = let(s, strip).str.replace(r"^mailto:", "").str.replace_all(r"\s+", "")
    return let(s, lambda v: pl.when(v.str.contains(EMAIL_RE)).then(v).otherwise(None))


def _key(value: str) -> str:
    """How enum and lookup keys are compared: NFKC, trimmed, lower-case, `_` for spaces/hyphens."""
    s = unicodedata.normalize("NFKC", value).strip().lower()
    return "_".join(s.replace("-", " ").split())


def _key_expr(expr: pl.Expr, texted: bool = False) -> pl.Expr:
    return (
        (expr if texted else text(expr))
        .str.to_lowercase()
        .str.replace_all("-", " ", literal=True)
        .str.replace_all(r"\s+", "_")
    )


def lookup(
    expr: pl.Expr,
    mapping: Mapping[str, str | None],
    default: pl.Expr | None = None,
    *,
    texted: bool = False,
) -> pl.Expr:
    """Map case-folded text through `mapping` (keys folded with `_key`); others → `default`."""
    folded = {_key(k): v for k, v in mapping.items()}
    return _key_expr(expr, texted).replace_strict(
        folded,
        default=default if default is not None else pl.lit(None, pl.String),
        return_dtype=pl.String,
    )


_BOOL: dict[str, str] = {
    **dict.fromkeys(
        [
            "是",
            "有",
            "y",
            "yes",
            "true",
            "t",
            "1",
            "1.0",
            "✓",
            "✔",
            "√",
            "会员",
            "是会员",
            "on",
            "member",
            "checked",
            "subscribed",
            "x",
        ],
        "true",
    ),
    **dict.fromkeys(
        [
            "否",
            "n",
            "no",
            "false",
            "f",
            "0",
            "0.0",
            "✗",
            "✘",
            "×",
            "非会员",
            "不是",
            "off",
            "non_member",
            "not_member",
            "unchecked",
            "unsubscribed",
            "没有",
        ],
        "false",
    ),
}


def parse_bool(expr: pl.Expr, *, texted: bool = False) -> pl.Expr:
    """是/否, 有, Y/N, yes/no, true/false, 1/0, t/f, ✓/✗, 会员/非会员 → Boolean; unknown → null."""
    return lookup(expr, _BOOL, texted=texted) == "true"


_GENDER: dict[str, str | None] = {
    **dict.fromkeys(["男", "男性", "先生", "m", "male", "man", "men", "boy", "mr", "mr."], "m"),
    **dict.fromkeys(
        [
            "女",
            "女性",
            "女士",
            "小姐",
            "f",
            "female",
            "woman",
            "women",
            "girl",
            "mrs",
            "ms",
            "miss",
        ],
        "f",
    ),
    **dict.fromkeys(["保密", "unknown", "u", "prefer_not_to_say", "not_specified"], None),
}


def parse_gender(expr: pl.Expr, *, texted: bool = False) -> pl.Expr:
    """男/女/先生/女士/M/F/male/female/… → `m`/`f`; 保密/unknown → null; anything else → `other`."""
    known = {_key(k): v for k, v in _GENDER.items()}

    def mapped(v: pl.Expr) -> pl.Expr:
        out = v.replace_strict(known, default=pl.lit("other"), return_dtype=pl.String)
        return pl.when(v.is_null()).then(None).otherwise(out)

    return let(_key_expr(expr, texted), mapped)


# (alpha-2, alpha-3, names in English and Chinese …) — the most common countries in exports.
_COUNTRIES: tuple[tuple[str, ...], ...] = (
    (
        "CN",
        "CHN",
        "China",
        "PRC",
        "People's Republic of China",
        "Mainland China",
        "中国",
        "中国大陆",
        "中华人民共和国",
        "大陆",
        "內地",
        "内地",
    ),
    ("HK", "HKG", "Hong Kong", "Hong Kong SAR", "Hong Kong SAR China", "香港", "中国香港"),
    ("MO", "MAC", "Macau", "Macao", "澳门", "中国澳门"),
    ("TW", "TWN", "Taiwan", "台湾", "中国台湾", "臺灣"),
    ("US", "USA", "United States", "United States of America", "U.S.", "U.S.A.", "America", "美国"),
    (
        "GB",
        "GBR",
        "United Kingdom",
        "UK",
        "U.K.",
        "Great Britain",
        "Britain",
        "England",
        "Scotland",
        "Wales",
        "英国",
    ),
    ("DE", "DEU", "Germany", "Deutschland", "德国"),
    ("FR", "FRA", "France", "法国"),
    ("IT", "ITA", "Italy", "Italia", "意大利"),
    ("ES", "ESP", "Spain", "España", "西班牙"),
    ("PT", "PRT", "Portugal", "葡萄牙"),
    ("NL", "NLD", "Netherlands", "The Netherlands", "Holland", "荷兰"),
    ("BE", "BEL", "Belgium", "比利时"),
    ("CH", "CHE", "Switzerland", "瑞士"),
    ("AT", "AUT", "Austria", "奥地利"),
    ("SE", "SWE", "Sweden", "瑞典"),
    ("NO", "NOR", "Norway", "挪威"),
    ("DK", "DNK", "Denmark", "丹麦"),
    ("FI", "FIN", "Finland", "芬兰"),
    ("IE", "IRL", "Ireland", "爱尔兰"),
    ("PL", "POL", "Poland", "波兰"),
    ("CZ", "CZE", "Czech Republic", "Czechia", "捷克"),
    ("GR", "GRC", "Greece", "希腊"),
    ("RU", "RUS", "Russia", "Russian Federation", "俄罗斯"),
    ("UA", "UKR", "Ukraine", "乌克兰"),
    ("TR", "TUR", "Turkey", "Türkiye", "土耳其"),
    ("JP", "JPN", "Japan", "日本"),
    ("KR", "KOR", "South Korea", "Korea", "Republic of Korea", "Korea, Republic of", "韩国"),
    ("SG", "SGP", "Singapore", "新加坡"),
    ("MY", "MYS", "Malaysia", "马来西亚"),
    ("TH", "THA", "Thailand", "泰国"),
    ("VN", "VNM", "Vietnam", "Viet Nam", "越南"),
    ("PH", "PHL", "Philippines", "菲律宾"),
    ("ID", "IDN", "Indonesia", "印度尼西亚", "印尼"),
    ("IN", "IND", "India", "印度"),
    ("PK", "PAK", "Pakistan", "巴基斯坦"),
    ("BD", "BGD", "Bangladesh", "孟加拉国", "孟加拉"),
    ("LK", "LKA", "Sri Lanka", "斯里兰卡"),
    ("AU", "AUS", "Australia", "澳大利亚", "澳洲"),
    ("NZ", "NZL", "New Zealand", "新西兰"),
    ("CA", "CAN", "Canada", "加拿大"),
    ("MX", "MEX", "Mexico", "México", "墨西哥"),
    ("BR", "BRA", "Brazil", "Brasil", "巴西"),
    ("AR", "ARG", "Argentina", "阿根廷"),
    ("CL", "CHL", "Chile", "智利"),
    ("CO", "COL", "Colombia", "哥伦比亚"),
    ("PE", "PER", "Peru", "Perú", "秘鲁"),
    ("ZA", "ZAF", "South Africa", "南非"),
    ("EG", "EGY", "Egypt", "埃及"),
    ("NG", "NGA", "Nigeria", "尼日利亚"),
    ("KE", "KEN", "Kenya", "肯尼亚"),
    ("MA", "MAR", "Morocco", "摩洛哥"),
    ("AE", "ARE", "United Arab Emirates", "UAE", "阿联酋", "阿拉伯联合酋长国"),
    ("SA", "SAU", "Saudi Arabia", "沙特阿拉伯", "沙特"),
    ("IL", "ISR", "Israel", "以色列"),
    ("QA", "QAT", "Qatar", "卡塔尔"),
    ("KW", "KWT", "Kuwait", "科威特"),
    ("IR", "IRN", "Iran", "伊朗"),
    ("KZ", "KAZ", "Kazakhstan", "哈萨克斯坦"),
    ("MN", "MNG", "Mongolia", "蒙古"),
    ("MM", "MMR", "Myanmar", "Burma", "缅甸"),
    ("KH", "KHM", "Cambodia", "柬埔寨"),
    ("LA", "LAO", "Laos", "老挝"),
    ("NP", "NPL", "Nepal", "尼泊尔"),
    ("HU", "HUN", "Hungary", "匈牙利"),
    ("RO", "ROU", "Romania", "罗马尼亚"),
)
_COUNTRY_MAP: dict[str, str] = {name: row[0] for row in _COUNTRIES for name in row}


def parse_country(expr: pl.Expr, *, texted: bool = False) -> pl.Expr:
    """ISO 3166 alpha-2 from codes (CN, CHN), English or Chinese names; other 2-letter codes are
    upper-cased as given; unknown names → null."""

    def mapped(t: pl.Expr) -> pl.Expr:
        two_letter = pl.when(t.str.contains(r"^[A-Za-z]{2}$")).then(t.str.to_uppercase())
        return lookup(t, _COUNTRY_MAP, default=two_letter, texted=True)

    return let(expr if texted else text(expr), mapped)


_CURRENCY_SYMBOLS: dict[str, str] = {
    **dict.fromkeys(["¥", "元", "rmb", "人民币", "cn¥", "圆"], "CNY"),
    **dict.fromkeys(["$", "us$", "usd$", "美元"], "USD"),
    **dict.fromkeys(["€", "欧元"], "EUR"),
    **dict.fromkeys(["£", "英镑"], "GBP"),
    **dict.fromkeys(["hk$", "港币", "港元"], "HKD"),
    **dict.fromkeys(["円", "日元"], "JPY"),
    **dict.fromkeys(["৳", "tk"], "BDT"),
}


def parse_currency(expr: pl.Expr, *, texted: bool = False) -> pl.Expr:
    """ISO 4217 from codes in any case (`usd`) or symbols (`¥ 元 RMB` → CNY, `$` → USD, …)."""

    def mapped(t: pl.Expr) -> pl.Expr:
        code = pl.when(t.str.contains(r"^[A-Za-z]{3}$")).then(t.str.to_uppercase())
        return lookup(t, _CURRENCY_SYMBOLS, default=code, texted=True)

    return let(expr if texted else text(expr), mapped)


def parse_tags(expr: pl.Expr, *, texted: bool = False) -> pl.Expr:
    """Split on `,` `;` `，` `；` `、` → list of trimmed non-empty strings; empty → null."""
    t = expr if texted else text(expr)
    parts = t.str.replace_many({";": ",", "，": ",", "；": ",", "、": ","}).str.split(",")
    cleaned = parts.list.eval(pl.element().str.strip_chars()).list.eval(
        pl.element().filter(pl.element().str.len_chars() > 0)
    )
    return let(cleaned, lambda v: pl.when(v.list.len() > 0).then(v).otherwise(None))


def default_value_map(table: str, column: str) -> dict[str, str]:
    """The shared default vocabulary of one enum column (`crmkit.sources.synonyms`), or {}.

    Imported lazily: the synonyms module belongs to the sources layer and may be absent.
    """
    try:
        from crmkit.sources import synonyms
    except ImportError:
        return {}
    maps = getattr(synonyms, "default_value_maps", None)
    if maps is not None:
        return dict(maps(table).get(column, {}))
    if column == "status" and hasattr(synonyms, "default_status_map"):
        return dict(synonyms.default_status_map(table))
    return {}


def enum_vocabulary(
    column: str,
    canonical: tuple[str, ...],
    table: str,
    status_map: Mapping[str, str] | None = None,
    value_map: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Folded source value → canonical value, highest precedence last-applied-first.

    Precedence: `status_map` (status only) > `value_map` (preset) > shared defaults
    (`crmkit.sources.synonyms`) > the canonical values themselves. Targets outside `canonical`
    are dropped.
    """
    vocab: dict[str, str] = {_key(v): v for v in canonical}
    layers: list[Mapping[str, str]] = [default_value_map(table, column), value_map or {}]
    if column == "status":
        layers.append(status_map or {})
    for layer in layers:  # later layers override earlier ones
        for k, v in layer.items():
            target = _key(str(v))
            if target in vocab.values() or target in canonical:
                vocab[_key(str(k))] = target
    return vocab


def map_enum(
    expr: pl.Expr,
    column: str,
    table: object,
    status_map: Mapping[str, str] | None = None,
    value_map: Mapping[str, str] | None = None,
    *,
    texted: bool = False,
) -> pl.Expr:
    """Map a raw enum column to its canonical vocabulary (`table` is a `crmkit.schema.Table`).

    Unknown values: `status` → null (and `clean` rejects `bad_status`); other enums → `other`
    when the vocabulary has it, else null.
    """
    canonical = table.enums.get(column, ())  # type: ignore[attr-defined]
    vocab = enum_vocabulary(column, canonical, table.name, status_map, value_map)  # type: ignore[attr-defined]
    fallback = "other" if column != "status" and "other" in canonical else None

    def mapped(v: pl.Expr) -> pl.Expr:
        out = v.replace_strict(vocab, default=pl.lit(fallback, pl.String), return_dtype=pl.String)
        return pl.when(v.is_null()).then(None).otherwise(out)

    return let(_key_expr(expr, texted), mapped)
