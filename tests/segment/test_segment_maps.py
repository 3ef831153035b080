"""Segment maps: the shipped maps cover every cell exactly once; invalid maps name the cells."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from crmkit.errors import ConfigError
from crmkit.segment import builtin_maps, load_map, parse_map

# The METRICS.md grid, written out independently of the YAML: (R, F) → segment.
RFM10_BY_HAND = {
    **{(5, f): "champions" for f in (4, 5)},
    **{(r, f): "loyal" for r in (3, 4) for f in (4, 5)},
    **{(r, f): "potential_loyalists" for r in (4, 5) for f in (2, 3)},
    (5, 1): "new",
    (4, 1): "promising",
    (3, 3): "need_attention",
    **{(3, f): "about_to_sleep" for f in (1, 2)},
    **{(r, f): "at_risk" for r in (1, 2) for f in (3, 4)},
    **{(r, 5): "cant_lose_them" for r in (1, 2)},
    **{(r, f): "hibernating" for r in (1, 2) for f in (1, 2)},
}
CN8_BY_HAND = {
    ("H", "H", "H"): "重要价值客户",
    ("H", "L", "H"): "重要发展客户",
    ("L", "H", "H"): "重要保持客户",
    ("L", "L", "H"): "重要挽留客户",
    ("H", "H", "L"): "一般价值客户",
    ("H", "L", "L"): "一般发展客户",
    ("L", "H", "L"): "一般保持客户",
    ("L", "L", "L"): "一般挽留客户",
}


def test_shipped_maps_are_listed() -> None:
    assert {"rfm10", "cn8", "rfm3"} <= set(builtin_maps())


@pytest.mark.parametrize("name", ["rfm10", "cn8", "rfm3"])
def test_every_cell_exactly_once(name: str) -> None:
    m = load_map(name)
    levels = list(range(1, m.scores + 1)) if m.kind == "scores" else ["H", "L"]
    cells = [tuple(r) for r in m.cells.select(m.join_columns).rows()]
    assert sorted(cells, key=str) == sorted(
        itertools.product(levels, repeat=len(m.dimensions)), key=str
    )
    assert len(cells) == len(set(cells))


def test_rfm10_matches_the_metrics_grid() -> None:
    m = load_map("rfm10")
    got = {(r, f): s for r, f, s in m.cells.rows()}
    assert got == RFM10_BY_HAND
    assert len(m.segments) == 10


def test_cn8_matches_the_chinese_classes() -> None:
    m = load_map("cn8")
    zh = {s.key: s.zh for s in m.segments}
    got = {(r, f, mm): zh[s] for r, f, mm, s in m.cells.rows()}
    assert got == CN8_BY_HAND


def _grid(segments: list[dict]) -> dict:
    return {
        "name": "bad",
        "kind": "scores",
        "scores": 5,
        "dimensions": ["r", "f"],
        "segments": segments,
    }


def test_unassigned_and_duplicate_cells_are_named() -> None:
    data = _grid(
        [
            {"key": "top", "cells": {"r": "4-5", "f": "1-5"}},
            {"key": "also_top", "cells": {"r": 5, "f": 5}},
            {"key": "rest", "cells": {"r": "1-2", "f": "1-5"}},
            {"key": "mid", "cells": {"r": 3, "f": [1, 2, 4, 5]}},
        ]
    )
    with pytest.raises(ConfigError) as err:
        parse_map(data, "bad.yaml")
    msg = str(err.value)
    assert "unassigned cell(s): R3F3" in msg
    assert "R5F5 (top, also_top)" in msg


def test_out_of_range_values_are_rejected() -> None:
    data = _grid([{"key": "all", "cells": {"r": "1-6", "f": "1-5"}}])
    with pytest.raises(ConfigError, match="outside"):
        parse_map(data, "bad.yaml")


def test_mean_split_map_missing_cell() -> None:
    data = {
        "name": "x",
        "kind": "mean_split",
        "dimensions": ["r", "f"],
        "segments": [
            {"key": "a", "cells": {"r": "H"}},
            {"key": "b", "cells": {"r": "L", "f": "H"}},
        ],
    }
    with pytest.raises(ConfigError, match="unassigned cell\\(s\\): RLFL"):
        parse_map(data, "x.yaml")


def test_user_map_from_file_and_workspace(tmp_path: Path) -> None:
    data = _grid(
        [
            {"key": "recent", "en": "Recent", "zh": "近期", "cells": {"r": "4-5"}},
            {"key": "older", "en": "Older", "zh": "较早", "cells": {"r": "1-3"}},
        ]
    )
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_map(str(path)).cells.height == 25
    (tmp_path / "segment_maps").mkdir()
    (tmp_path / "segment_maps" / "mine.yaml").write_text(path.read_text("utf-8"), "utf-8")
    assert [s.key for s in load_map("mine", tmp_path).segments] == ["recent", "older"]


def test_unknown_map_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match="unknown segment map") as err:
        load_map("nope")
    assert "rfm10" in (err.value.hint or "")
