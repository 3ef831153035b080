"""Helpers for identity tests: build person-record frames from a few dicts."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from crmkit.identity.records import RECORD_SCHEMA


def records(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A records frame (RECORD_SCHEMA) from dicts; `id` is a shortcut for source_record_id."""
    fixed = []
    for i, r in enumerate(rows):
        r = dict(r)
        r.setdefault("source", "crm")
        r["source_record_id"] = str(r.pop("id", r.get("source_record_id", i)))
        r.setdefault("origin_table", "customers")
        fixed.append(r)
    df = pl.DataFrame(fixed, infer_schema_length=None)
    return df.select(
        (pl.col(c).cast(t) if c in df.columns else pl.lit(None, t).alias(c))
        for c, t in RECORD_SCHEMA.items()
    )


@pytest.fixture
def make_records():
    return records


def key_of(res, source: str, rid: str) -> str:
    """The customer_key a resolution gave to one record."""
    m = res.identity_map.filter((pl.col("source") == source) & (pl.col("source_record_id") == rid))
    assert m.height == 1, (source, rid)
    return m["customer_key"][0]
