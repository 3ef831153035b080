"""`attach_keys` / `lookup`: the hashed join gives what a left join on the reference columns gives;
`number_customers` numbers the golden records in key order."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crmkit.pipeline.link import attach_keys, lookup, number_customers

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


def test_the_customer_number_comes_with_the_key_in_the_same_lookup() -> None:
    mapping = pl.DataFrame(
        {
            "source": ["pos", "shop", "pos"],
            "customer_id": ["c1", "c1", "c2"],
            "customer_email": [None, None, None],
            "customer_key": ["K1", "K2", "K1"],  # two references of one customer
            "customer_no": [0, 1, 0],
        },
        schema_overrides={"customer_email": pl.String},
    )
    out = attach_keys(FACT.lazy(), mapping, ON).collect(engine="streaming")
    assert out.columns == [*FACT.columns, "customer_key", "customer_no"]
    # o1 pos/c1, o2 shop/c1, o3 pos/c2; the rest have no reference in the mapping
    assert out["customer_key"].to_list() == ["K1", "K2", "K1", None, None, None, None]
    assert out["customer_no"].to_list() == [0, 1, 0, None, None, None, None]


def test_lookup_takes_a_plan_and_only_the_values_asked_for() -> None:
    orders = pl.LazyFrame(
        {
            "source": ["shop", "shop", "pos"],
            "order_id": ["A1", "A2", "A1"],
            "order_no": [7, 8, 9],
            "status": ["completed"] * 3,
        }
    )
    lines = pl.LazyFrame(
        {"source": ["pos", "shop", "shop", "shop"], "order_id": ["A1", "A2", "A9", "A1"]}
    )
    out = lookup(lines, orders, ["source", "order_id"], ["order_no"]).collect()
    assert out.columns == ["source", "order_id", "order_no"]
    assert out["order_no"].to_list() == [9, 8, None, 7]
    empty = lookup(lines, orders.head(0), ["source", "order_id"], ["order_no"]).collect()
    assert empty["order_no"].dtype == pl.Int64 and empty["order_no"].null_count() == 4


def test_customers_are_numbered_in_key_order() -> None:
    golden = pl.DataFrame({"customer_key": ["C3", "C1", "C2"], "city": ["x", "y", "z"]})
    out = number_customers(golden)
    assert out.rows() == [("C1", "y", 0), ("C2", "z", 1), ("C3", "x", 2)]
    # numbered again from scratch when the table already had numbers
    again = number_customers(out.filter(pl.col("customer_key") != "C1"))
    assert again["customer_no"].to_list() == [0, 1]
