"""Encoding detection and streamed transcoding (crmkit.sources.encoding)."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from crmkit.errors import InputFileError, UsageError
from crmkit.sources import encoding as enc


def test_iter_decoded_reports_absolute_offset_across_chunks() -> None:
    # "中文" is 6 bytes of UTF-8; with 4-byte chunks the bad byte 0xff at offset 8 arrives
    # while 2 bytes of "文" are still pending in the decoder.
    data = "中文ab".encode() + b"\xff" + b"cd"
    with pytest.raises(enc.DecodeFailure) as info:
        list(enc.iter_decoded(io.BytesIO(data), "utf-8", chunk_size=4))
    assert info.value.offset == 8
    assert info.value.byte == 0xFF
    assert info.value.describe() == "UTF-8 (invalid byte 0xff at offset 8)"


def test_iter_decoded_truncated_sequence_at_end() -> None:
    data = b"ab" + "中".encode()[:2]  # a 3-byte sequence cut after 2 bytes at offset 2
    with pytest.raises(enc.DecodeFailure) as info:
        list(enc.iter_decoded(io.BytesIO(data), "utf-8", chunk_size=3))
    assert info.value.offset == 2


def test_iter_decoded_gb18030_roundtrip_in_small_chunks() -> None:
    text = "小票号,会员姓名\n001,張偉\n"
    chunks = enc.iter_decoded(io.BytesIO(text.encode("gb18030")), "gb18030", chunk_size=3)
    assert "".join(chunks) == text


@pytest.mark.parametrize(
    ("given", "expected"),
    [("auto", "auto"), ("UTF8", "utf-8"), ("utf-8", "utf-8"), ("GBK", "gbk"), ("utf_16", "utf-16")],
)
def test_normalize_encoding(given: str, expected: str) -> None:
    assert enc.normalize_encoding(given) == expected


def test_normalize_encoding_unknown_is_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown encoding 'klingon'"):
        enc.normalize_encoding("klingon")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xef\xbb\xbfid", "utf-8-sig"),
        (b"\xff\xfei\x00", "utf-16"),
        (b"\xfe\xff\x00i", "utf-16"),
        (b"id,name", None),
    ],
)
def test_bom_encoding(head: bytes, expected: str | None) -> None:
    assert enc.bom_encoding(head) == expected


def test_cut_records_never_splits_a_quoted_field() -> None:
    text = 'a,b\n"x\ny",1\n2,3\n'
    # Record 1 = line 1; record 2 = lines 2-3 (newline inside quotes); record 3 = line 4.
    assert enc.cut_records(iter([text]), 2) == ('a,b\n"x\ny",1\n', False)
    assert enc.cut_records(iter([text]), 3) == (text, False)
    assert enc.cut_records(iter([text]), 10) == (text, True)


def test_cut_records_with_chunks_split_mid_line_and_escaped_quotes() -> None:
    text = 'a\n"he said ""hi""\nthen left"\nb\nc\n'
    chunks = iter([text[i : i + 5] for i in range(0, len(text), 5)])
    # "" escapes count twice, so only the closing quote on line 3 ends record 2.
    assert enc.cut_records(chunks, 3) == ('a\n"he said ""hi""\nthen left"\nb\n', False)


def test_plausibility_rejects_latin1_misread_as_gb18030() -> None:
    mojibake = "Währung,Ärger".encode("cp1252").decode("gb18030")  # decodes without error
    with pytest.raises(enc.ImplausibleDecode):
        enc.check_plausible_chinese(mojibake)
    enc.check_plausible_chinese("小票号,会员姓名,張偉")  # 7 of 9 common: accepted
    enc.check_plausible_chinese("plain ascii")  # nothing to judge: accepted


def test_prepare_full_transcodes_gbk_once_and_caches(tmp_path: Path) -> None:
    text = "小票号,会员姓名\n001,張偉\n"
    path = tmp_path / "pos.csv"
    path.write_bytes(text.encode("gbk"))
    first = enc.prepare_full(path)
    assert first.encoding == "gb18030"
    assert first.path != path
    assert first.path.read_text(encoding="utf-8") == text
    assert first.has_quotes is False
    assert enc.prepare_full(path) == first  # cached: no second transcoding


def test_prepare_full_utf8_is_scanned_in_place(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('id,name\n1,"Zoë"\n', encoding="utf-8")
    source = enc.prepare_full(path)
    assert (source.path, source.encoding, source.has_quotes) == (path, "utf-8", True)


def test_prepare_full_gzip_goes_to_a_temp_copy(tmp_path: Path) -> None:
    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress("id\n张\n".encode()))
    source = enc.prepare_full(path)
    assert source.encoding == "utf-8"
    assert source.path.read_text(encoding="utf-8") == "id\n张\n"


def test_explicit_encoding_is_strict(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"id,name\n1,\xd5\xc5\n")  # 张 in GBK at offset 10
    with pytest.raises(InputFileError) as info:
        enc.prepare_full(path, "utf-8")
    assert info.value.reason_code == "undecodable"
    assert "not UTF-8 (invalid byte 0xd5 at offset 10)" in info.value.message
    assert enc.prepare_full(path, "gbk").path.read_text(encoding="utf-8") == "id,name\n1,张\n"


def test_undecodable_names_both_offsets(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"id,name\n1,a\n" + b"\x80\x80\xff")  # bad bytes from offset 12
    with pytest.raises(InputFileError) as info:
        enc.prepare_full(path)
    err = info.value
    assert err.reason_code == "undecodable"
    assert err.path == str(path)
    assert "UTF-8 (invalid byte 0x80 at offset 12)" in err.message
    assert "GB18030 (invalid byte 0x80 at offset 12)" in err.message
    assert err.hint is not None and "encoding:" in err.hint


def test_prepare_sample_reads_only_a_prefix(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    body = b"".join(b"%d,row\n" % i for i in range(100_000))  # about 1 MB of valid text
    path.write_bytes(b"id,x\n" + body + b"\xff\n")
    sample = enc.prepare_sample(path, "auto", 50)
    assert sample.complete is False
    lines = sample.path.read_text(encoding="utf-8").split("\n")
    assert lines[:2] == ["id,x", "0,row"]
    assert len(lines) == 51  # 50 records and the empty string after the last newline
    with pytest.raises(InputFileError, match=r"offset \d+"):
        enc.prepare_full(path)


def test_clear_temp_removes_copies(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("名\n值\n".encode("utf-16"))
    copy = enc.prepare_full(path).path
    assert copy.exists()
    enc.clear_temp()
    assert not copy.exists()
    assert enc.prepare_full(path).path.read_text(encoding="utf-8") == "名\n值\n"


@pytest.mark.parametrize(
    ("data", "misplaced"),
    [
        (b'a,"x, y"\n', False),
        (b'"a""b",c\n', False),  # an escaped quote touches another quote
        (b'1,24" monitor\n', True),  # between "4" and " "
        (b'1,"x"y,z\n', True),  # text right after a closing quote
        (b'"1" ,2\n', True),  # a space after a closing quote
    ],
)
def test_misplaced_quote(data: bytes, misplaced: bool) -> None:
    assert enc.misplaced_quote(data) is misplaced


@pytest.mark.parametrize(
    ("parts", "count", "suspect"),
    [
        (
            (b"1,x", b'"y\n'),
            1,
            True,
        ),  # the quote arrives first in a chunk: its left neighbour is "x"
        ((b"1,x", b'"', b"y"), 1, True),  # a one-byte chunk between its neighbours
        ((b'1,"x', b'"\n'), 2, False),
        ((b'"a","', b'b"\n'), 4, False),
        ((b'1,"x\n', b"2,3\n"), 1, True),  # never closed: odd count
    ],
)
def test_quote_scan_across_chunks(parts: tuple[bytes, ...], count: int, suspect: bool) -> None:
    scan = enc.QuoteScan()
    for part in parts:
        scan.feed(part)
    assert (scan.count, scan.suspect) == (count, suspect)
