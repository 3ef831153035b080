"""Exports: formats by extension, masking, and spreadsheet formula-injection guards."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from crmkit.errors import UsageError
from crmkit.export import guard_formulas, mask_pii, write_export

FRAME = pl.DataFrame(
    {
        "customer_key": ["K1", "K2", "K3", "K4"],
        "full_name": ["张伟", "Mary Smith", None, '=HYPERLINK("http://x")'],
        "email": ["zhang.wei@example.com", "mary@shop.co.uk", None, "no-at-sign"],
        "phone": ["+8613800138000", "+14155550123", None, "12345"],
        "note": ["=1+2", "+cmd|' /C calc'!A0", "@SUM(A1)", "\tTAB"],
        "plain": ["-12.5", "+3", "normal", "\rCR"],
        "balance": [-5.0, 0.0, 1.5, -0.25],
    }
)


def test_masking() -> None:
    m = mask_pii(FRAME)
    assert m["email"].to_list() == ["z***@example.com", "m***@shop.co.uk", None, "***"]
    assert m["phone"].to_list() == ["+86138****8000", "+14155**0123", None, "*2345"]
    assert m["full_name"].to_list() == ["张*", "M*********", None, "=" + "*" * 21]


def test_guard_formulas() -> None:
    g = guard_formulas(FRAME)
    assert g["note"].to_list() == ["'=1+2", "'+cmd|' /C calc'!A0", "'@SUM(A1)", "'\tTAB"]
    assert g["plain"].to_list() == ["-12.5", "+3", "normal", "'\rCR"]  # plain numbers stay
    assert g["balance"].to_list() == [-5.0, 0.0, 1.5, -0.25]  # numeric column untouched
    assert g["phone"][0] == "+8613800138000"  # an E.164 number is a plain number


def test_csv_export_is_injection_safe(tmp_path: Path) -> None:
    path = write_export(FRAME, tmp_path / "out.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["note"][0] for r in rows] == ["'"] * 4
    assert rows[0]["balance"] == "-5.0"  # a real negative number, unquoted
    assert rows[3]["full_name"].startswith("'=")


def test_csv_export_masked(tmp_path: Path) -> None:
    path = write_export(FRAME, tmp_path / "out.csv", mask=True)
    text = path.read_text(encoding="utf-8")
    assert "zhang.wei" not in text and "z***@example.com" in text
    assert "'+86138****8000" in text  # masked text is not a number: guarded too


def test_xlsx_export_keeps_numbers_numeric(tmp_path: Path) -> None:
    path = write_export(FRAME, tmp_path / "out.xlsx")
    back = pl.read_excel(path)
    assert back["balance"].dtype == pl.Float64 and back["balance"][0] == -5.0
    assert back["note"][0] == "'=1+2"


def test_parquet_export_is_typed_and_unguarded(tmp_path: Path) -> None:
    path = write_export(FRAME, tmp_path / "out.parquet")
    back = pl.read_parquet(path)
    assert back["note"][0] == "=1+2"  # not a spreadsheet: kept as is


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown extension"):
        write_export(FRAME, tmp_path / "out.txt")
