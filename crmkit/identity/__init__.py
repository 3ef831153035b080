"""Identity resolution: which source records are the same real person (`customer_key`).

Public API used by the ingest step and by Python users:

- `build_records(tables)`: person-records from `customer_records` and the facts' references.
- `reference_groups(name, facts)`: a fact table's distinct references (`REF_COLUMNS`) with
  their record id; the link step maps them to customer keys.
- `reference_id()` / `reference_id(frame)`: a fact row's reference record id (join key).
- `resolve(records, previous=…, settings=…, run_id=…)` → `Resolution` (identity map, golden
  customers, links, changes, report).
- `evaluate(resolution, truth)`: pairwise precision / recall against a truth table.

The method is described in docs/identity.md.
"""

from __future__ import annotations

from crmkit.identity.records import (
    REF_COLUMNS,
    build_records,
    reference_groups,
    reference_id,
)
from crmkit.identity.report import evaluate, truth_records
from crmkit.identity.resolve import Resolution, resolve
from crmkit.identity.settings import identity_settings

__all__ = [
    "REF_COLUMNS",
    "Resolution",
    "build_records",
    "evaluate",
    "identity_settings",
    "reference_groups",
    "reference_id",
    "resolve",
    "truth_records",
]
