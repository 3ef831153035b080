"""Customer segmentation: RFM, value tiers, lifecycle stages, k-means clusters, tree rules.

Functions take polars frames and typed options, so they are testable without a workspace;
`segment_workspace(ws, method=..., ...)` wires them to a `Workspace` (reads its tables and
config, profiles the segments, records `segment_history`, compares and exports).
"""

from __future__ import annotations

from crmkit.segment.facts import customer_facts, inter_purchase_days, purchases
from crmkit.segment.lifecycle import Windows, derive_windows, lifecycle_segments
from crmkit.segment.maps import SegmentMap, builtin_maps, load_map, parse_map
from crmkit.segment.profiles import profile
from crmkit.segment.result import SegmentResult
from crmkit.segment.rfm import RfmOptions, rfm_segments
from crmkit.segment.run import METHODS, segment_workspace
from crmkit.segment.scoring import Cuts, ScoreSpec, compute_cuts, quantile_cuts, score_expr
from crmkit.segment.tiers import TierOptions, tier_segments

__all__ = [
    "METHODS",
    "Cuts",
    "RfmOptions",
    "ScoreSpec",
    "SegmentMap",
    "SegmentResult",
    "TierOptions",
    "Windows",
    "builtin_maps",
    "compute_cuts",
    "customer_facts",
    "derive_windows",
    "inter_purchase_days",
    "lifecycle_segments",
    "load_map",
    "parse_map",
    "profile",
    "purchases",
    "quantile_cuts",
    "rfm_segments",
    "score_expr",
    "segment_workspace",
    "tier_segments",
]
