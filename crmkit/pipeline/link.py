"""Attach `customer_key` to every fact row and build the resolved `customers` table.

The resolution itself lives in `crmkit.identity`; this module is the warehouse side of it: it
gathers person-records from the staged tables, hands them to the resolver together with the
previous identity map (so keys stay stable), stores the results and sets `customer_key` on
orders, tickets, survey responses and events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from crmkit import schema
from crmkit.warehouse import Transaction
from crmkit.workspace import Workspace, table_schema

FACTS = ("orders", "tickets", "survey_responses", "events")
TIME_OF = {
    "orders": "ordered_at",
    "tickets": "created_at",
    "survey_responses": "responded_at",
    "events": "occurred_at",
}


def link_customers(
    ws: Workspace,
    tx: Transaction,
    run_id: str,
    pending: Mapping[str, pl.LazyFrame] | None = None,
) -> dict[str, Any]:
    """Resolve identities over the staged tables and store keys; returns the resolution report.

    `pending`: new versions of fact tables not yet written (the ingest's merge leaves them to this
    step, so a 10M-row orders table is written once, with its keys, instead of twice).
    """
    from crmkit import identity

    pending = pending or {}
    tables = {
        name: pending[name] if name in pending else tx.scan(name, table_schema(name))
        for name in ("customer_records", *FACTS)
        if name in pending or name in tx.written or ws.warehouse.has(name)
    }
    records = identity.build_records(tables)
    stored = {
        t: tx.scan(t).collect()
        for t in ("identity_map", "identity_links", "identity_features", "customers")
        if ws.warehouse.has(t)
    }
    res = identity.resolve(
        records,
        previous=stored.get("identity_map"),
        previous_links=stored.get("identity_links"),  # keeps how older records were joined
        previous_features=stored.get("identity_features"),  # only new records are normalised
        previous_customers=stored.get("customers"),  # only changed customers are re-survived
        settings=ws.config.section("identity"),
        run_id=run_id,
    )
    keys = res.identity_map.select("source", "source_record_id", "customer_key")
    for name in FACTS:
        if name not in tables:
            continue
        fact = identity.with_reference_id(tables[name].drop("customer_key", strict=False))
        # streamed: a 10M-row orders table never sits in memory
        tx.write(name, attach_keys(fact, keys).drop("ref_record_id"))
    golden = _with_order_facts(res.customers.lazy(), tx)
    tx.write("customers", golden.collect())
    tx.write("identity_map", res.identity_map)
    tx.write("identity_links", res.links)
    tx.write("identity_features", res.features)
    old_changes = (
        tx.scan("identity_changes").collect() if ws.warehouse.has("identity_changes") else None
    )
    changes = (
        res.changes
        if old_changes is None
        else pl.concat([old_changes, res.changes], how="vertical_relaxed")
    )
    tx.write("identity_changes", changes)
    report = dict(res.report)
    report["unresolved"] = _unresolved(tx)
    return report


def attach_keys(fact: pl.LazyFrame, keys: pl.DataFrame) -> pl.LazyFrame:
    """`fact` (with `ref_record_id`) plus the `customer_key` of its (source, ref_record_id).

    The same as a left join on the two text columns, done on one 64-bit hash of them: about
    three times less work on 10M rows. The hash is only trusted when it tells every key apart,
    and each joined row is checked against the key it claims, so a collision can never attach a
    wrong customer (on one, the text join is used).
    """
    on = ["source", "ref_record_id"]
    right = keys.rename({"source_record_id": "ref_record_id"})
    hashed = pl.struct(on).hash(seed=3).alias("__h")
    right = right.with_columns(hashed)
    if right["__h"].n_unique() < right.height:
        return fact.join(right.lazy().drop("__h"), on=on, how="left", maintain_order="left")
    right = right.select("__h", "customer_key", __s="source", __r="ref_record_id")
    same = (pl.col("__s") == pl.col("source")) & (pl.col("__r") == pl.col("ref_record_id"))
    return (
        fact.with_columns(hashed)
        .join(right.lazy(), on="__h", how="left", maintain_order="left")
        .with_columns(pl.when(same).then("customer_key").alias("customer_key"))
        .drop("__h", "__s", "__r")
    )


def _with_order_facts(customers: pl.LazyFrame, tx: Transaction) -> pl.LazyFrame:
    """Fill `first_order_at` from completed orders (the resolver does not see order times)."""
    orders = tx.scan("orders", table_schema("orders"))
    first = (
        orders.filter(pl.col("status").is_in(["completed", "partially_refunded"]))
        .filter(pl.col("customer_key").is_not_null())
        .group_by("customer_key")
        .agg(pl.col("ordered_at").min().alias("__first"))
    )
    return (
        customers.join(first, on="customer_key", how="left", maintain_order="left")
        .with_columns(pl.coalesce("__first", "first_order_at").alias("first_order_at"))
        .drop("__first")
    )


def _unresolved(tx: Transaction) -> dict[str, int]:
    """Fact rows that carry a customer reference but got no key (should be none)."""
    out = {}
    for name in FACTS:
        if name not in tx.written:
            continue
        refs = pl.any_horizontal(pl.col(c).is_not_null() for c in schema.CUSTOMER_REF)
        out[name] = (
            tx.scan(name)
            .filter(refs & pl.col("customer_key").is_null())
            .select(pl.len())
            .collect()
            .item()
        )
    return out
