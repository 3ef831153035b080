"""`SegmentResult`: what a segmentation run returns (members, profiles, settings, history)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl


@dataclass
class SegmentResult:
    """One segmentation run.

    members   one row per customer: customer_key, segment (stable key), method columns
    catalog   segment, label_en, label_zh, treatment_en, treatment_zh (display order)
    profiles  the per-segment comparison table (segment, label, treatment, customers, …)
    settings  everything a reader needs to reproduce the run: cut points, windows, weights
    details   extra tables by name: rules, clusters, silhouettes, movement, movement_matrix
    history   this run's `segment_history` rows (empty when the method records none)
    """

    method: str
    history_method: str | None
    as_of: dt.date
    members: pl.DataFrame
    catalog: pl.DataFrame
    profiles: pl.DataFrame
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    details: dict[str, pl.DataFrame] = field(default_factory=dict)
    history: pl.DataFrame | None = None
    run_id: str | None = None
    recorded: bool = False
    movement: dict[str, Any] | None = None
    export_path: Path | None = None
    exported_rows: int | None = None

    def labels(self, lang: str = "en") -> dict[str, str]:
        """Segment key → display label in `lang`."""
        col = "label_zh" if lang == "zh" else "label_en"
        return dict(zip(self.catalog["segment"], self.catalog[col], strict=True))

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """A JSON-friendly summary (profiles, settings, notes, details; not the members).

        The run id is left out so the same inputs and as-of date give byte-identical output."""
        return {
            "method": self.method,
            "as_of": self.as_of,
            "recorded": self.recorded,
            "settings": self.settings,
            "notes": self.notes,
            "profiles": self.profiles,
            **{k: v for k, v in self.details.items()},
            **({"movement": self.movement} if self.movement else {}),
            **(
                {"export": {"path": self.export_path, "rows": self.exported_rows}}
                if self.export_path
                else {}
            ),
        }
