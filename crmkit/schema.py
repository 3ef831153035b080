"""Canonical tables: column names, dtypes, parse kinds, required columns and natural keys.

This module is the single declaration of `SCHEMA.md`. Readers and mappers produce string columns
named after these columns; `crmkit.pipeline.clean` parses each one according to its `kind`.

`customer_ref` (SCHEMA.md) is stored flat as four columns, `customer_id`, `customer_email`,
`customer_phone` and `customer_name`; a row needs at least one of the first three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import polars as pl

Kind = Literal[
    "str",  # trimmed text
    "id",  # identifier: text with Excel guards (="…", leading ', tab) stripped
    "datetime",  # zone-aware, stored in UTC
    "date",
    "money",  # exact decimal in the table's currency
    "int",
    "float",  # scores and ratings
    "bool",
    "email",
    "phone",  # E.164
    "enum",  # mapped to a fixed vocabulary
    "gender",
    "country",  # ISO 3166 alpha-2
    "currency",  # ISO 4217
    "tags",  # list of strings
]

MONEY = pl.Decimal(precision=18, scale=2)
UTC_DATETIME = pl.Datetime("us", "UTC")

_DTYPES: dict[str, pl.DataType] = {
    "str": pl.String(),
    "id": pl.String(),
    "datetime": UTC_DATETIME,
    "date": pl.Date(),
    "money": MONEY,
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
    "email": pl.String(),
    "phone": pl.String(),
    "enum": pl.String(),
    "gender": pl.String(),
    "country": pl.String(),
    "currency": pl.String(),
    "tags": pl.List(pl.String()),
}

CUSTOMER_REF = ("customer_id", "customer_email", "customer_phone")
LINEAGE = ("source", "source_file", "source_line")

# Workspace-internal numbers (int64) that ingest stores next to the string keys, per stored
# table: array positions for crmkit's own lookups, never mapped from an export, and liable to
# change between ingests (docs/schema.md, "Workspace-internal numbers"). `customer_no` is the
# customer's row in `customers` (sorted by key); `order_no` identifies (source, order_id).
INTERNAL_NUMBERS: dict[str, tuple[str, ...]] = {
    "orders": ("order_no", "customer_no"),
    "order_lines": ("order_no",),
    "customers": ("customer_no",),
}


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, how to parse it and whether a row needs it."""

    name: str
    kind: Kind = "str"
    required: bool = False
    doc: str = ""

    @property
    def dtype(self) -> pl.DataType:
        return _DTYPES[self.kind]


@dataclass(frozen=True)
class Table:
    """A canonical source table with its natural key (used to collapse re-exported records)."""

    name: str
    columns: tuple[Column, ...]
    natural_key: tuple[str, ...]
    needs_customer_ref: bool = False
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    def polars_schema(self, *, with_lineage: bool = True) -> pl.Schema:
        """The stored schema: canonical columns plus lineage (and `customer_key` where linked)."""
        cols: dict[str, pl.DataType] = {c.name: c.dtype for c in self.columns}
        if with_lineage:
            cols.update(source=pl.String(), source_file=pl.String(), source_line=pl.Int64())
        if self.needs_customer_ref or self.name == "customers":
            cols["customer_key"] = pl.String()
        return pl.Schema(cols)


_REF = (
    Column("customer_id", "id", doc="the source system's customer id"),
    Column("customer_email", "email"),
    Column("customer_phone", "phone"),
    Column("customer_name", "str"),
)

CUSTOMERS = Table(
    "customers",
    (
        Column("source_record_id", "id", True, "the export's own customer id (or a row hash)"),
        Column("first_name"),
        Column("last_name"),
        Column("full_name"),
        Column("email", "email"),
        Column("email_raw"),
        Column("phone", "phone"),
        Column("phone_raw"),
        Column("gender", "gender"),
        Column("birth_date", "date"),
        Column("address_line"),
        Column("city"),
        Column("region"),
        Column("postcode", "id"),
        Column("country", "country"),
        Column("signup_at", "datetime"),
        Column("acquisition_channel", "enum"),
        Column("loyalty_member", "bool"),
        Column("referred_by", "id"),
        Column("tags", "tags"),
    ),
    natural_key=("source", "source_record_id"),
    enums={
        "acquisition_channel": (
            "organic",
            "paid_search",
            "social",
            "referral",
            "store",
            "email",
            "direct",
            "other",
        )
    },
)

ORDERS = Table(
    "orders",
    (
        Column("order_id", "id", True),
        *_REF,
        Column("ordered_at", "datetime", True),
        Column("status", "enum"),
        Column("currency", "currency"),
        Column("gross_amount", "money", True),
        Column("discount_amount", "money"),
        Column("refund_amount", "money"),
        Column("shipping_amount", "money"),
        Column("tax_amount", "money"),
        Column("net_amount", "money"),
        Column("cost_amount", "money"),
        Column("channel", "str"),
        Column("store", "str"),
        Column("items_count", "int"),
    ),
    natural_key=("source", "order_id"),
    needs_customer_ref=True,
    enums={
        "status": ("completed", "refunded", "partially_refunded", "cancelled", "pending"),
    },
)

ORDER_LINES = Table(
    "order_lines",
    (
        Column("order_id", "id", True),
        Column("line_no", "int"),
        Column("product_id", "id"),
        Column("product_name"),
        Column("category"),
        Column("quantity", "float", True),
        Column("unit_price", "money"),
        Column("line_amount", "money", True),
        Column("cost_amount", "money"),
    ),
    natural_key=("source", "order_id", "line_no"),
)

TICKETS = Table(
    "tickets",
    (
        Column("ticket_id", "id", True),
        *_REF,
        Column("created_at", "datetime", True),
        Column("first_response_at", "datetime"),
        Column("resolved_at", "datetime"),
        Column("first_response_minutes", "float", doc="desk-reported; fills first_response_at"),
        Column("resolution_minutes", "float", doc="desk-reported; fills resolved_at"),
        Column("status", "enum"),
        Column("channel", "enum"),
        Column("category"),
        Column("priority"),
        Column("subject"),
        Column("is_complaint", "bool"),
        Column("satisfaction"),
        Column("handling_cost", "money"),
    ),
    natural_key=("source", "ticket_id"),
    needs_customer_ref=True,
    enums={
        "status": ("open", "pending", "solved", "closed"),
        "channel": ("email", "phone", "chat", "wechat", "web", "other"),
    },
)

SURVEY_RESPONSES = Table(
    "survey_responses",
    (
        Column("response_id", "id", True),
        *_REF,
        Column("responded_at", "datetime", True),
        Column("survey"),
        Column("nps", "float"),
        Column("csat", "float"),
        Column("ces", "float"),
        Column("ratings"),  # JSON object of attribute -> score, parsed by analysis
        Column("comment"),
    ),
    natural_key=("source", "response_id"),
)

MARKETING_SPEND = Table(
    "marketing_spend",
    (
        Column("date", "date", True),
        Column("channel", "str", True),
        Column("campaign"),
        Column("cost", "money", True),
        Column("currency", "currency"),
        Column("cost_type", "enum"),
    ),
    natural_key=("source", "date", "channel", "campaign"),
    enums={"cost_type": ("marketing", "sales")},
)

EVENTS = Table(
    "events",
    (
        Column("event_id", "id"),
        *_REF,
        Column("occurred_at", "datetime", True),
        Column("event_type", "str", True),
        Column("channel"),
        Column("page"),
        Column("properties"),
    ),
    natural_key=("source", "event_id"),
    needs_customer_ref=True,
)

SOURCE_TABLES: dict[str, Table] = {
    t.name: t
    for t in (CUSTOMERS, ORDERS, ORDER_LINES, TICKETS, SURVEY_RESPONSES, MARKETING_SPEND, EVENTS)
}

REJECTS_SCHEMA = pl.Schema(
    {
        "source": pl.String(),
        "source_file": pl.String(),
        "source_line": pl.Int64(),
        "table": pl.String(),
        "reason_code": pl.String(),
        "reason": pl.String(),
        "raw": pl.String(),
        "file_sha256": pl.String(),
        "run_id": pl.String(),
    }
)

MANIFEST_SCHEMA = pl.Schema(
    {
        "path": pl.String(),
        "sha256": pl.String(),
        "bytes": pl.Int64(),
        "modified_at": UTC_DATETIME,
        "source": pl.String(),
        "table": pl.String(),
        "rows_read": pl.Int64(),
        "rows_accepted": pl.Int64(),
        "rows_rejected": pl.Int64(),
        "rows_duplicate": pl.Int64(),
        "ingested_at": UTC_DATETIME,
        "run_id": pl.String(),
    }
)


def table(name: str) -> Table:
    """Look up a canonical source table by name, with a helpful error."""
    from crmkit.errors import UsageError

    try:
        return SOURCE_TABLES[name]
    except KeyError:
        known = ", ".join(SOURCE_TABLES)
        raise UsageError(f"unknown table {name!r}", hint=f"use one of: {known}") from None
