"""Privacy helpers, labels and locale formatting."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from crmkit.config import load_config
from crmkit.errors import ConfigError
from crmkit.report.i18n import LABELS, Formatter
from crmkit.report.privacy import display_name, initials, protect, scrub
from crmkit.report.settings import report_settings


def test_labels_exist_in_both_languages():
    assert set(LABELS["en"]) == set(LABELS["zh"])


def test_initials_and_modes():
    assert initials("Mary Ann Smith") == "M. A. S."
    assert initials("张伟") == "张*"
    assert initials("  ") is None
    assert display_name("Mary Smith", "full") == "Mary Smith"
    assert display_name("Mary Smith", "hidden") is None


def test_scrub_masks_contacts_only():
    assert scrub("mail a.b@example.com now") == "mail ***@*** now"
    assert scrub("call +86 138 0013 8000") == "call ***"
    assert scrub("order 2025-06-30 had 12 items") == "order 2025-06-30 had 12 items"


def test_protect_drops_contacts_unless_asked():
    df = pl.DataFrame({"full_name": ["Mary Smith"], "email": ["m@x.com"], "phone": ["+1555"]})
    assert protect(df, include_pii=False, names="initials").to_dicts() == [{"full_name": "M. S."}]
    assert protect(df, include_pii=True, names="full").columns == ["full_name", "email", "phone"]


def test_formatter_en_and_zh():
    en, zh = Formatter("en", "USD"), Formatter("zh", "CNY")
    assert en.money(1234.5) == "$1,234.50" and zh.money(-3) == "-¥3.00"
    assert Formatter("en", "CHF").money(10) == "CHF 10.00"
    assert en.date(dt.date(2025, 3, 1)) == "1 Mar 2025"
    assert zh.date(dt.date(2025, 3, 1)) == "2025年3月1日"
    assert en.metric(0.1234, "ratio") == "12.3%" and en.metric(None, "ratio") == "—"
    assert en.delta(-0.012, "ratio") == "▼ 1.2 pp"
    assert zh.metric(3.0, "days") == "3.0 天"
    assert en.headline(1_888_668.88, "currency") == "$1,888,669"


def test_report_settings_validation(tmp_path):
    (tmp_path / "crmkit.yaml").write_text("report: {names: nicknames}\n")
    with pytest.raises(ConfigError):
        report_settings(load_config(tmp_path))
    (tmp_path / "crmkit.yaml").write_text("report: {colour: red}\n")
    with pytest.raises(ConfigError):
        report_settings(load_config(tmp_path))
    (tmp_path / "crmkit.yaml").write_text("report: {top_customers: 5}\n")
    assert report_settings(load_config(tmp_path))["top_customers"] == 5
