"""`attach_keys`: the hashed join gives what a left join on (source, ref_record_id) gives."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from crmkit.pipeline.link import attach_keys

FACT = pl.DataFrame(
    {
        "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
        "source": ["pos", "shop", "pos", "pos", None, "shop"],
        "ref_record_id": ["c1", "c1", "c2", None, "c1", "unknown"],
    }
)


def test_keys_follow_source_and_reference_in_row_order() -> None:
    keys = pl.DataFrame(
        {
            "source": ["pos", "shop", "pos"],
            "source_record_id": ["c1", "c1", "c2"],
            "customer_key": ["K1", "K2", "K3"],
        }
    )
    # in several chunks, as a streamed table arrives
    chunked = pl.concat([FACT.slice(0, 2), FACT.slice(2, 3), FACT.slice(5)], rechunk=False)
    assert chunked.n_chunks() == 3
    out = attach_keys(chunked.lazy(), keys).collect(engine="streaming")
    # by hand: the same id in two sources is two records; no reference / unknown → no key
    assert out["order_id"].to_list() == ["o1", "o2", "o3", "o4", "o5", "o6"]
    assert out["customer_key"].to_list() == ["K1", "K2", "K3", None, None, None]
    assert out.columns == ["order_id", "source", "ref_record_id", "customer_key"]


def test_repeated_keys_fall_back_to_the_text_join() -> None:
    keys = pl.DataFrame(
        {
            "source": ["pos", "pos"],
            "source_record_id": ["c1", "c1"],
            "customer_key": ["K1", "K9"],
        }
    )
    out = attach_keys(FACT.lazy(), keys).collect()
    plain = FACT.join(
        keys.rename({"source_record_id": "ref_record_id"}),
        on=["source", "ref_record_id"],
        how="left",
        maintain_order="left",
    )
    assert_frame_equal(out, plain)
    assert out.height == FACT.height + 1  # o1 matches both, as a join would
