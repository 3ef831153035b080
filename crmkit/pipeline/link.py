"""Attach `customer_key` to every fact row and build the resolved `customers` table.

The resolution itself lives in `crmkit.identity`; this module is the warehouse side of it: it
gathers person-records from the staged tables, hands them to the resolver together with the
previous identity map (so keys stay stable), stores the results and sets `customer_key` on
orders, tickets, survey responses and events.

It also numbers the customers: `customers.customer_no` is the row number (0..n-1) of the golden
table, which is sorted by `customer_key`, and every order gets its customer's number next to
its key. These are workspace-internal array positions (segments find an order's customer by
them without a string join); they change whenever a customer is added before another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from crmkit import schema
from crmkit.pipeline.hashfind import find, positions
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
    # each distinct reference once: for the person-records, then for every fact row's key
    groups = {
        name: identity.reference_groups(name, tables[name]).collect()
        for name in FACTS
        if name in tables
    }
    records = identity.build_records(tables, groups)
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
    customers = number_customers(res.customers)
    numbers = customers.select("customer_key", "customer_no")
    keys = res.identity_map.select("source", "source_record_id", "customer_key")
    on = ["source", *identity.REF_COLUMNS]
    for name, refs in groups.items():
        mapping = refs.join(
            keys.rename({"source_record_id": "ref_record_id"}),
            on=["source", "ref_record_id"],
            how="left",
        ).select(*on, "customer_key")
        if name == "orders":  # the customer's number comes with its key, in the same lookup
            mapping = mapping.join(numbers, on="customer_key", how="left", maintain_order="left")
        fact = tables[name].drop("customer_key", "customer_no", strict=False)
        absent = [c for c in on if c not in fact.collect_schema().names()]
        fact = fact.with_columns(pl.lit(None, mapping.schema[c]).alias(c) for c in absent)
        # streamed: a 10M-row orders table never sits in memory
        tx.write(name, attach_keys(fact, mapping, on).drop(absent))
    golden = _with_order_facts(customers.lazy(), tx)
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


def number_customers(customers: pl.DataFrame) -> pl.DataFrame:
    """The golden records sorted by `customer_key`, with `customer_no` = their row number."""
    if not customers["customer_key"].is_sorted():  # the resolver sorts them; make sure
        customers = customers.sort("customer_key")
    return customers.drop("customer_no", strict=False).with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("customer_no")
    )


def attach_keys(fact: pl.LazyFrame, mapping: pl.DataFrame, on: list[str]) -> pl.LazyFrame:
    """`fact` plus the `customer_key` (and any other column, e.g. `customer_no`) that `mapping`
    gives its `on` columns (nulls equal), in `fact`'s row order; see `lookup`."""
    if "customer_key" not in mapping.columns:
        raise ValueError("attach_keys: the mapping has no customer_key")
    try:
        return lookup(fact, mapping, on)
    except ValueError:
        msg = "attach_keys: the mapping gives some references more than one key"
        raise ValueError(msg) from None


def lookup(
    fact: pl.LazyFrame,
    mapping: pl.LazyFrame | pl.DataFrame,
    on: list[str],
    values: list[str] | None = None,
) -> pl.LazyFrame:
    """`fact` plus the `values` columns (default: all but `on`) of the `mapping` row whose `on`
    columns equal the fact row's (nulls equal; no such row: nulls), in `fact`'s row order.

    A lookup, not a join: polars' joins do not keep the left side's order on every plan (the
    merge's plan of staged parts comes out shuffled), and determinism needs it. Each row's
    64-bit hash of `on` is found by binary search (numpy) among the mapping's sorted hashes,
    batch by batch as the table streams; a second, independent hash must agree too, so a row
    whose values are not in the mapping cannot take another's values by a hash collision. The
    values are then gathered by the position found, so several columns cost one search. Only
    the hashes and values of `mapping` are collected. Raises ValueError when two mapping rows
    have the same `on` values.
    """
    names = mapping.collect_schema().names()
    values = [c for c in names if c not in on] if values is None else values
    for seed in (3, 5, 7, 11):  # a seed under which no two mapping rows share a hash
        right = (
            mapping.lazy()
            .select(
                pl.struct(on).hash(seed=seed).alias("h"),
                pl.struct(on).hash(seed=seed + 100).alias("check"),
                *values,
            )
            .collect()
            .sort("h")
        )
        sorted_h = right["h"].to_numpy()
        if (sorted_h[1:] != sorted_h[:-1]).all():
            break
    else:  # a repeated row shares its hash under every seed (or: four 64-bit collisions)
        raise ValueError("lookup: the mapping has two rows with the same key")
    if right.height == 0:
        return fact.with_columns(pl.lit(None, right.schema[v]).alias(v) for v in values)
    check = right["check"].to_numpy()

    def position(batch: pl.Series) -> pl.Series:
        fields = (batch.struct.field(f).to_numpy() for f in ("h", "c"))
        return positions(*find(sorted_h, check, *fields))

    hashes = pl.struct(
        pl.struct(on).hash(seed=seed).alias("h"), pl.struct(on).hash(seed=seed + 100).alias("c")
    )
    # elementwise: streamed batch by batch, in order
    at = hashes.map_batches(position, return_dtype=pl.Int64, is_elementwise=True)
    return (
        fact.with_columns(at.alias("__at"))
        .with_columns(pl.lit(right[v]).gather(pl.col("__at")).alias(v) for v in values)
        .drop("__at")
    )


def _with_order_facts(customers: pl.LazyFrame, tx: Transaction) -> pl.LazyFrame:
    """Fill `first_order_at` from completed orders (the resolver does not see order times).

    `customers` are numbered (`number_customers`) and the orders were just written with the
    same numbers, so the orders are grouped by the integer `customer_no`, not the string key."""
    orders = tx.scan("orders", table_schema("orders"))
    if "customer_no" not in orders.collect_schema().names():  # no orders: an empty frame
        orders = orders.with_columns(pl.lit(None, pl.Int64).alias("customer_no"))
    first = (
        orders.filter(pl.col("status").is_in(["completed", "partially_refunded"]))
        .filter(pl.col("customer_no").is_not_null())
        .group_by("customer_no")
        .agg(pl.col("ordered_at").min().alias("__first"))
    )
    return (
        customers.join(first, on="customer_no", how="left", maintain_order="left")
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
