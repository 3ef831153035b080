"""`attach_keys`: the hashed join gives what a left join on the reference columns gives."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crmkit.pipeline.link import attach_keys

ON = ["source", "customer_id", "customer_email"]
FACT = pl.DataFrame(
    {
        "order_id": ["o1", "o2", "o3", "o4", "o5", "o6", "o7"],
        "source": ["pos", "shop", "pos", "pos", None, "shop", "pos"],
        "customer_id": ["c1", "c1", "c2", None, "c1", "unknown", None],
        "customer_email": [None, None, None, "a@x.com", None, None, None],
    }
)


def test_keys_follow_every_reference_column_nulls_included_in_row_order() -> None:
    mapping = pl.DataFrame(
        {
            "source": ["pos", "shop", "pos", "pos"],
            "customer_id": ["c1", "c1", "c2", None],
            "customer_email": [None, None, None, "a@x.com"],
            "customer_key": ["K1", "K2", "K3", "K4"],
        }
    )
    # in several chunks, as a streamed table arrives
    chunked = pl.concat([FACT.slice(0, 2), FACT.slice(2, 3), FACT.slice(5)], rechunk=False)
    assert chunked.n_chunks() == 3
    out = attach_keys(chunked.lazy(), mapping, ON).collect(engine="streaming")
    # by hand: one id in two sources is two references; a null id matches by e-mail; a row
    # with no source, an unknown id or no reference at all gets no key
    assert out["order_id"].to_list() == ["o1", "o2", "o3", "o4", "o5", "o6", "o7"]
    assert out["customer_key"].to_list() == ["K1", "K2", "K3", "K4", None, None, None]
    assert out.columns == [*FACT.columns, "customer_key"]


def test_a_reference_with_two_keys_is_refused() -> None:
    mapping = pl.DataFrame(
        {
            "source": ["pos", "pos"],
            "customer_id": ["c1", "c1"],
            "customer_email": [None, None],
            "customer_key": ["K1", "K9"],
        },
        schema_overrides={"customer_email": pl.String},
    )
    with pytest.raises(ValueError, match="more than one key"):
        attach_keys(FACT.lazy(), mapping, ON)


def test_keys_match_an_eager_join_on_many_references() -> None:
    """20k references, 60k shuffled fact rows (some unknown): the lookup equals an eager join."""
    n = 20_000
    ids = pl.int_range(n, eager=True).cast(pl.String)
    mapping = pl.DataFrame(
        {"source": ["pos", "shop"] * (n // 2), "customer_id": ids, "customer_key": "K" + ids}
    ).with_columns(  # some references are e-mail only
        pl.when(pl.col("customer_id").str.ends_with("7"))
        .then(pl.col("customer_id") + "@x.com")
        .alias("customer_email"),
        pl.when(~pl.col("customer_id").str.ends_with("7")).then(pl.col("customer_id")),
    )
    fact = (
        pl.concat([mapping.drop("customer_key")] * 3)
        .with_columns(
            pl.when(pl.int_range(pl.len()) % 11 == 0)
            .then(pl.lit("nobody"))
            .otherwise(pl.col("customer_id"))
            .alias("customer_id")
        )
        .sample(fraction=1.0, shuffle=True, seed=1)
    )
    out = attach_keys(fact.lazy(), mapping, ON).collect(engine="streaming")
    expected = fact.join(mapping, on=ON, how="left", nulls_equal=True, maintain_order="left")
    assert_frame_equal(out, expected)
    assert 0 < out["customer_key"].null_count() < out.height
