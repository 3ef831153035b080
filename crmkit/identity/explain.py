"""Read side of identity: list customers, show one golden record with its facts, explain a merge.

Every function takes the workspace's tables (`Workspace.tables()`: name → LazyFrame) so the CLI
and Python users get the same answers; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from crmkit.errors import UsageError
from crmkit.identity.records import build_records
from crmkit.schema import INTERNAL_NUMBERS

FACT_TABLES = {
    "orders": "ordered_at",
    "tickets": "created_at",
    "survey_responses": "responded_at",
    "events": "occurred_at",
}
RECORD_VIEW = (
    "source",
    "source_record_id",
    "origin_table",
    "full_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "birth_date",
    "city",
    "postcode",
    "first_seen_at",
    "last_seen_at",
    "fact_count",
)


def _need(tables: Mapping[str, pl.LazyFrame], name: str) -> pl.LazyFrame:
    if name not in tables:
        raise UsageError(
            f"the workspace has no {name} table", hint="run `crmkit ingest` to resolve customers"
        )
    return tables[name]


def _golden(tables: Mapping[str, pl.LazyFrame], key: str) -> dict[str, Any]:
    row = _need(tables, "customers").filter(pl.col("customer_key") == key).collect()
    row = row.drop(INTERNAL_NUMBERS["customers"], strict=False)  # crmkit's own row numbers
    if row.height == 0:
        raise UsageError(f"no customer {key!r}", hint="find keys with `crmkit customers list`")
    return row.to_dicts()[0]


def list_customers(
    tables: Mapping[str, pl.LazyFrame],
    *,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    source: str | None = None,
    min_records: int | None = None,
    limit: int | None = 50,
) -> pl.DataFrame:
    """Golden records filtered by name (substring, case-insensitive), e-mail, phone, source."""
    lf = _need(tables, "customers")
    if name:
        needle = name.lower()
        lf = lf.filter(
            pl.concat_str(
                [pl.col(c).fill_null("") for c in ("full_name", "first_name", "last_name")],
                separator=" ",
            )
            .str.to_lowercase()
            .str.contains(needle, literal=True)
        )
    if email:
        lf = lf.filter(pl.col("emails").list.contains(email.strip().lower()))
    if phone:
        lf = lf.filter(pl.col("phones").list.contains(phone.strip()))
    if source:
        lf = lf.filter(pl.col("sources").list.contains(source))
    if min_records:
        lf = lf.filter(pl.col("record_count") >= min_records)
    cols = ["customer_key", "full_name", "email", "phone", "city", "country", "sources"]
    names = lf.collect_schema().names()
    extra = [c for c in ("record_count", "first_order_at", "last_seen_at") if c in names]
    out = lf.select(*[c for c in cols if c in names], *extra).sort("customer_key")
    if limit:
        out = out.head(limit)
    return out.collect()


def show_customer(tables: Mapping[str, pl.LazyFrame], key: str) -> dict[str, Any]:
    """The golden record plus the customer's orders, tickets and survey answers."""
    out: dict[str, Any] = {"customer": _golden(tables, key)}
    for name, time_col in FACT_TABLES.items():
        if name == "events" or name not in tables:
            continue
        lf = tables[name]
        if "customer_key" not in lf.collect_schema().names():
            continue
        facts = lf.filter(pl.col("customer_key") == key).sort(time_col)
        out[name] = facts.drop(INTERNAL_NUMBERS.get(name, ()), strict=False).collect()
    return out


def explain_customer(tables: Mapping[str, pl.LazyFrame], key: str) -> dict[str, Any]:
    """Every source record of a customer, the link that joined each, and the refused links."""
    golden = _golden(tables, key)
    imap = _need(tables, "identity_map").filter(pl.col("customer_key") == key).collect()
    ids = imap.select("source", "source_record_id")
    recs = (
        build_records(tables)
        .join(ids.lazy(), on=["source", "source_record_id"], how="semi")
        .collect()
    )
    records = imap.join(
        recs.select([c for c in RECORD_VIEW if c != "origin_table"]),
        on=["source", "source_record_id"],
        how="left",
    ).sort("source", "source_record_id")
    links = pl.DataFrame()
    refused = pl.DataFrame()
    if "identity_links" in tables:
        lk = tables["identity_links"].collect()
        side_l = lk.join(
            ids.rename({"source": "source_l", "source_record_id": "source_record_id_l"}),
            on=["source_l", "source_record_id_l"],
            how="semi",
        )
        side_r = lk.join(
            ids.rename({"source": "source_r", "source_record_id": "source_record_id_r"}),
            on=["source_r", "source_record_id_r"],
            how="semi",
        )
        touching = pl.concat([side_l, side_r]).unique(maintain_order=True)
        links = touching.filter(pl.col("status") == "accepted").sort(
            "source_l", "source_record_id_l", "source_r", "source_record_id_r"
        )
        refused = touching.filter(pl.col("status") == "refused").sort(
            "probability", descending=True, nulls_last=True
        )
    changes = pl.DataFrame()
    if "identity_changes" in tables:
        changes = (
            tables["identity_changes"]
            .filter((pl.col("customer_key") == key) | (pl.col("other_key") == key))
            .collect()
        )
    return {
        "customer_key": key,
        "customer": golden,
        "records": records,
        "links": links,
        "refused": refused,
        "changes": changes,
    }


def contributions(link: Mapping[str, Any]) -> str:
    """One line of per-field weights of a link: `name +10.9, birth +10.9, location -3.1`."""
    parts = []
    for k, v in link.items():
        if k.startswith("w_") and v is not None and abs(v) >= 0.05:
            parts.append(f"{k[2:]} {v:+.1f}")
    return ", ".join(parts)
