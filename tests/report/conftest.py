"""Fixtures: the small report workspace (see fixture.py) and reports built from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmkit.report import ReportData, build_report
from crmkit.workspace import Workspace
from tests.report.fixture import make_workspace


@pytest.fixture(scope="session")
def ws_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workspace(tmp_path_factory.mktemp("report") / "ws", names="full")


@pytest.fixture(scope="session")
def report_en(ws_path: Path) -> ReportData:
    return build_report(Workspace(ws_path), period="Q2")


@pytest.fixture(scope="session")
def report_zh(ws_path: Path) -> ReportData:
    return build_report(Workspace(ws_path), period="Q2", lang="zh")


@pytest.fixture(scope="session")
def html_en(report_en: ReportData) -> str:
    from crmkit.report.html import render_html

    return render_html(report_en)
