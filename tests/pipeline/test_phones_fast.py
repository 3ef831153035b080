"""The vectorised phone path gives exactly what the per-value `phonenumbers` path gives.

The oracle is `normalize_phone_value` (Python, `phonenumbers.parse` + `is_valid_number`); the
vectorised path (`normalize_phone`, `phone_e164`) must agree with it on every input, and must
actually be taken for ordinary numbers rather than quietly falling back to the oracle.
"""

from __future__ import annotations

import random

import phonenumbers
import polars as pl
import pytest
from phonenumbers import PhoneMetadata, PhoneNumberType

from crmkit.pipeline import phones

REGIONS = ["CN", "US", "GB", "DE", "JP", None]
PER_REGION = 20_000  # ~19.4k distinct each: ~116,000 (value, region) pairs in all
ORACLE = phones.normalize_phone_value  # the per-value path, captured before any patching


def _examples() -> list[tuple[int, str, str]]:
    """(calling code, national significant number, national prefix) of every example number
    `phonenumbers` ships, for every region, type and non-geographic code."""
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        prefix = PhoneMetadata.metadata_for_region(region).national_prefix or "0"
        for kind in vars(PhoneNumberType).values():
            if isinstance(kind, int):
                number = phonenumbers.example_number_for_type(region, kind)
                if number is not None:
                    nsn = phonenumbers.national_significant_number(number)
                    out.append((number.country_code, nsn, prefix))
    for cc in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        number = phonenumbers.example_number_for_non_geo_entity(cc)
        if number is not None:
            out.append((cc, phonenumbers.national_significant_number(number), "0"))
    return out


EXAMPLES = _examples()
CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _mutate(rng: random.Random, nsn: str) -> str:
    """Keep most of a real number so many results stay valid: rewrite its last 0–4 digits,
    sometimes add or drop one."""
    k = rng.randint(0, min(4, len(nsn)))
    nsn = nsn[: len(nsn) - k] + _digits(rng, k)
    roll = rng.random()
    if roll < 0.1:
        return nsn + _digits(rng, 1)
    if roll < 0.2:
        return nsn[:-1]
    return nsn


def _layout(rng: random.Random, number: str) -> str:
    """Spaces, dashes or dots between digits, Excel guards, padding — or none."""
    roll = rng.random()
    if roll < 0.3:
        sep = rng.choice([" ", "-", ".", " - ", "  ", "\t"])
        number = "".join(ch + (sep if rng.random() < 0.25 else "") for ch in number)
    elif roll < 0.4:
        guards = ["'{}", '="{}"', "\t{}", " {} ", "={}", "'\t{}", "' '{}", "= ={}", '"{}"']
        number = rng.choice(guards).format(number)
    return number.strip(" -.") if rng.random() < 0.5 else number


def _from_example(rng: random.Random) -> str:
    cc, nsn, prefix = rng.choice(EXAMPLES)
    nsn = _mutate(rng, nsn)
    form = rng.choice(
        [
            "+{cc}{nsn}",
            "+{cc}{nsn}",
            "00{cc}{nsn}",
            "{cc}{nsn}",  # starts with its own country code
            "{nsn}",
            "{prefix}{nsn}",  # trunk prefix
            "+{cc}{prefix}{nsn}",  # `+44 020 …`
            "+{cc}{cc}{nsn}",
            "{idd}{cc}{nsn}",  # dialled from abroad: US 011, JP 010, CN carrier 17951 00…
        ]
    )
    idd = rng.choice(["011", "010", "0011", "1795100", "000", "00"])
    return _layout(rng, form.format(cc=cc, nsn=nsn, prefix=prefix, idd=idd))


def _from_code(rng: random.Random, cc: int) -> str:
    lead = rng.choice(["+", "+", "00", "", "+0"])
    return _layout(rng, f"{lead}{cc}{_digits(rng, rng.randint(0, 16))}")


def _random_digits(rng: random.Random) -> str:
    lead = rng.choice(["", "", "+", "00", "0", "+0", "000", "1"])
    return _layout(rng, lead + _digits(rng, rng.randint(1, 19)))


def _odd(rng: random.Random) -> str:
    """Shapes the fast path must hand to the per-value path unchanged."""
    number = _from_example(rng)
    return rng.choice(
        [
            "(+86){}",
            "({}",
            "tel:{}",
            "{} ext. 12",
            "{}#",
            "{}, 13800138000",
            "{} / 13900139000",
            "{}*",
            "++{}",
            "+ {}",
            "{}\u00a0",
            "\u3000{}",
            "{}x",
            "\uff0b{}",
            "",
        ]
    ).format(number) + rng.choice(["", "", "", "\u2212"])


def _sample(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    values = [_from_code(rng, cc) for cc in CODES]  # every calling code at least once
    makers = [_from_example] * 5 + [_random_digits] * 3 + [_odd]
    while len(values) < n:
        maker = rng.choice([*makers, lambda r: _from_code(r, r.choice(CODES))])
        values.append(maker(rng))
    return values


REALISTIC = {
    "CN": {
        "13800138000": "+8613800138000",
        "+86 138 0013 8000": "+8613800138000",
        "0086 138 0013 8000": "+8613800138000",
        "008613800138000": "+8613800138000",
        "010-12345678": "+861012345678",
        "+1 415 555 2671": "+14155552671",
        "+44 020 7946 0018": "+442079460018",
        "12345": None,
    },
    "US": {
        "(415) 555-2671": "+14155552671",
        "+1 415 555 2671": "+14155552671",
        "415-555-2671": "+14155552671",
        "1 415 555 2671": "+14155552671",
        "011 86 138 0013 8000": "+8613800138000",
    },
    "GB": {"020 7946 0018": "+442079460018", "+44 020 7946 0018": "+442079460018"},
}


@pytest.fixture
def fallbacks(monkeypatch):
    """Counts the values handed to the per-value path."""
    calls: list[str] = []

    def counted(raw, region=None):
        calls.append(raw)
        return ORACLE(raw, region)

    monkeypatch.setattr(phones, "normalize_phone_value", counted)
    return calls


@pytest.mark.parametrize("region", REGIONS)
def test_vectorised_equals_phonenumbers(region, fallbacks):
    values = _sample(seed=REGIONS.index(region), n=PER_REGION)
    got = phones.normalize_phone(values, region)
    expected = {v: ORACLE(v, region) for v in values}
    wrong = {v: (got.get(v, "<missing>"), e) for v, e in expected.items() if got.get(v) != e}
    assert not wrong, f"{len(wrong)} differ, e.g. {list(wrong.items())[:10]}"
    assert got.keys() == expected.keys()
    # Not vacuous: most values were decided by the fast path, many of them valid numbers.
    fast = set(expected) - set(fallbacks)
    assert len(fast) > 0.6 * len(expected)
    assert sum(expected[v] is not None for v in fast) > 0.1 * len(expected)


@pytest.mark.parametrize("region", sorted(REALISTIC))
def test_realistic_numbers(region):
    got = phones.normalize_phone(list(REALISTIC[region]), region)
    assert got == REALISTIC[region]
    assert got == {v: ORACLE(v, region) for v in REALISTIC[region]}


def test_phone_e164_maps_every_row():
    raw = ["+86 138 0013 8000", "13800138000", None, "13800138000", "bad", "(415) 555-2671"]
    frame = pl.LazyFrame({"phone": raw})
    out = frame.select(phones.phone_e164(pl.col("phone"), "CN")).collect()["phone"].to_list()
    assert out == [None if v is None else ORACLE(v, "CN") for v in raw]


def test_cn_mobiles_take_the_fast_path(fallbacks):
    rng = random.Random(7)
    layouts = ["+86 {}", "{}", "0086{}", "'{}", "{}-{}-{}"]
    values = []
    for _ in range(10_000):
        national = rng.choice(["138", "139", "186", "150", "177"]) + _digits(rng, 8)
        parts = (national[:3], national[3:7], national[7:])
        layout = rng.choice(layouts)
        values.append(layout.format(*parts) if layout.count("{}") == 3 else layout.format(national))
    got = phones.normalize_phone(values, "CN")
    assert fallbacks == []
    assert all(e164 is not None and e164.startswith("+86") for e164 in got.values())
    for v in values[:500]:  # spot-check against the oracle (the full check is above)
        assert got[v] == ORACLE(v, "CN")


def test_unknown_or_missing_region():
    values = ["13800138000", "+8613800138000", "0013800138000"]
    for region in (None, "XX", "cn"):
        assert phones.normalize_phone(values, region) == {v: ORACLE(v, region) for v in values}


@pytest.fixture
def e164_calls(monkeypatch) -> list[int]:
    """How many values each call of `_e164_table` normalises."""
    calls: list[int] = []
    real = phones._e164_table

    def counting(values, region):
        calls.append(values.len())
        return real(values, region)

    monkeypatch.setattr(phones, "_e164_table", counting)
    return calls


def test_phone_e164_parses_each_number_once_across_batches(e164_calls):
    numbers = [f"+86 139{i:08d}" for i in range(300)]
    frame = pl.LazyFrame({"phone": numbers * 10})  # every number on ten rows
    out = frame.select(phones.phone_e164(pl.col("phone"), "CN")).collect(engine="streaming")
    assert out["phone"].to_list() == [n.replace(" ", "") for n in numbers] * 10
    assert sum(e164_calls) == 300  # each distinct number normalised once, whatever the batching


def test_phone_book_normalises_each_number_once_and_keeps_the_rows(e164_calls):
    book = phones.PhoneBook("CN")
    first = ["13800138000", None, "bad", "+86 139 0000 0001", "13800138000"]
    second = ["+86 139 0000 0001", "(415) 555-2671", None, "13800138000"]
    for raw in (first, second):
        frame = pl.LazyFrame({"phone": raw, "row": range(len(raw))})
        out = book.attach(frame, "phone", "e164").collect()
        assert out["row"].to_list() == list(range(len(raw)))  # every row, in order
        assert out["e164"].to_list() == [None if v is None else ORACLE(v, "CN") for v in raw]
    assert e164_calls == [3, 1]  # the second frame only normalises the number it adds


def test_phone_book_answers_by_value_when_hashes_collide(monkeypatch, e164_calls):
    # Every first hash collides (the value's length) and only the second hash tells values
    # apart: each row must still get its own number's answer, from the book or by value.
    real = phones._hashes
    monkeypatch.setattr(
        phones, "_hashes", lambda v: (v.str.len_bytes().cast(pl.UInt64).to_numpy(), real(v)[1])
    )
    book = phones.PhoneBook("CN")
    rng = random.Random(7)
    numbers = [*(f"139{rng.randrange(10**8):08d}" for _ in range(40)), "+86 139 0000 0001"]
    for raw in ([*numbers[:25], None], numbers[10:] + numbers[:3], numbers):
        out = book.e164(pl.Series("phone", raw))
        assert out.to_list() == [None if v is None else ORACLE(v, "CN") for v in raw]
        assert out.name == "phone"
    # 25 then 16 new values, then none: each value is normalised once, though the 11-digit
    # ones, which share a first hash, are all answered by value
    assert len(book._clashes) == 40
    assert e164_calls == [25, 16]
