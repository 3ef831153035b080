"""sample_data/ is current, deterministic, sized as its README says, with dirt where truth says.

Every check reads the files independently of the generator (csv module, polars, fastexcel), so a bug
in the generator's own line bookkeeping cannot hide itself.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
GENERATED = {
    "pos/pos_receipts_2024-2025.csv",
    "pos/pos_receipts_2026.csv",
    "shop/orders_export_1.csv.gz",
    "shop/orders_export_2.csv.gz",
    "crm/contacts.xlsx",
    "support/tickets.csv",
    "surveys/survey_responses.csv",
    "ads/google_ads_campaigns.csv",
    "ads/meta_ads.csv",
    "events/events.parquet",
    "truth/persons.csv",
    "truth/records.csv",
    "truth/dirt.csv",
}
# file -> (encoding, number of lines before the header)
CSV_FILES = {
    "pos/pos_receipts_2024-2025.csv": ("gbk", 0),
    "pos/pos_receipts_2026.csv": ("gbk", 0),
    "shop/orders_export_1.csv.gz": ("utf-8", 0),
    "shop/orders_export_2.csv.gz": ("utf-8", 0),
    "support/tickets.csv": ("utf-8", 0),
    "surveys/survey_responses.csv": ("utf-8-sig", 0),
    "ads/google_ads_campaigns.csv": ("utf-8", 2),
    "ads/meta_ads.csv": ("utf-8-sig", 0),
}
ID_COLUMN = {
    "pos": ("小票号", ["pos/pos_receipts_2024-2025.csv", "pos/pos_receipts_2026.csv"]),
    "shop": ("Name", ["shop/orders_export_1.csv.gz", "shop/orders_export_2.csv.gz"]),
    "desk": ("Id", ["support/tickets.csv"]),
    "survey": ("Response ID", ["surveys/survey_responses.csv"]),
}
DIRT_KINDS = {
    "bad_date",
    "placeholder",
    "negative_amount",
    "negative_value",
    "future_date",
    "duplicate_row",
    "missing_id",
    "placeholder_contact",
}


def sha256(path: Path) -> str:
    """Hex digest of a file; of its decompressed content for .gz, since the compressed bytes
    depend on the zlib build (zlib-ng and zlib differ) while the data must not."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return hashlib.sha256(data).hexdigest()


def csv_text(rel: str) -> str:
    """Decoded text of a sample CSV (gunzipped if needed), strictly in its declared encoding."""
    raw = (SAMPLE / rel).read_bytes()
    if rel.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode(CSV_FILES[rel][0])


def csv_lines(rel: str) -> tuple[list[str], dict[int, list[str]]]:
    """Header and {physical start line: row} read with the csv module (multi-line fields count)."""
    reader = csv.reader(io.StringIO(csv_text(rel), newline=""))
    rows: dict[int, list[str]] = {}
    header: list[str] = []
    preamble = CSV_FILES[rel][1]
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return header, rows
        if start == preamble + 1:
            header = row
        elif start > preamble + 1:
            rows[start] = row


def csv_frame(rel: str) -> pl.DataFrame:
    """A sample CSV as an all-string polars frame."""
    text = csv_text(rel)
    if CSV_FILES[rel][1]:
        text = "\n".join(text.splitlines()[CSV_FILES[rel][1] :])
    return pl.read_csv(io.BytesIO(text.encode()), infer_schema=False)


def contacts() -> pl.DataFrame:
    """The CRM sheet with every cell as a string."""
    return pl.read_excel(SAMPLE / "crm/contacts.xlsx", sheet_name="Contacts", infer_schema_length=0)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh run of the generator into a temporary folder."""
    out = tmp_path_factory.mktemp("sample_data")
    subprocess.run(
        [sys.executable, str(SAMPLE / "generate.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out


def test_regenerated_output_is_byte_identical_to_committed(regenerated: Path) -> None:
    produced = {
        p.relative_to(regenerated).as_posix() for p in regenerated.rglob("*") if p.is_file()
    }
    assert produced == GENERATED
    for rel in sorted(GENERATED):
        assert sha256(regenerated / rel) == sha256(SAMPLE / rel), f"{rel} is not current"


def test_committed_sample_is_under_10_mb() -> None:
    total = sum(
        p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    assert total < 10_000_000


def test_pos_files_are_gbk_with_crlf_and_chinese_header() -> None:
    for rel in ("pos/pos_receipts_2024-2025.csv", "pos/pos_receipts_2026.csv"):
        raw = (SAMPLE / rel).read_bytes()
        raw.decode("gbk")  # strict: raises on anything GBK cannot encode
        assert raw.count(b"\n") == raw.count(b"\r\n")
        assert raw.startswith(
            "小票号,门店,交易时间,会员手机号,会员姓名,件数,应收金额,优惠金额,实收金额,支付方式,状态\r\n".encode(
                "gbk"
            )
        )


def test_encodings_and_headers_match_the_contract() -> None:
    shop = gzip.decompress((SAMPLE / "shop/orders_export_1.csv.gz").read_bytes())
    assert shop.startswith(b"Name,Email,Financial Status,Paid at,") and b"\r\n" not in shop
    assert (
        (SAMPLE / "surveys/survey_responses.csv")
        .read_bytes()
        .startswith(b"\xef\xbb\xbfResponse ID,")
    )
    assert (SAMPLE / "ads/meta_ads.csv").read_bytes().startswith(b"\xef\xbb\xbfReporting starts,")
    google = (SAMPLE / "ads/google_ads_campaigns.csv").read_text().splitlines()
    assert google[:3] == [
        "Campaign report",
        '"October 1, 2024 - September 30, 2026"',
        "Day,Campaign,Currency code,Cost,Impr.,Clicks,Conversions",
    ]
    assert google[-2].startswith("Total: Account,") and google[-1].startswith("Total: Campaigns,")
    assert contacts().columns[:3] == ["Record ID", "First Name", "Last Name"]
    events = pl.read_parquet(SAMPLE / "events/events.parquet")
    assert events.schema["occurred_at"] == pl.Datetime("us", "UTC")


def test_row_and_people_counts_are_in_documented_ranges() -> None:
    persons = pl.read_csv(SAMPLE / "truth/persons.csv", infer_schema=False)
    assert persons.height == 5000
    assert persons["person_id"].n_unique() == 5000
    assert 0.25 <= (persons["loyalty_member"] == "true").mean() <= 0.35
    assert 0.65 <= (persons["country"] == "CN").mean() <= 0.75

    pos = pl.concat([csv_frame(rel) for rel in ID_COLUMN["pos"][1]])
    receipts = pos.filter(pl.col("小票号").is_not_null()).unique("小票号")
    assert 17_000 <= receipts.height <= 23_000
    walk_in = receipts["会员手机号"].is_null() | (receipts["会员手机号"] == "无")
    assert 0.20 <= walk_in.mean() <= 0.30

    shop = pl.concat([csv_frame(rel) for rel in ID_COLUMN["shop"][1]])
    orders = shop["Name"].drop_nulls().n_unique()
    assert 24_000 <= orders <= 31_000
    assert 44_000 <= orders + receipts.height <= 54_000
    assert 2_900 <= csv_frame("support/tickets.csv")["Id"].drop_nulls().n_unique() <= 3_000
    assert (
        2_400
        <= csv_frame("surveys/survey_responses.csv")["Response ID"].drop_nulls().n_unique()
        <= 2_500
    )
    assert 4_500 <= contacts().height <= 5_200
    assert 35_000 <= pl.read_parquet(SAMPLE / "events/events.parquet").height <= 45_000

    records = pl.read_csv(SAMPLE / "truth/records.csv", infer_schema=False)
    buyers = (
        records.filter(pl.col("source").is_in(["pos", "shop"]))["person_id"].drop_nulls().n_unique()
    )
    assert 4_000 <= buyers <= 4_500
    prospects = persons.height - buyers
    assert 400 <= prospects <= 1_000


def file_ids() -> dict[str, set[str]]:
    """Non-empty record ids per source, read from the exports themselves."""
    ids = {
        src: set(pl.concat([csv_frame(rel) for rel in files])[col].drop_nulls())
        for src, (col, files) in ID_COLUMN.items()
    }
    ids["crm"] = set(contacts()["Record ID"].drop_nulls())
    ids["events"] = set(pl.read_parquet(SAMPLE / "events/events.parquet")["event_id"])
    return ids


def test_truth_records_are_exactly_the_ids_in_the_exports() -> None:
    records = pl.read_csv(SAMPLE / "truth/records.csv", infer_schema=False)
    persons = set(pl.read_csv(SAMPLE / "truth/persons.csv", infer_schema=False)["person_id"])
    assert records.select("source", "record_id").is_duplicated().sum() == 0
    for source, ids in file_ids().items():
        assert set(records.filter(pl.col("source") == source)["record_id"]) == ids, source
    assert set(records["person_id"].drop_nulls()) <= persons
    no_person = records.filter(pl.col("person_id").is_null())
    assert set(no_person["source"]) == {"pos"}  # only walk-in receipts have no person


def check_dirt_row(
    row: dict[str, object] | None, rows: dict[int, object], line: int, kind: str, detail: str
) -> None:
    """A planted row is at its line and holds the planted value (or repeats the line it names)."""
    assert row is not None, f"no row starts at line {line}"
    if kind == "duplicate_row":
        original = int(detail.removeprefix("duplicate of line "))
        assert original < line and rows[original] == row
        return
    column, value = detail.split("=", 1)
    assert isinstance(row, dict)
    assert (row[column] or "") == value, (line, column, row[column], value)


def test_every_dirt_row_is_at_its_stated_line() -> None:
    dirt = pl.read_csv(SAMPLE / "truth/dirt.csv", infer_schema=False)
    assert set(dirt["kind"]) <= DIRT_KINDS
    for rel, group in dirt.group_by("file", maintain_order=True):
        rel = str(rel[0])
        rows: dict[int, dict[str, object]]
        if rel in CSV_FILES:
            header, raw = csv_lines(rel)
            rows = {line: dict(zip(header, values, strict=True)) for line, values in raw.items()}
        elif rel == "crm/contacts.xlsx":
            rows = {i + 2: r for i, r in enumerate(contacts().iter_rows(named=True))}
        else:
            events = pl.read_parquet(SAMPLE / rel).with_columns(
                pl.col("occurred_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            )
            rows = {i + 1: r for i, r in enumerate(events.iter_rows(named=True))}
        data_rows = len(rows)
        planted = group.filter(pl.col("kind") != "placeholder_contact").height
        assert 0.005 <= planted / data_rows <= 0.03, rel
        for line, kind, detail in group.select("line", "kind", "detail").iter_rows():
            check_dirt_row(rows.get(int(line)), rows, int(line), kind, detail)
