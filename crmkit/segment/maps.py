"""Segment maps: YAML data that assign every score cell (or high/low cell) to one segment.

Two kinds ship in `configs/segment_maps/`:

* `kind: scores` — cells are combinations of 1..`scores` scores over `dimensions` (e.g. the
  10-segment R×F grid `rfm10`);
* `kind: mean_split` — cells are combinations of `H`/`L` (value above / not above its mean;
  for R, high = more recent than average), e.g. the Chinese 8-class map `cn8`.

A map must assign every cell exactly once; otherwise `ConfigError` names the cells.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from crmkit.errors import ConfigError
from crmkit.resources import configs_dir

DIMENSIONS = ("r", "f", "m")
LEVELS = ("H", "L")


@dataclass(frozen=True)
class Segment:
    """One segment of a map: stable key, labels, and the recommended treatment."""

    key: str
    en: str
    zh: str
    treatment_en: str = ""
    treatment_zh: str = ""

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def treatment(self, lang: str) -> str:
        return (self.treatment_zh or self.treatment_en) if lang == "zh" else self.treatment_en


@dataclass(frozen=True)
class SegmentMap:
    """A validated map: its cells as a lookup table (dimension columns → segment key)."""

    name: str
    kind: str  # "scores" | "mean_split"
    scores: int | None
    dimensions: tuple[str, ...]
    segments: tuple[Segment, ...]
    cells: pl.DataFrame
    source: str

    def segment(self, key: str) -> Segment:
        return next(s for s in self.segments if s.key == key)

    @property
    def join_columns(self) -> list[str]:
        suffix = "_score" if self.kind == "scores" else "_level"
        return [f"{d}{suffix}" for d in self.dimensions]


def _cell_name(dims: tuple[str, ...], cell: tuple[Any, ...]) -> str:
    return "".join(f"{d.upper()}{v}" for d, v in zip(dims, cell, strict=True))


def _values(raw: Any, allowed: tuple[Any, ...], where: str) -> list[Any]:
    """A cell spec value: a scalar, a list, or a range like `1-3` / `1..3`."""
    items = raw if isinstance(raw, list) else [raw]
    out: list[Any] = []
    for item in items:
        if isinstance(item, str) and any(sep in item for sep in ("-", "..")):
            lo, hi = item.replace("..", "-").split("-", 1)
            try:
                out.extend(range(int(lo), int(hi) + 1))
            except ValueError:
                raise ConfigError(f"{where}: cannot read range {item!r}") from None
        elif isinstance(item, str) and item.strip().isdigit():
            out.append(int(item))
        else:
            out.append(item.upper() if isinstance(item, str) else item)
    bad = [v for v in out if v not in allowed]
    if bad:
        raise ConfigError(
            f"{where}: value(s) {bad} are outside {list(allowed)}",
            hint="score maps use 1..scores, mean_split maps use H and L",
        )
    return out


def parse_map(data: Any, source: str) -> SegmentMap:
    """Validate a map read from YAML; every cell must be assigned to exactly one segment."""
    if not isinstance(data, dict):
        raise ConfigError(f"segment map {source}: expected a mapping")
    name = str(data.get("name") or Path(source).stem)
    kind = data.get("kind", "scores")
    if kind not in ("scores", "mean_split"):
        raise ConfigError(f"segment map {name}: kind must be `scores` or `mean_split`")
    dims = tuple(str(d).lower() for d in data.get("dimensions") or ())
    if not dims or any(d not in DIMENSIONS for d in dims) or len(set(dims)) != len(dims):
        raise ConfigError(f"segment map {name}: dimensions must be distinct names of r, f, m")
    scores = None
    if kind == "scores":
        scores = data.get("scores", 5)
        if scores not in (3, 5):
            raise ConfigError(f"segment map {name}: scores must be 3 or 5")
        allowed: tuple[Any, ...] = tuple(range(1, scores + 1))
    else:
        allowed = LEVELS
    raw_segments = data.get("segments")
    if not isinstance(raw_segments, list) or not raw_segments:
        raise ConfigError(f"segment map {name}: `segments` must be a non-empty list")
    owners: dict[tuple[Any, ...], list[str]] = {
        c: [] for c in itertools.product(allowed, repeat=len(dims))
    }
    segments = []
    rows: list[tuple[Any, ...]] = []
    for i, seg in enumerate(raw_segments, 1):
        if not isinstance(seg, dict) or not seg.get("key"):
            raise ConfigError(f"segment map {name}: segment #{i} needs a `key`")
        key = str(seg["key"])
        where = f"segment map {name}, segment {key}"
        cells = seg.get("cells")
        if not isinstance(cells, dict) or set(cells) - set(dims):
            raise ConfigError(f"{where}: `cells` must map {', '.join(dims)} to values")
        per_dim = [_values(cells.get(d, list(allowed)), allowed, where) for d in dims]
        for cell in itertools.product(*per_dim):
            owners[cell].append(key)
            rows.append((*cell, key))
        treatment = seg.get("treatment") or {}
        if isinstance(treatment, str):
            treatment = {"en": treatment}
        segments.append(
            Segment(
                key=key,
                en=str(seg.get("en") or key),
                zh=str(seg.get("zh") or seg.get("en") or key),
                treatment_en=str(treatment.get("en", "")),
                treatment_zh=str(treatment.get("zh", "")),
            )
        )
    if len({s.key for s in segments}) != len(segments):
        raise ConfigError(f"segment map {name}: segment keys must be unique")
    missing = [_cell_name(dims, c) for c, o in owners.items() if not o]
    twice = [f"{_cell_name(dims, c)} ({', '.join(o)})" for c, o in owners.items() if len(o) > 1]
    if missing or twice:
        parts = []
        if missing:
            parts.append(f"unassigned cell(s): {', '.join(missing)}")
        if twice:
            parts.append(f"cell(s) assigned more than once: {', '.join(twice)}")
        raise ConfigError(
            f"segment map {name}: {'; '.join(parts)}",
            hint="every cell must belong to exactly one segment",
        )
    suffix = "_score" if kind == "scores" else "_level"
    dtype = pl.Int8 if kind == "scores" else pl.String
    schema = {f"{d}{suffix}": dtype for d in dims} | {"segment": pl.String}
    table = pl.DataFrame(rows, schema=schema, orient="row")
    return SegmentMap(name, kind, scores, dims, tuple(segments), table, source)


def builtin_maps() -> list[str]:
    """Names of the maps shipped in `configs/segment_maps/`."""
    folder = configs_dir() / "segment_maps"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_map(name_or_file: str, workspace: Path | None = None) -> SegmentMap:
    """Load a map by file path, by name from `WORKSPACE/segment_maps/`, or a shipped one."""
    path = Path(name_or_file).expanduser()
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise ConfigError(f"segment map file not found: {path}")
        return parse_map(_read(path.read_text(encoding="utf-8"), str(path)), str(path))
    if workspace is not None:
        local = workspace / "segment_maps" / f"{name_or_file}.yaml"
        if local.is_file():
            return parse_map(_read(local.read_text(encoding="utf-8"), str(local)), str(local))
    shipped = configs_dir() / "segment_maps" / f"{name_or_file}.yaml"
    if not shipped.is_file():
        raise ConfigError(
            f"unknown segment map {name_or_file!r}",
            hint=f"use a YAML file or one of: {', '.join(builtin_maps())}",
        )
    return parse_map(_read(shipped.read_text(encoding="utf-8"), name_or_file), name_or_file)


def _read(text: str, where: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"segment map {where}: invalid YAML ({exc})") from None
