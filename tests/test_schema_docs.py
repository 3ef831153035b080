"""docs/schema.md must name every column crmkit stores, so the public layout cannot drift."""

from pathlib import Path

from crmkit import schema

DOC = (Path(__file__).parents[1] / "docs" / "schema.md").read_text(encoding="utf-8")


def test_every_canonical_column_is_documented():
    missing = [
        f"{t.name}.{c}"
        for t in schema.SOURCE_TABLES.values()
        for c in t.names
        if f"`{c}`" not in DOC
    ]
    assert missing == []


def test_rejects_and_manifest_columns_are_documented():
    cols = [*schema.REJECTS_SCHEMA, *schema.MANIFEST_SCHEMA]
    assert [c for c in cols if f"`{c}`" not in DOC] == []
