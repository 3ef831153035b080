"""Workspace configuration (`crmkit.yaml`): model, loading and precedence.

Precedence, lowest first: built-in defaults < the workspace's `crmkit.yaml` < a `--config` file <
`CRMKIT_*` environment variables < command-line options. Nested keys in the environment use a
double underscore: `CRMKIT_WINDOWS__ACTIVE_WINDOW=180`. Source paths are relative to the file
that declares them, so a config can live beside its data or elsewhere.

Sections used by later stages (`identity`, `segment`, `clv`, `report`, `run`, …) are kept as
plain mappings here and parsed by the module that owns them (`Config.section(name)`).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from crmkit.errors import ConfigError

CONFIG_NAME = "crmkit.yaml"

# Global CLI options that have their own environment variables (read by the CLI, not merged here).
_CLI_ENV = {"WORKSPACE", "CONFIG", "AS_OF", "LANG", "FORMAT", "QUIET", "VERBOSE"}

DEFAULTS: dict[str, Any] = {
    "timezone": "UTC",
    "currency": "USD",
    "phone_region": None,
    "date_order": "ymd",
    "decimal": ".",
    "fiscal_year_start": 1,
    "sources": [],
    "windows": {
        "active_window": 365,
        "conversion_window": 30,
        "new_window": 90,
        "at_risk_after": None,
        "churned_after": None,
    },
    "thresholds": {
        "max_reject_rate": 0.05,
        "future_days": 2,
        "min_year": 1990,
        "max_unresolved_rate": 0.5,
    },
    "scales": {"nps": [0, 10], "csat": [1, 5], "ces": [1, 7], "ratings": [1, 5]},
    "missing_codes": [-99, -2, -3],
    "targets": {},
    "ingest": {"processes": "auto"},
    "identity": {},
    "segment": {},
    "clv": {},
    "metrics": {},
    "analysis": {},
    "report": {},
    "run": {},
}

SOURCE_KEYS = {
    "name",
    "path",
    "table",
    "preset",
    "columns",
    "encoding",
    "delimiter",
    "sheet",
    "date_order",
    "decimal",
    "currency",
    "phone_region",
    "timezone",
    "skip_rows",
    "status_map",
    "constants",
    "derive",
}


@dataclass(frozen=True)
class SourceConfig:
    """One configured source: where its files are and how to read and map them."""

    name: str
    path: str
    base_dir: Path
    table: str | None = None
    preset: str | None = None
    columns: dict[str, Any] = field(default_factory=dict)
    encoding: str = "auto"
    delimiter: str | None = None
    sheet: str | int | None = None
    date_order: str | None = None
    decimal: str | None = None
    currency: str | None = None
    phone_region: str | None = None
    timezone: str | None = None
    skip_rows: int | None = None
    status_map: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    derive: dict[str, Any] = field(default_factory=dict)

    def files(self) -> list[Path]:
        """The files this source names now: a path, a folder (every file in it) or a glob."""
        pattern = Path(self.path).expanduser()
        if not pattern.is_absolute():
            pattern = self.base_dir / pattern
        if any(ch in self.path for ch in "*?["):
            anchor = Path(pattern.anchor)
            return sorted(p for p in anchor.glob(str(pattern.relative_to(anchor))) if p.is_file())
        if pattern.is_dir():
            return sorted(p for p in pattern.iterdir() if p.is_file() and _is_data_file(p))
        return [pattern]


def _is_data_file(path: Path) -> bool:
    name = path.name.lower()
    return not name.startswith(".") and name.endswith(
        (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".xlsx", ".xlsm", ".parquet")
    )


@dataclass(frozen=True)
class Config:
    """The effective configuration after every layer has been merged."""

    data: dict[str, Any]
    sources: tuple[SourceConfig, ...]
    origins: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def section(self, name: str) -> dict[str, Any]:
        """A later stage's own settings (e.g. `identity`), as a plain mapping."""
        value = self.data.get(name) or {}
        if not isinstance(value, dict):
            raise ConfigError(f"config section {name!r} must be a mapping, not {value!r}")
        return value

    @property
    def timezone(self) -> str:
        return str(self.data["timezone"])

    @property
    def windows(self) -> dict[str, Any]:
        return self.data["windows"]

    @property
    def thresholds(self) -> dict[str, Any]:
        return self.data["thresholds"]

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise ConfigError(f"no source named {name!r} in the config")

    def redacted(self) -> dict[str, Any]:
        """The merged config with anything that looks like a secret masked (for run.json)."""
        return _redact(self.data)


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "***"
            if any(s in k.lower() for s in ("password", "secret", "token", "key"))
            and isinstance(v, str)
            else _redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `over` into a copy of `base`; mappings merge key by key, everything else replaces."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one config file, with the line of a YAML error in the message."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        # The context mark points at where the broken construct starts (an unclosed bracket),
        # which is where a person has to look; the problem mark is where parsing gave up.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a mapping of settings")
    unknown = sorted(set(data) - set(DEFAULTS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {', '.join(unknown)}",
            hint=f"known settings: {', '.join(DEFAULTS)}",
        )
    for src in data.get("sources") or []:
        if isinstance(src, dict):
            src.setdefault("_base_dir", str(path.parent.resolve()))
    return data


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """`CRMKIT_A__B=v` → {"a": {"b": v}}, values parsed as YAML scalars (numbers, booleans)."""
    out: dict[str, Any] = {}
    for key, raw in sorted(environ.items()):
        if not key.startswith("CRMKIT_") or key[7:] in _CLI_ENV:
            continue
        parts = key[7:].lower().split("__")
        if parts[0] not in DEFAULTS or parts[0] == "sources":
            continue
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        try:
            node[parts[-1]] = yaml.safe_load(raw)
        except yaml.YAMLError:
            node[parts[-1]] = raw
    return out


def load_config(
    workspace: Path | None,
    config_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Merge every layer into the effective config and validate it."""
    data = copy.deepcopy(DEFAULTS)
    origins = ["defaults"]
    layers: list[Path] = []
    if workspace is not None and (workspace / CONFIG_NAME).is_file():
        layers.append(workspace / CONFIG_NAME)
    own = (workspace / CONFIG_NAME).resolve() if workspace is not None else None
    if config_file is not None and config_file.resolve() != own:
        layers.append(config_file)
    for path in layers:
        layer = read_yaml(path)
        if "sources" in layer and path is not layers[0]:
            data["sources"] = []  # a later file's sources replace, never duplicate, earlier ones
        data = deep_merge(data, layer)
        origins.append(str(path))
    env = env_overrides(os.environ if environ is None else environ)
    if env:
        data = deep_merge(data, env)
        origins.append("environment")
    if overrides:
        data = deep_merge(data, {k: v for k, v in overrides.items() if v is not None})
        origins.append("command line")
    base = workspace.resolve() if workspace is not None else Path.cwd()
    return Config(data=data, sources=_sources(data["sources"], base), origins=tuple(origins))


def _sources(raw: list[Any], default_base: Path) -> tuple[SourceConfig, ...]:
    if not isinstance(raw, list):
        raise ConfigError("`sources` must be a list of source entries")
    seen: set[str] = set()
    out = []
    for i, entry in enumerate(raw, 1):
        if not isinstance(entry, dict):
            raise ConfigError(f"source #{i} must be a mapping with at least `name` and `path`")
        entry = dict(entry)
        base = Path(entry.pop("_base_dir", default_base))
        unknown = sorted(set(entry) - SOURCE_KEYS)
        if unknown:
            raise ConfigError(
                f"source #{i} ({entry.get('name', '?')}): unknown key(s) {', '.join(unknown)}",
                hint=f"known keys: {', '.join(sorted(SOURCE_KEYS))}",
            )
        for key in ("name", "path"):
            if not entry.get(key):
                raise ConfigError(f"source #{i} has no `{key}`")
        if entry["name"] in seen:
            raise ConfigError(f"two sources are named {entry['name']!r}; names must be unique")
        seen.add(entry["name"])
        out.append(SourceConfig(base_dir=base, **entry))
    return tuple(out)


def validate(config: Config) -> None:
    """Check the values that would otherwise fail deep inside a run."""
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown timezone {config.timezone!r}", hint="use an IANA name such as Asia/Shanghai"
        ) from None
    if config["date_order"] not in ("ymd", "dmy", "mdy"):
        raise ConfigError("date_order must be one of ymd, dmy, mdy")
    if config["decimal"] not in (".", ","):
        raise ConfigError("decimal must be '.' or ','")
    fy = config["fiscal_year_start"]
    if not isinstance(fy, int) or not 1 <= fy <= 12:
        raise ConfigError("fiscal_year_start must be a month number 1..12")
    for s in config.sources:
        if s.date_order not in (None, "ymd", "dmy", "mdy"):
            raise ConfigError(f"source {s.name}: date_order must be one of ymd, dmy, mdy")


def adopt(config_file: Path, workspace: Path) -> Path | None:
    """Give a new workspace its own `crmkit.yaml`: a copy of `config_file` with source paths
    re-based, so later commands need only `-w`. Does nothing when the workspace has one."""
    target = workspace / CONFIG_NAME
    if target.exists():
        return None
    data = read_yaml(config_file)
    for src in data.get("sources") or []:
        base = Path(src.pop("_base_dir"))
        path = Path(str(src["path"])).expanduser()
        if not path.is_absolute():
            src["path"] = os.path.relpath(base / path, workspace.resolve())
    header = (
        f"# Written from {config_file} on the workspace's first run; edit freely.\n"
        "# Source paths are relative to this file. Settings: docs/config.md.\n"
    )
    workspace.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".yaml.tmp")
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False)
    tmp.write_text(header + body, encoding="utf-8")
    os.replace(tmp, target)
    return target
