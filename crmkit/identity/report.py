"""The resolution report (what went in, what came out, what was refused) and accuracy evaluation.

`build_report` returns plain numbers plus small frames; the ingest command prints it.
`evaluate` measures pairwise precision and recall against a truth table without enumerating
pairs: from the counts of the (customer, person) contingency table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

# Truth record types (sample_data/truth/records.csv) → the table and id column that carry them.
TRUTH_TYPES = {
    "contact": ("customer_records", "source_record_id"),
    "customer": ("customer_records", "source_record_id"),
    "receipt": ("orders", "order_id"),
    "order": ("orders", "order_id"),
    "ticket": ("tickets", "ticket_id"),
    "response": ("survey_responses", "response_id"),
    "event": ("events", "event_id"),
}


def build_report(
    *,
    feat: pl.DataFrame,
    identity_map: pl.DataFrame,
    labels: np.ndarray,
    customers: pl.DataFrame,
    links: pl.DataFrame,
    changes: pl.DataFrame,
    guards: pl.DataFrame,
    block_stats: pl.DataFrame,
    model: Any,
    settings: Mapping[str, Any],
    incremental: bool,
) -> dict[str, Any]:
    """Records in, customers out, links by rule, cluster sizes, guarded values, least certain.

    `labels`: each record's cluster (the resolver's labels, one per customer)."""
    # one cluster label per customer (its smallest rid): sizes by counting, no key hashing
    per_cluster = np.bincount(labels, minlength=len(labels)) if len(labels) else labels
    size, count = np.unique(per_cluster[per_cluster > 0], return_counts=True)
    sizes = pl.DataFrame(
        {"size": size, "customers": count}, schema={"size": pl.UInt32, "customers": pl.UInt32}
    )
    accepted = links.filter(pl.col("status") == "accepted")
    refused = links.filter(pl.col("status") == "refused")
    least = (
        accepted.filter(pl.col("rule") == "fs")
        .sort("probability", "source_record_id_l", "source_record_id_r")
        .head(int(settings["report"]["least_certain"]))
        .select(
            "source_l",
            "source_record_id_l",
            "source_r",
            "source_record_id_r",
            "probability",
            "weight",
        )
    )
    return {
        "incremental": incremental,
        "records_in": identity_map.height,
        "records_by_source": dict(
            identity_map.group_by("source").agg(pl.len()).sort("source").iter_rows()
        ),
        "records_without_name": int(feat["name_key"].is_null().sum()),
        "customers_out": customers.height,
        "links_by_rule": dict(accepted.group_by("rule").agg(pl.len()).sort("rule").iter_rows()),
        "refused_by_reason": dict(
            refused.group_by("reason").agg(pl.len()).sort("reason").iter_rows()
        ),
        "clusters_by_size": sizes,
        "largest_cluster": int(sizes["size"].max() or 0),
        "guarded_values": guards,
        "changes": dict(changes.group_by("change").agg(pl.len()).sort("change").iter_rows()),
        "least_certain": least,
        "blocking": block_stats,
        "model": model.to_frame(),
        "model_prior": model.prior,
        "em_iterations": model.iterations,
    }


def truth_records(tables: Mapping[str, pl.LazyFrame], truth: pl.DataFrame) -> pl.DataFrame:
    """Map truth rows (source, record_type, record_id, person_id) to person-records.

    A fact row's record is `(source, ref_record_id)`; a customer record is itself. Returns one row
    per (source, source_record_id, person_id); a record carrying facts of two persons has two rows.
    """
    from crmkit.identity.records import reference_id

    out = []
    t = truth.filter(pl.col("person_id").is_not_null() & (pl.col("person_id") != ""))
    for rtype, (table, col) in TRUTH_TYPES.items():
        part = t.filter(pl.col("record_type") == rtype)
        if part.height == 0 or table not in tables:
            continue
        lf = tables[table]
        if table == "customer_records":
            recs = lf.select("source", "source_record_id", _id=pl.col(col).cast(pl.String))
        else:
            recs = reference_id(lf).select(
                "source", pl.col("ref_record_id").alias("source_record_id"), _id=pl.col(col)
            )
        out.append(
            part.lazy()
            .join(recs, left_on=["source", "record_id"], right_on=["source", "_id"])
            .select("source", "source_record_id", "person_id")
            .collect()
        )
    if not out:
        return pl.DataFrame(
            schema={"source": pl.String, "source_record_id": pl.String, "person_id": pl.String}
        )
    return pl.concat(out).unique().sort("source", "source_record_id", "person_id")


def _pairs(counts: pl.Series) -> int:
    c = counts.cast(pl.Int64)
    return int((c * (c - 1) // 2).sum())


def evaluate(resolution: Any, truth: pl.DataFrame) -> dict[str, Any]:
    """Pairwise precision and recall of "same customer" against truth (source, source_record_id,
    person_id). Records whose facts belong to several persons are ambiguous and left out."""
    imap = resolution.identity_map if hasattr(resolution, "identity_map") else resolution
    per = truth.group_by("source", "source_record_id").agg(
        person_id=pl.col("person_id").first(), persons=pl.col("person_id").n_unique()
    )
    ambiguous = int((per["persons"] > 1).sum())
    j = per.filter(pl.col("persons") == 1).join(
        imap.select("source", "source_record_id", "customer_key"),
        on=["source", "source_record_id"],
    )
    same_key = _pairs(j.group_by("customer_key").len()["len"])
    same_person = _pairs(j.group_by("person_id").len()["len"])
    both = _pairs(j.group_by("customer_key", "person_id").len()["len"])
    precision = both / same_key if same_key else 1.0
    recall = both / same_person if same_person else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pairs": same_person,
        "predicted_pairs": same_key,
        "correct_pairs": both,
        "records_evaluated": j.height,
        "records_ambiguous": ambiguous,
        "persons": j["person_id"].n_unique(),
        "customers": j["customer_key"].n_unique(),
    }
