"""Excel, Markdown and JSON reports; atomic private writes; the CLI."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmkit.cli.app import app
from crmkit.cli.main import main
from crmkit.errors import UsageError
from crmkit.report import write, write_report
from crmkit.report.markdown import md_escape, render_markdown
from crmkit.report.xlsx import guard_text
from tests.report.fixture import EMAILS, FORMULA, HOSTILE, PHONES


def _xlsx_parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")}


def test_guard_text():
    for risky in ("=1+2", "+1", "-cmd", "@SUM(A1)", "\tx", "\rx"):
        assert guard_text(risky) == "'" + risky
    assert guard_text("plain") == "plain"
    assert guard_text(-5) == -5 and guard_text(3.5) == 3.5


def test_xlsx_sheets_formats_and_injection_safety(report_en, tmp_path: Path):
    path = write_report(report_en, tmp_path / "r.xlsx")
    assert path.stat().st_mode & 0o777 == 0o600
    parts = _xlsx_parts(path)
    names = re.findall(r'<sheet name="([^"]+)"', parts["xl/workbook.xml"])
    assert names[0] == "Summary"
    assert {"Trends", "Cohorts", "Segments", "Customer lifetime value", "Data quality"} <= set(
        names
    )
    sheets = [v for k, v in parts.items() if k.startswith("xl/worksheets/sheet")]
    assert not any("<f>" in s for s in sheets), "no cell may hold a formula"
    assert all('state="frozen"' in s for s in sheets)
    assert any(k.startswith("xl/tables/") and "autoFilter" in v for k, v in parts.items())
    strings = parts["xl/sharedStrings.xml"]
    assert "'=1+2" in strings  # the rejects reason code, guarded
    assert "'=HYPERLINK" in strings  # the formula-like customer name, guarded
    assert "&lt;script&gt;" in strings  # stored as text, XML-escaped
    # Numbers stay numbers: the orders of the trend table are numeric cells (no t="s").
    trends = parts[f"xl/worksheets/sheet{names.index('Trends') + 1}.xml"]
    assert re.search(r'<c r="C\d+" s="\d+"><v>\d+</v></c>', trends)
    styles = parts["xl/styles.xml"]
    assert "0.0%" in styles and "#,##0" in styles and "$" in styles
    assert not any(e in s for s in parts.values() for e in EMAILS)


def test_xlsx_is_the_same_file_byte_for_byte_when_written_again(report_en, tmp_path: Path):
    """Determinism: the workbook's creation time is the report's as-of date, not the clock."""
    import time

    first = write_report(report_en, tmp_path / "a.xlsx").read_bytes()
    time.sleep(1.1)  # xlsx times have one-second resolution
    again = write_report(report_en, tmp_path / "b.xlsx").read_bytes()
    assert first == again
    core = zipfile.ZipFile(tmp_path / "a.xlsx").read("docProps/core.xml").decode()
    assert f'<dcterms:created xsi:type="dcterms:W3CDTF">{report_en.as_of}T00:00:00Z' in core


def test_markdown(report_en, report_zh):
    md = render_markdown(report_en)
    assert md.startswith("# Customer report")
    assert "## Headline" in md and "## Data quality" in md
    assert HOSTILE not in md and "&lt;script&gt;" in md
    assert not re.search(r"[\w.+-]+@[\w-]+\.\w+", md)
    assert not any(p in md for p in PHONES)
    zh = render_markdown(report_zh)
    assert "## 核心指标" in zh and "净推荐值" in zh


def test_md_escape():
    assert md_escape("a|b\nc") == "a\\|b c"
    assert md_escape("<b>") == "&lt;b&gt;"


def test_json_shape(report_en, tmp_path: Path):
    path = write_report(report_en, tmp_path / "r.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["version"] == 1 and doc["as_of"] == "2025-06-30"
    assert doc["period"] == {"label": "2025Q2", "start": "2025-04-01", "end": "2025-06-30"}
    keys = [s["key"] for s in doc["sections"]]
    assert keys[0] == "headline" and keys[-1] == "appendix"
    head = doc["sections"][0]
    assert {"metric", "value", "delta", "target_met"} <= set(head["cards"][0])
    trends = next(s for s in doc["sections"] if s["key"] == "trends")
    monthly = next(t for t in trends["tables"] if t["key"] == "monthly")
    assert isinstance(monthly["rows"][-1]["orders"], int)
    text = path.read_text(encoding="utf-8")
    assert not any(e in text for e in EMAILS)
    assert FORMULA.replace('"', '\\"') in text  # JSON keeps data verbatim (no spreadsheet there)


def test_atomic_write_keeps_previous_file_on_failure(report_en, tmp_path: Path, monkeypatch):
    path = write_report(report_en, tmp_path / "r.md")
    before = path.read_bytes()

    def fail(data):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(write, "_renderer", lambda suffix: fail)
    with pytest.raises(RuntimeError):
        write_report(report_en, path)
    assert path.read_bytes() == before

    def broken_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.undo()
    monkeypatch.setattr(write.os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_report(report_en, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.md"]  # no temp file left


def test_unknown_extension(report_en, tmp_path: Path):
    with pytest.raises(UsageError):
        write_report(report_en, tmp_path / "r.pdf")


runner = CliRunner()


def test_cli_writes_files(ws_path: Path, tmp_path: Path):
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        [
            "report",
            "-w",
            str(ws_path),
            "-p",
            "Q2",
            "-o",
            str(out / "r.html"),
            "-o",
            str(out / "r.xlsx"),
            "--lang",
            "zh",
        ],
    )
    assert res.exit_code == 0, res.output
    assert (out / "r.html").is_file() and (out / "r.xlsx").is_file()
    assert "核心指标" in (out / "r.html").read_text(encoding="utf-8")


def test_cli_dashboard_and_json(ws_path: Path):
    res = runner.invoke(app, ["report", "-w", str(ws_path), "-p", "Q2"])
    assert res.exit_code == 0, res.output
    assert "Headline" in res.output and "Net revenue" in res.output
    res = runner.invoke(app, ["report", "-w", str(ws_path), "-p", "Q2", "--format", "json"])
    assert res.exit_code == 0
    assert json.loads(res.output)["period"]["label"] == "2025Q2"


def test_cli_usage_errors(ws_path: Path, tmp_path: Path, capsys):
    code = main(["report", "-w", str(ws_path), "-o", str(tmp_path / "r.pdf")])
    assert code == 2
    assert "cannot write a report to r.pdf" in capsys.readouterr().err
    assert not (tmp_path / "r.pdf").exists()
    assert main(["report", "-w", str(ws_path), "--period", "nonsense"]) == 2
