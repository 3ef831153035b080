"""File readers (crmkit.sources.readers): formats, encodings, headers, line numbers, errors.

Every fixture is written in tmp_path by the test itself; expected values are counted by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from crmkit.errors import InputFileError, UsageError
from crmkit.sources.readers import (
    ReadResult,
    find_header,
    read_file,
    sha256_file,
    unique_headers,
)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read_one(path: Path, **kwargs: object) -> tuple[ReadResult, pl.DataFrame]:
    results = read_file(path, **kwargs)  # type: ignore[arg-type]
    assert len(results) == 1
    return results[0], results[0].frame.collect()


def expected(rows: list[tuple[str | None, ...]], columns: list[str]) -> pl.DataFrame:
    """A frame of string columns plus an Int64 `__line` taken from each row's last item."""
    data = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    schema = {c: pl.String for c in columns}
    return pl.DataFrame(data, schema=schema).with_columns(
        pl.Series("__line", [r[-1] for r in rows], dtype=pl.Int64)
    )


# -- delimiters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "delimiter", "headers"),
    [
        ('id,name,amount\n1,"Smith, J",10\n2,Lee,20\n', ",", ["id", "name", "amount"]),
        # French-style file: the decimal comma would give a consistent-looking 2 fields too
        ("id;prix;ville\n1;1,5;Paris\n2;2,5;Lyon\n", ";", ["id", "prix", "ville"]),
        (
            "Day\tCampaign\tCost\n2026-09-01\tBrand, EU\t1,316.14\n",
            "\t",
            ["Day", "Campaign", "Cost"],
        ),
        ("a|b|c\n1|x,y|3\n4|5|6\n", "|", ["a", "b", "c"]),
    ],
)
def test_sniffs_delimiter(tmp_path: Path, text: str, delimiter: str, headers: list[str]) -> None:
    result, df = read_one(write(tmp_path, "f.csv", text.encode()))
    assert result.delimiter == delimiter
    assert result.headers == headers
    assert df.columns == [*headers, "__line"]
    assert df.height == text.count("\n") - 1


def test_explicit_delimiter_alias(tmp_path: Path) -> None:
    result, df = read_one(write(tmp_path, "f.txt", b"a,b\tc\n1,2\t3\n"), delimiter="tab")
    assert result.headers == ["a,b", "c"]
    assert df.row(0) == ("1,2", "3", 2)


def test_bad_explicit_delimiter(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="one character"):
        read_file(write(tmp_path, "f.csv", b"a,b\n1,2\n"), delimiter=",,")


# -- line numbers -------------------------------------------------------------------------------


def test_quoted_newlines_give_physical_lines(tmp_path: Path) -> None:
    text = (
        "id,note,amount\n"  # line 1
        '1,"first\nsecond",10\n'  # lines 2-3
        "2,plain,20\n"  # line 4
        '3,"a\nb\nc",30\n'  # lines 5-7
        "4,x,40\n"  # line 8
    )
    result, df = read_one(write(tmp_path, "f.csv", text.encode()))
    want = expected(
        [
            ("1", "first\nsecond", "10", 2),
            ("2", "plain", "20", 4),
            ("3", "a\nb\nc", "30", 5),
            ("4", "x", "40", 8),
        ],
        ["id", "note", "amount"],
    )
    assert_frame_equal(df, want)
    assert result.header_line == 1


def test_crlf_and_blank_lines(tmp_path: Path) -> None:
    # line 1 header, 2 data, 3 blank (dropped), 4 data with a CRLF inside quotes (to line 5), 6 data
    data = b'a,b\r\n1,2\r\n\r\n3,"x\r\ny"\r\n5,6\r\n'
    _, df = read_one(write(tmp_path, "f.csv", data))
    want = expected([("1", "2", 2), ("3", "x\r\ny", 4), ("5", "6", 6)], ["a", "b"])
    assert_frame_equal(df, want)


def test_empty_cells_are_null_and_values_are_not_trimmed(tmp_path: Path) -> None:
    data = b'a,b,c\n,"", x \n="1",,\n'
    _, df = read_one(write(tmp_path, "f.csv", data))
    want = expected([(None, None, " x ", 2), ('="1"', None, None, 3)], ["a", "b", "c"])
    assert_frame_equal(df, want)


def test_misplaced_quotes_are_read_like_a_spreadsheet(tmp_path: Path) -> None:
    # polars alone rejects `24" monitor` (a quote inside an unquoted field); the reader falls
    # back to a lenient parse and keeps every record and its physical line.
    text = (
        "id,product\n"  # line 1
        '1,24" monitor\n'  # line 2
        '2,"27"" monitor"\n'  # line 3
        '3,"multi\nline"\n'  # lines 4-5
        "4,ok\n"  # line 6
    )
    _, df = read_one(write(tmp_path, "f.csv", text.encode()))
    want = expected(
        [
            ("1", '24" monitor', 2),
            ("2", '27" monitor', 3),
            ("3", "multi\nline", 4),
            ("4", "ok", 6),
        ],
        ["id", "product"],
    )
    assert_frame_equal(df, want)


def test_unclosed_quote_runs_to_the_end_without_crashing(tmp_path: Path) -> None:
    _, df = read_one(write(tmp_path, "f.csv", b'a,b\n1,2\n3,"x\n4,5\n'))
    assert df.rows() == [("1", "2", 2), ("3", "x\n4,5\n", 3)]


# -- encodings ----------------------------------------------------------------------------------


def test_utf8_bom_is_stripped_from_the_first_header(tmp_path: Path) -> None:
    data = "\ufeffid,name\n1,Zoë\n".encode()
    result, df = read_one(write(tmp_path, "f.csv", data))
    assert result.encoding == "utf-8-sig"
    assert result.headers == ["id", "name"]
    assert df.row(0) == ("1", "Zoë", 2)


def test_gbk_chinese_headers_and_values(tmp_path: Path) -> None:
    text = "小票号,会员姓名,金额\r\n0001,張偉,12.50\r\n0002,李娜,8\r\n"
    result, df = read_one(write(tmp_path, "pos.csv", text.encode("gbk")))
    assert result.encoding == "gb18030"
    assert result.headers == ["小票号", "会员姓名", "金额"]
    want = expected(
        [("0001", "張偉", "12.50", 2), ("0002", "李娜", "8", 3)], ["小票号", "会员姓名", "金额"]
    )
    assert_frame_equal(df, want)


def test_explicit_gbk_is_honoured(tmp_path: Path) -> None:
    result, df = read_one(write(tmp_path, "f.csv", "姓名\n张三\n".encode("gbk")), encoding="gbk")
    assert result.encoding == "gbk"
    assert df.row(0) == ("张三", 2)


def test_utf16_google_ads_excel_csv_with_preamble(tmp_path: Path) -> None:
    text = (
        "Campaign report\r\n"
        '"September 1, 2026 - September 30, 2026"\r\n'
        "Day\tCampaign\tCurrency code\tCost\r\n"
        '2026-09-01\tBrand\tUSD\t"1,316.14"\r\n'
        "2026-09-02\tGeneric\tUSD\t--\r\n"
        "Total: Account\t\t\t1316.14\r\n"
    )
    data = b"\xff\xfe" + text.encode("utf-16-le")
    result, df = read_one(write(tmp_path, "ads.csv", data))
    assert (result.encoding, result.delimiter, result.header_line) == ("utf-16", "\t", 3)
    assert result.preamble == ["Campaign report", '"September 1, 2026 - September 30, 2026"']
    cols = ["Day", "Campaign", "Currency code", "Cost"]
    want = expected(
        [
            ("2026-09-01", "Brand", "USD", "1,316.14", 4),
            ("2026-09-02", "Generic", "USD", "--", 5),
            ("Total: Account", None, None, "1316.14", 6),
        ],
        cols,
    )
    assert_frame_equal(df, want)


def test_undecodable_file_names_the_offset(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", b"a,b\n1,\x80\x80\xff\n")
    with pytest.raises(InputFileError) as info:
        read_file(path)
    assert info.value.reason_code == "undecodable"
    assert "invalid byte 0x80 at offset 6" in info.value.message
    assert str(path) in info.value.message


def test_latin1_file_is_not_turned_into_chinese(tmp_path: Path) -> None:
    # cp1252 "Währung" is strictly valid GB18030 ("W鋒rung"): it must be refused, not misread.
    path = write(tmp_path, "de.csv", "Währung,Kosten\nEUR,1\n".encode("cp1252"))
    with pytest.raises(InputFileError) as info:
        read_file(path)
    assert info.value.reason_code == "undecodable"
    assert "UTF-8 (invalid byte 0xe4 at offset 1)" in info.value.message
    _, df = read_one(path, encoding="cp1252")
    assert df.columns == ["Währung", "Kosten", "__line"]


# -- gzip ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["orders.csv.gz", "orders.csv"])
def test_gzip_detected_by_magic(tmp_path: Path, name: str) -> None:
    raw = "订单号;金额\n1;2\n".encode("gb18030")
    result, df = read_one(write(tmp_path, name, gzip.compress(raw)))
    assert (result.encoding, result.delimiter, result.format) == ("gb18030", ";", "csv")
    assert df.row(0) == ("1", "2", 2)


# -- headers ------------------------------------------------------------------------------------


def test_duplicate_and_empty_headers(tmp_path: Path) -> None:
    text = "订单号,分销员,,分销员,分销员\n1,a,b,c,d\n"
    result, df = read_one(write(tmp_path, "f.csv", text.encode()))
    names = ["订单号", "分销员", "column_3", "分销员 (2)", "分销员 (3)"]
    assert result.headers == names
    assert df.row(0) == ("1", "a", "b", "c", "d", 2)


def test_trailing_comma_header_and_wider_rows(tmp_path: Path) -> None:
    # Youzan-style trailing comma (empty last header) and one row wider than the header.
    text = " 客户姓名 ,客户手机号,\n张三,138,\n李四,139,,extra\n"
    result, df = read_one(write(tmp_path, "f.csv", text.encode()))
    assert result.headers == ["客户姓名", "客户手机号", "column_3", "column_4"]
    want = expected(
        [("张三", "138", None, None, 2), ("李四", "139", None, "extra", 3)], result.headers
    )
    assert_frame_equal(df, want)


def test_unique_headers_avoid_existing_names() -> None:
    assert unique_headers(["a", "a", "a (2)", "__line", " "]) == [
        "a",
        "a (3)",
        "a (2)",
        "__line (2)",
        "column_5",
    ]


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    result, df = read_one(write(tmp_path, "f.csv", b"id,name\n"))
    assert result.headers == ["id", "name"]
    assert df.height == 0
    assert df.schema == pl.Schema({"id": pl.String, "name": pl.String, "__line": pl.Int64})


def test_skip_rows_sets_the_header_line(tmp_path: Path) -> None:
    text = "Exported 2026-09-30\n\nid,x\n1,2\n"
    result, df = read_one(write(tmp_path, "f.csv", text.encode()), skip_rows=2)
    assert (result.header_line, result.preamble) == (3, ["Exported 2026-09-30", ""])
    assert df.row(0) == ("1", "2", 4)


def test_find_header_skips_title_rows() -> None:
    rows = [
        ["店内订单明细", None, None, None],
        ["营业日期：2024/01/01~2024/01/31", None, None, None],
        ["营业日期", "订单号", "订单金额（元）", "备注"],
        ["2024-01-05", "A1", "12", None],
        ["2024-01-06", "A2", "13", None],
    ]
    assert find_header(rows) == 2
    # a header with one empty name among five still counts (4 of 5 = 80%)
    assert find_header([["a", "b", "", "d", "e"], ["1", "2", "3", "4", "5"]]) == 0
    # a lone one-field title line above a 3-field table is not the header
    assert find_header([["Report"], ["a", "b", "c"], ["1", "2", "3"]]) == 1


# -- sampling -----------------------------------------------------------------------------------


def test_n_rows_reads_a_prefix_only(tmp_path: Path) -> None:
    body = b"".join(b"%d,v%d\n" % (i, i) for i in range(60_000))  # ~700 KB
    good = b"id,v\n" + body
    path = write(tmp_path, "big.csv", good + b"\xff\xfe\n")  # bad bytes at the very end
    result, df = read_one(path, n_rows=3)
    assert result.encoding == "utf-8"
    assert_frame_equal(df, expected([("0", "v0", 2), ("1", "v1", 3), ("2", "v2", 4)], ["id", "v"]))
    with pytest.raises(InputFileError, match=f"invalid byte 0xff at offset {len(good)}"):
        read_file(path)


def test_n_rows_counts_records_not_lines(tmp_path: Path) -> None:
    text = 'id,note\n1,"a\nb"\n2,c\n3,d\n'
    _, df = read_one(write(tmp_path, "f.csv", text.encode()), n_rows=2)
    assert_frame_equal(df, expected([("1", "a\nb", 2), ("2", "c", 4)], ["id", "note"]))


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b" \r\n\t\n", "empty_file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary_file"),
        (b"%PDF-1.7\n", "binary_file"),
        (b"id,name\n1,\x00\x01\x02\n", "binary_file"),
        (b"PAR1 truncated", "unreadable"),
    ],
)
def test_bad_files(tmp_path: Path, data: bytes, code: str) -> None:
    path = write(tmp_path, "f.csv", data)
    with pytest.raises(InputFileError) as info:
        read_file(path)
    assert info.value.reason_code == code
    assert info.value.message.startswith(str(path))
    assert "\n" not in info.value.message


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("orders.csv", "a,b\n1,2\n")
    with pytest.raises(InputFileError) as info:
        read_file(write(tmp_path, "orders.zip", buf.getvalue()))
    assert info.value.reason_code == "binary_file"


def test_corrupt_xlsx_is_unreadable(tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    workbook = xlsxwriter.Workbook(good)
    workbook.add_worksheet().write(0, 0, "id")
    workbook.close()
    bad = write(tmp_path, "bad.xlsx", good.read_bytes()[:200])
    with pytest.raises(InputFileError) as info:
        read_file(bad)
    assert info.value.reason_code == "unreadable"


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        read_file(tmp_path / "nope.csv")


# -- xlsx ---------------------------------------------------------------------------------------


def make_workbook(path: Path) -> None:
    workbook = xlsxwriter.Workbook(path)
    date_fmt = workbook.add_format({"num_format": "yyyy-mm-dd"})
    stamp_fmt = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    orders = workbook.add_worksheet("订单明细")
    orders.write(0, 0, "店内订单明细")  # row 1: title
    orders.write_row(1, 0, ["营业日期", "订单号", "人数", "金额", "结账时间", "备注"])  # row 2
    orders.write_datetime(2, 0, dt.datetime(2024, 1, 5), date_fmt)  # row 3
    orders.write_string(2, 1, "007")
    orders.write_number(2, 2, 4)
    orders.write_number(2, 3, 12.5)
    orders.write_datetime(2, 4, dt.datetime(2024, 1, 5, 13, 4, 5), stamp_fmt)
    orders.write_datetime(4, 0, dt.datetime(2024, 1, 6), date_fmt)  # row 5 (row 4 empty)
    orders.write_number(4, 1, 1234567890123)
    orders.write_string(4, 5, "")
    workbook.add_worksheet("empty")
    dishes = workbook.add_worksheet("菜品明细")
    dishes.write_row(2, 2, ["菜品名称", "销售数量"])  # header at C3 (rows 1-2 empty)
    dishes.write_row(3, 2, ["宫保鸡丁", 2])
    workbook.close()


def test_xlsx_first_sheet_with_title_row(tmp_path: Path) -> None:
    path = tmp_path / "meituan.xlsx"
    make_workbook(path)
    result, df = read_one(path)
    assert (result.format, result.sheet, result.header_line) == ("xlsx", "订单明细", 2)
    assert result.preamble == ["店内订单明细"]
    cols = ["营业日期", "订单号", "人数", "金额", "结账时间", "备注"]
    want = expected(
        [
            ("2024-01-05", "007", "4", "12.5", "2024-01-05 13:04:05", None, 3),
            ("2024-01-06", "1234567890123", None, None, None, None, 5),
        ],
        cols,
    )
    assert_frame_equal(df, want)


def test_xlsx_all_sheets_skips_empty_ones(tmp_path: Path) -> None:
    path = tmp_path / "meituan.xlsx"
    make_workbook(path)
    results = read_file(path, sheet="*")
    assert [r.sheet for r in results] == ["订单明细", "菜品明细"]
    dishes = results[1]
    assert (dishes.header_line, dishes.headers) == (3, ["菜品名称", "销售数量"])
    assert dishes.frame.collect().rows() == [("宫保鸡丁", "2", 4)]


def test_xlsx_sheet_by_index_and_name_and_n_rows(tmp_path: Path) -> None:
    path = tmp_path / "meituan.xlsx"
    make_workbook(path)
    assert read_file(path, sheet=2)[0].sheet == "菜品明细"
    _, df = read_one(path, sheet="订单明细", n_rows=1)
    assert df.get_column("__line").to_list() == [3]
    with pytest.raises(UsageError, match="no sheet 'nope'"):
        read_file(path, sheet="nope")
    with pytest.raises(InputFileError) as info:
        read_file(path, sheet="empty")
    assert info.value.reason_code == "empty_file"


# -- parquet ------------------------------------------------------------------------------------


def test_parquet_columns_become_text(tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    pl.DataFrame(
        {
            "ordered_at": [dt.datetime(2025, 1, 3, 10, tzinfo=dt.UTC), None],
            "local": [dt.datetime(2025, 1, 3, 18, 30, 0, 250000), dt.datetime(2025, 1, 4)],
            "qty": [42, -1],
            "tags": [["a", "b"], None],
            "meta": [{"k": 1}, {"k": None}],
        }
    ).write_parquet(path)
    result, df = read_one(path)
    assert (result.format, result.header_line) == ("parquet", 1)
    want = expected(
        [
            (
                "2025-01-03T10:00:00+00:00",
                "2025-01-03T18:30:00.250",
                "42",
                '["a","b"]',
                '{"k":1}',
                1,
            ),
            (None, "2025-01-04T00:00:00", "-1", None, '{"k":null}', 2),
        ],
        ["ordered_at", "local", "qty", "tags", "meta"],
    )
    assert_frame_equal(df, want)
    _, head = read_one(path, n_rows=1)
    assert head.height == 1


# -- sha256 -------------------------------------------------------------------------------------


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # 2.3 MB: spans several 1 MiB chunks
    path = write(tmp_path, "f.bin", data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


# -- property: any table written by Python's csv module reads back exactly ------------------------

cell = st.text(alphabet=st.sampled_from(list("ab Z中,;|\"\n\t'=")), max_size=6)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    width = draw(st.integers(1, 4))
    header = [f"col{i}" for i in range(width)]
    row = st.lists(cell, min_size=width, max_size=width).filter(lambda r: any(r))
    return header, draw(st.lists(row, max_size=8))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=tables(), crlf=st.booleans())
def test_csv_roundtrip_values_and_lines(
    tmp_path: Path, table: tuple[list[str], list[list[str]]], crlf: bool
) -> None:
    header, rows = table
    term = "\r\n" if crlf else "\n"
    buf = io.StringIO()
    csv.writer(buf, lineterminator=term).writerows([header, *rows])
    text = buf.getvalue()
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    result = read_file(path, delimiter=",")[0]
    df = result.frame.collect()
    assert result.headers == header
    # Values: identical, with "" read as null; the writer's CRLF never leaks into values.
    assert df.drop("__line").rows() == [tuple(v or None for v in r) for r in rows]
    # Lines: record k starts after the header plus every physical line of the records before it.
    starts, line = [], 2
    for r in rows:
        starts.append(line)
        line += 1 + sum(v.count("\n") for v in r)
    assert df.get_column("__line").to_list() == starts
    # Independently: the physical line at `__line` begins with the record's first field.
    physical = text.split("\n")
    for r, at in zip(rows, df.get_column("__line").to_list(), strict=True):
        first = io.StringIO()
        csv.writer(first, lineterminator=term).writerow(r[:1])
        prefix = "" if r[0] == "" else first.getvalue().split("\n")[0].rstrip("\r")
        assert physical[at - 1].startswith(prefix)


def test_truncated_gzip_is_unreadable(tmp_path: Path) -> None:
    data = gzip.compress(b"id,name\n" + b"1,abc\n" * 5000)
    with pytest.raises(InputFileError) as info:
        read_file(write(tmp_path, "f.csv.gz", data[: len(data) // 2]))
    assert info.value.reason_code == "unreadable"
    assert "gzip" in info.value.message


def test_skip_rows_past_the_end(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as info:
        read_file(write(tmp_path, "f.csv", b"id\n1\n"), skip_rows=5)
    assert info.value.reason_code == "empty_file"


def test_first_record_longer_than_the_sniff_sample(tmp_path: Path) -> None:
    long_value = "x" * 300_000  # longer than the 256 K characters first sniffed
    text = f'note,id\n"{long_value}",1\n'
    result, df = read_one(write(tmp_path, "f.csv", text.encode()))
    assert result.headers == ["note", "id"]
    assert df.row(0) == (long_value, "1", 2)


def test_header_longer_than_the_sniff_sample(tmp_path: Path) -> None:
    long_name = "h" * 300_000  # the header record itself is cut by the first sample
    text = f"{long_name},id\nv,1\n"
    result, df = read_one(write(tmp_path, "f.csv", text.encode()))
    assert result.headers == [long_name, "id"]
    assert df.row(0) == ("v", "1", 2)


def test_explicit_wrong_encoding_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "姓名\n张三\n".encode("gbk"))  # 0xd0 at offset 0
    with pytest.raises(InputFileError) as info:
        read_file(path, encoding="utf-8")
    assert info.value.reason_code == "undecodable"
    assert "not UTF-8 (invalid byte 0xd0 at offset 0)" in info.value.message
    with pytest.raises(UsageError, match="unknown encoding"):
        read_file(path, encoding="no-such-codec")


def test_xlsx_time_only_and_error_cells(tmp_path: Path) -> None:
    path = tmp_path / "times.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["时间", "比率"])
    time_fmt = workbook.add_format({"num_format": "hh:mm:ss"})
    sheet.write_datetime(1, 0, dt.datetime(1899, 12, 31, 13, 4, 5), time_fmt)  # day 0
    sheet.write_formula(1, 1, "=1/0", None, "#DIV/0!")
    workbook.close()
    _, df = read_one(path)
    assert df.rows() == [("13:04:05", None, 2)]
