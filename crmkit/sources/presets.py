"""Mapping presets: one YAML per known export (Shopify orders, 淘宝 orders, Meta Ads, …).

Built-in presets are the YAML files in the repository's `configs/presets/`, which ships inside
the package as `crmkit.configs`, so an installed crmkit finds them outside the repository; a user
preset is any YAML file of the same shape, named by its path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from crmkit.errors import ConfigError, UsageError
from crmkit.resources import configs_dir
from crmkit.schema import SOURCE_TABLES
from crmkit.sources.synonyms import clean_header, header_key

_SIGNATURE_KEYS = {"all", "any", "none", "regex", "none_regex", "first"}
_PRESET_KEYS = {
    "name", "title", "system", "table", "verification", "source", "detect", "columns",
    "line_columns", "status_map", "value_maps", "options", "notes",
}  # fmt: skip


@dataclass(frozen=True)
class Signature:
    """Headers that identify an export: all of `all`, one of `any`, none of `none`, every
    `regex` matching some header, and `first` as the first header (all case-insensitive)."""

    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    none_regex: tuple[str, ...] = ()
    first: str | None = None

    def score(self, headers: list[str]) -> float:
        """Fraction of the signature's conditions that hold (0 when a `none` condition fails)."""
        keys = {header_key(h) for h in headers}
        cleaned = [clean_header(h) for h in headers]
        if any(header_key(h) in keys for h in self.none):
            return 0.0
        if any(re.search(p, h) for p in self.none_regex for h in cleaned):
            return 0.0
        checks = [header_key(h) in keys for h in self.all]
        if self.any:
            checks.append(any(header_key(h) in keys for h in self.any))
        checks += [any(re.search(p, h) for h in cleaned) for p in self.regex]
        if self.first is not None:
            checks.append(bool(headers) and header_key(headers[0]) == header_key(self.first))
        return sum(checks) / len(checks) if checks else 0.0

    def describe(self) -> str:
        """The signature in one line, for docs and `detect` reasons."""
        parts = list(self.all)
        if self.any:
            parts.append("(" + " or ".join(self.any) + ")")
        parts += [f"/{p}/" for p in self.regex]
        if self.first:
            parts.insert(0, f"first={self.first}")
        text = " + ".join(parts)
        if self.none:
            text += " without " + ", ".join(self.none)
        return text


@dataclass(frozen=True)
class Preset:
    """A named mapping for one export format, with how to recognise it and how sure we are."""

    name: str
    title: str
    system: str
    table: str
    signatures: tuple[Signature, ...]
    columns: dict[str, Any]
    line_columns: dict[str, Any] | None = None
    status_map: dict[str, str] = field(default_factory=dict)
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    verification: str = "R-SINGLE"
    source: str = ""
    notes: tuple[str, ...] = ()
    path: str = ""

    @property
    def docs(self) -> dict[str, Any]:
        """Provenance: where the headers come from and how well they are verified."""
        return {"source": self.source, "verification": self.verification, "notes": self.notes}

    def match(self, headers: list[str]) -> float:
        """How well `headers` fit this preset's best signature (1.0 = every condition holds)."""
        return max((s.score(headers) for s in self.signatures), default=0.0)


def _presets_dir() -> Path:
    return Path(str(configs_dir())) / "presets"


def _fold_map(raw: dict[str, Any] | None) -> dict[str, str]:
    return {str(k).strip().lower(): str(v) for k, v in (raw or {}).items()}


def _load(path: Path) -> Preset:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read preset {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"preset {path} must be a mapping")
    where = f"preset {path.name}"
    unknown = sorted(set(data) - _PRESET_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    table = data.get("table")
    if table not in SOURCE_TABLES:
        raise ConfigError(f"{where}: unknown table {table!r}")
    _check_columns(where, table, data.get("columns") or {})
    if data.get("line_columns") is not None:
        _check_columns(where, "order_lines", data["line_columns"])
    detect = data.get("detect") or []
    if isinstance(detect, dict):
        detect = [detect]
    signatures = []
    for sig in detect:
        bad = sorted(set(sig) - _SIGNATURE_KEYS)
        if bad:
            raise ConfigError(f"{where}: unknown detect key(s) {', '.join(bad)}")
        signatures.append(
            Signature(
                **{k: tuple(v) if isinstance(v, list) else v for k, v in sig.items()}  # type: ignore[arg-type]
            )
        )
    return Preset(
        name=str(data.get("name") or path.stem),
        title=str(data.get("title") or data.get("name") or path.stem),
        system=str(data.get("system") or ""),
        table=table,
        signatures=tuple(signatures),
        columns=dict(data.get("columns") or {}),
        line_columns=data.get("line_columns"),
        status_map=_fold_map(data.get("status_map")),
        value_maps={c: _fold_map(m) for c, m in (data.get("value_maps") or {}).items()},
        options=dict(data.get("options") or {}),
        verification=str(data.get("verification") or "R-SINGLE"),
        source=str(data.get("source") or ""),
        notes=tuple(data.get("notes") or ()),
        path=str(path),
    )


def _check_columns(where: str, table: str, columns: dict[str, Any]) -> None:
    known = set(SOURCE_TABLES[table].names)
    bad = sorted(set(columns) - known)
    if bad:
        raise ConfigError(f"{where}: {table} has no column(s) {', '.join(bad)}")


@cache
def _builtin() -> dict[str, Preset]:
    out: dict[str, Preset] = {}
    for path in sorted(_presets_dir().glob("*.yaml")):
        preset = _load(path)
        out[preset.name] = preset
    return out


def list_presets() -> list[Preset]:
    """Every built-in preset, sorted by name."""
    return sorted(_builtin().values(), key=lambda p: p.name)


def get_preset(name_or_path: str) -> Preset:
    """A built-in preset by name, or a user preset from a YAML path."""
    builtin = _builtin()
    if name_or_path in builtin:
        return builtin[name_or_path]
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise UsageError(f"preset file not found: {name_or_path}")
        return _load(path)
    raise UsageError(
        f"unknown preset {name_or_path!r}",
        hint="known presets: " + ", ".join(builtin) + " (or give the path of a preset YAML)",
    )
