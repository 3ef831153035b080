"""Config loading: layers, precedence, environment variables, relative paths, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmkit.config import load_config, validate
from crmkit.errors import ConfigError


def _ws(tmp_path: Path, text: str) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "crmkit.yaml").write_text(text, encoding="utf-8")
    return ws


def test_precedence_cli_over_env_over_config_file_over_workspace_over_defaults(tmp_path):
    ws = _ws(tmp_path, "timezone: Asia/Shanghai\ncurrency: CNY\nwindows: {active_window: 200}\n")
    extra = tmp_path / "extra.yaml"
    extra.write_text("currency: EUR\nwindows: {new_window: 30}\n", encoding="utf-8")
    env = {"CRMKIT_CURRENCY": "GBP", "CRMKIT_WINDOWS__ACTIVE_WINDOW": "180"}
    cfg = load_config(ws, extra, environ=env, overrides={"timezone": "Europe/Berlin"})
    assert cfg.timezone == "Europe/Berlin"  # command line beats the workspace file
    assert cfg["currency"] == "GBP"  # environment beats both files
    assert cfg.windows["active_window"] == 180  # env value parsed as a number
    assert cfg.windows["new_window"] == 30  # --config file beats the default 90
    assert cfg.windows["conversion_window"] == 30  # untouched default
    assert cfg.origins == (
        "defaults",
        str(ws / "crmkit.yaml"),
        str(extra),
        "environment",
        "command line",
    )


def test_without_any_file_the_defaults_apply(tmp_path):
    cfg = load_config(tmp_path, environ={})
    assert cfg.timezone == "UTC" and cfg.windows["active_window"] == 365 and cfg.sources == ()


def test_source_paths_are_relative_to_the_file_that_declares_them(tmp_path):
    data = tmp_path / "exports"
    data.mkdir()
    for name in ("b.csv", "a.csv", "notes.md"):
        (data / name).write_text("x\n1\n")
    cfg_file = tmp_path / "conf" / "shop.yaml"
    cfg_file.parent.mkdir()
    cfg_file.write_text("sources:\n  - {name: pos, path: ../exports/*.csv, table: orders}\n")
    cfg = load_config(tmp_path / "elsewhere", cfg_file, environ={})
    files = cfg.source("pos").files()
    assert [p.name for p in files] == ["a.csv", "b.csv"]
    folder = load_config(tmp_path, environ={}, overrides=None)
    assert folder.sources == ()


def test_a_folder_source_lists_only_data_files(tmp_path):
    data = tmp_path / "in"
    data.mkdir()
    for name in ("x.csv", "y.xlsx", "z.parquet", "README.md", ".hidden.csv"):
        (data / name).write_text("")
    ws = _ws(tmp_path, "sources:\n  - {name: s, path: ../in}\n")
    cfg = load_config(ws, environ={})
    assert [p.name for p in cfg.source("s").files()] == ["x.csv", "y.xlsx", "z.parquet"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("timezon: UTC\n", "unknown setting(s) timezon"),
        ("sources:\n  - {name: a}\n", "has no `path`"),
        ("sources:\n  - {name: a, path: x, tabel: orders}\n", "unknown key(s) tabel"),
        ("sources:\n  - {name: a, path: x}\n  - {name: a, path: y}\n", "two sources are named"),
        ("timezone: [unclosed\n", "crmkit.yaml:1"),
    ],
)
def test_bad_config_gives_one_clear_error(tmp_path, text, needle):
    ws = _ws(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(ws, environ={})
    assert needle in info.value.message


def test_validate_rejects_an_unknown_timezone_and_bad_fiscal_month(tmp_path):
    with pytest.raises(ConfigError, match="unknown timezone"):
        validate(load_config(_ws(tmp_path, "timezone: Mars/Base\n"), environ={}))
    with pytest.raises(ConfigError, match="fiscal_year_start"):
        validate(load_config(tmp_path, environ={}, overrides={"fiscal_year_start": 13}))


def test_secrets_are_redacted(tmp_path):
    cfg = load_config(tmp_path, environ={}, overrides={"report": {"smtp_password": "hunter2"}})
    assert cfg.redacted()["report"]["smtp_password"] == "***"
