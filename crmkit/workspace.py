"""`Workspace`: the Python API's front door — config, tables, and every analysis the CLI offers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from crmkit import schema
from crmkit.config import Config, load_config, validate
from crmkit.warehouse import Warehouse

# Stored tables that are not source tables, with their schemas.
_DERIVED: dict[str, pl.Schema] = {
    "rejects": schema.REJECTS_SCHEMA,
    "manifest": schema.MANIFEST_SCHEMA,
    "customer_records": schema.CUSTOMERS.polars_schema(),
}

# Columns that carry the time of a row, per table (for the data's date range and `as_of`).
TIME_COLUMNS = {
    "orders": "ordered_at",
    "tickets": "created_at",
    "survey_responses": "responded_at",
    "events": "occurred_at",
    "marketing_spend": "date",
    "customers": "signup_at",
}


class Workspace:
    """A crmkit workspace folder: `crmkit.yaml` plus `warehouse/`.

    >>> ws = Workspace("shop")                       # doctest: +SKIP
    >>> ws.table("orders").select(pl.len()).collect() # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | Path = ".",
        *,
        config_file: str | Path | None = None,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.path = Path(path)
        self._config_file = Path(config_file) if config_file else None
        self._overrides = dict(overrides or {})
        self._environ = environ
        self.warehouse = Warehouse(self.path)

    @cached_property
    def config(self) -> Config:
        cfg = load_config(
            self.path, self._config_file, environ=self._environ, overrides=self._overrides
        )
        validate(cfg)
        return cfg

    def adopt_config(self) -> Path | None:
        """On a new workspace given `config_file`, write it as the workspace's own crmkit.yaml."""
        from crmkit.config import adopt

        if self._config_file is None:
            return None
        written = adopt(self._config_file, self.path)
        if written is not None:
            self._config_file = None
            self.__dict__.pop("config", None)
        return written

    def table(self, name: str) -> pl.LazyFrame:
        """A stored table as a LazyFrame (empty, with the canonical schema, if not yet ingested)."""
        return self.warehouse.scan(name, table_schema(name))

    def has_table(self, name: str) -> bool:
        """True when the table exists and holds at least one row."""
        if not self.warehouse.has(name):
            return False
        return pl.scan_parquet(self.warehouse.path(name)).select(pl.len()).collect().item() > 0

    def tables(self) -> dict[str, pl.LazyFrame]:
        """Every stored table by name."""
        return {name: self.table(name) for name in self.warehouse.tables()}

    def last_date(self) -> dt.date | None:
        """The last date present in the data: the default `as_of` (never today's date)."""
        latest: dt.date | None = None
        for name, col in TIME_COLUMNS.items():
            if name == "customers" or not self.warehouse.has(name):
                continue
            value = self.table(name).select(pl.col(col).max()).collect().item()
            if value is None:
                continue
            day = value.date() if isinstance(value, dt.datetime) else value
            latest = day if latest is None or day > latest else latest
        return latest

    # The analyses below live in their own packages; the workspace only routes to them.

    def metrics(self, **kwargs: Any) -> pl.DataFrame:
        """Metric values for a period (see `crmkit.metrics.compute`)."""
        from crmkit.metrics import compute

        return compute(self, **kwargs)

    def segment(self, **kwargs: Any) -> Any:
        """Segment the customers (see `crmkit.segment.segment_workspace`)."""
        from crmkit.segment import segment_workspace

        return segment_workspace(self, **kwargs)


def table_schema(name: str) -> pl.Schema | None:
    """The stored schema of a table, when crmkit declares one."""
    if name in schema.SOURCE_TABLES:
        return schema.SOURCE_TABLES[name].polars_schema()
    if name == "segment_history":
        from crmkit.segment.history import HISTORY_SCHEMA

        return HISTORY_SCHEMA
    return _DERIVED.get(name)
