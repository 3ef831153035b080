"""HTML: self-contained, escaped, private by default, both languages, small."""

from __future__ import annotations

import re
from pathlib import Path

from crmkit.report import build_report, write_report
from crmkit.report.html import render_html
from crmkit.workspace import Workspace
from tests.report.fixture import EMAILS, HOSTILE, PHONES, make_workspace

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def test_hostile_name_is_escaped(html_en):
    assert HOSTILE not in html_en
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_en
    assert "<script" not in html_en.lower()


def test_self_contained(html_en):
    lowered = html_en.lower()
    for bad in ("<script", "<link", "@import", "<iframe", "<img", " src=", "url(http"):
        assert bad not in lowered, bad
    # Links point inside the page only; namespaces are the only absolute URLs in attributes.
    links = re.findall(r"(?:href|src|action)\s*=\s*[\"']([^\"']*)", html_en)
    assert links and all(link.startswith("#") for link in links), links
    xmlns = set(re.findall(r"xmlns(?::\w+)?=\"([^\"]+)\"", html_en))
    assert xmlns <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, xmlns
    assert '<meta name="viewport"' in html_en
    assert "Content-Security-Policy" in html_en


def test_every_section_and_chart_present(report_en, html_en):
    for sec in report_en.sections:
        assert f'id="{sec.key}"' in html_en
        for chart in sec.charts:
            assert f'data-chart="{chart.key}"' in html_en
    assert html_en.count("<svg") == sum(len(s.charts) for s in report_en.sections)


def test_no_contacts_without_include_pii(html_en):
    assert not EMAIL_RE.search(html_en)
    for phone in PHONES:
        assert phone not in html_en and phone[3:] not in html_en


def test_contacts_with_include_pii(ws_path):
    html = render_html(build_report(Workspace(ws_path), period="Q2", include_pii=True))
    assert EMAILS[0] in html and PHONES[0] in html


def test_initials_by_default(tmp_path: Path):
    ws = make_workspace(tmp_path / "ws", names="initials")
    html = render_html(build_report(Workspace(ws), period="Q2"))
    assert "Mary Smith" not in html and "M. S." in html
    assert "张*" in html


def test_chinese_report(report_zh):
    html = render_html(report_zh)
    assert '<html lang="zh-CN">' in html
    assert "<h2>核心指标</h2>" in html and "<h2>数据质量</h2>" in html
    assert "净推荐值" in html  # metric name from the registry's Chinese names
    assert "2025年6月30日" in html  # dates in the Chinese form


def test_size_under_3_mb_and_private_file(report_en, tmp_path: Path):
    path = write_report(report_en, tmp_path / "report.html")
    assert path.stat().st_size < 3 * 1024 * 1024
    assert path.stat().st_mode & 0o777 == 0o600
