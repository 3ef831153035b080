"""Staging a big file in row ranges, one worker process each, gives exactly what staging it in
one go gives: the same rows in the same order, line numbers, rejects, counts and keys."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from crmkit.errors import UsageError
from crmkit.pipeline import staging
from crmkit.pipeline.ingest import ingest
from crmkit.sources.readers import read_file
from crmkit.workspace import Workspace

CONFIG = """\
timezone: Asia/Shanghai
currency: CNY
phone_region: CN
ingest: {{processes: {processes}}}
sources:
  - name: shop
    path: ../in/orders.csv
    table: orders
    constants: {{channel: online}}
    columns:
      order_id: Order No
      customer_email: Email
      customer_phone: Phone
      ordered_at: Order Date
      gross_amount: Total
      status: Status
"""


def _orders_csv(n: int) -> str:
    """`n` orders of 40 customers, with blank lines and bad rows spread through the file."""
    rows = ["Order No,Email,Phone,Order Date,Total,Status"]
    for i in range(n):
        c = i % 40
        date = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d} 10:{i % 60:02d}"
        if i % 17 == 5:
            date = "2025-13-45"  # bad date
        total = "-3.00" if i % 23 == 7 else f"{10 + i % 90}.50"  # negative: rejected
        rows.append(f"A{i:05d},c{c}@example.com,139{c:08d},{date},{total},completed")
        if i % 29 == 3:
            rows.append(rows[-1])  # an exact repeat: a duplicate
        if i % 31 == 0:
            rows.append("")  # a blank line: not a record, but it counts in the line numbers
    return "\n".join(rows) + "\n"


def _workspace(root: Path, processes: int, text: str) -> Workspace:
    ws = root / "ws"
    (root / "in").mkdir(parents=True)
    ws.mkdir()
    (root / "in" / "orders.csv").write_text(text, encoding="utf-8")
    (ws / "crmkit.yaml").write_text(CONFIG.format(processes=processes), encoding="utf-8")
    return Workspace(ws)


@pytest.fixture
def splits(monkeypatch) -> list[int]:
    """Every file is big enough to split; records the workers of each split made."""
    made: list[int] = []
    real = staging.stage_in_ranges

    def counted(slicer, plan, workers, part, index):
        made.append(workers)
        return real(slicer, plan, workers, part, index)

    monkeypatch.setattr(staging, "SPLIT_BYTES", 0)
    monkeypatch.setattr("crmkit.pipeline.ingest.stage_in_ranges", counted)
    return made


def _without_run(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop([c for c in frame.columns if c in ("run_id", "ingested_at")])


def test_ranges_cover_every_record_once_in_order() -> None:
    assert staging.ranges(10, 3) == [(0, 4), (4, 4), (8, None)]
    assert staging.ranges(2, 4) == [(0, 1), (1, None)]  # fewer records than workers
    assert staging.ranges(0, 2) == [(0, None)]


def test_a_range_of_records_has_its_whole_file_line_numbers(tmp_path) -> None:
    path = tmp_path / "o.csv"
    path.write_text(_orders_csv(300), encoding="utf-8")
    (result,) = read_file(path)
    assert result.slicer is not None
    whole = result.frame.collect()
    rows = result.slicer.rows()
    pieces = [result.slicer.frame(o, n).collect() for o, n in staging.ranges(rows, 4)]
    assert pl.concat(pieces).equals(whole)
    # by hand: the header is line 1, the first order line 2, a blank line follows order 0
    assert whole["__line"][:3].to_list() == [2, 4, 5]
    assert rows == whole.height + sum(1 for i in range(300) if i % 31 == 0)


def test_a_file_with_quotes_is_not_read_by_range(tmp_path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('a,b\n1,"two\nlines"\n3,4\n', encoding="utf-8")
    (result,) = read_file(path)
    assert result.slicer is None
    assert result.frame.collect()["__line"].to_list() == [2, 4]


def test_staging_in_ranges_equals_staging_in_one_go(tmp_path, splits) -> None:
    text = _orders_csv(3000)
    one = _workspace(tmp_path / "one", 1, text)
    many = _workspace(tmp_path / "many", 3, text)
    a, b = ingest(one), ingest(many)
    assert splits == [3]  # only the workspace with 3 processes split the file
    fa, fb = a.files[0], b.files[0]
    assert (fb.rows_read, fb.rows_accepted, fb.rows_rejected, fb.rows_duplicate) == (
        fa.rows_read,
        fa.rows_accepted,
        fa.rows_rejected,
        fa.rows_duplicate,
    )
    # counted by hand from the generator: 3000 orders, 103 repeats; bad dates and negatives
    bad = {i for i in range(3000) if i % 17 == 5 or i % 23 == 7}
    repeats_of_bad = sum(1 for i in bad if i % 29 == 3)
    assert fa.rows_read == 3000 + 104 and fa.rows_rejected == len(bad) + repeats_of_bad
    for table in ("orders", "customers", "rejects", "identity_map"):
        want, got = one.table(table).collect(), many.table(table).collect()
        assert _without_run(got).equals(_without_run(want)), table
    lines = one.table("rejects").collect()["source_line"]
    assert lines.is_sorted() and lines.n_unique() == lines.len()


def test_processes_setting() -> None:
    assert staging.processes(2) == 2 and staging.processes("1") == 1
    assert 1 <= staging.processes("auto") <= staging.MAX_PROCESSES
    with pytest.raises(UsageError, match=r"ingest\.processes"):
        staging.processes(0)
    with pytest.raises(UsageError, match=r"ingest\.processes"):
        staging.processes("many")


def test_the_same_bytes_either_way(tmp_path, splits) -> None:
    """The stored orders file is byte-identical (run ids aside, which orders do not carry)."""
    text = _orders_csv(500)
    digests = []
    for n in (1, 2):
        ws = _workspace(tmp_path / f"p{n}", n, text)
        ingest(ws)
        path = ws.warehouse.dir / "orders.parquet"
        digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
    assert splits == [2]  # the second workspace was staged by two workers
    assert digests[0] == digests[1]


def test_staging_in_chunks_equals_staging_in_one_chunk(tmp_path, monkeypatch) -> None:
    """Chunks of 250 records give what one chunk gives, and share one phone book: each of the
    40 customers' phone numbers is normalised once, not once per chunk."""
    from crmkit.pipeline import phones

    text = _orders_csv(3000)
    one = _workspace(tmp_path / "one", 1, text)
    ingest(one)
    normalised: list[int] = []
    real_table, real_chunks = phones._e164_table, staging._chunks
    chunks: list[int] = []

    def counted_table(values, region):
        normalised.append(values.len())
        return real_table(values, region)

    def counted_chunks(frame):
        for chunk in real_chunks(frame):
            chunks.append(chunk.height)
            yield chunk

    monkeypatch.setattr(phones, "_e164_table", counted_table)
    monkeypatch.setattr(staging, "_chunks", counted_chunks)
    monkeypatch.setattr(staging, "CHUNK_ROWS", 250)
    many = _workspace(tmp_path / "many", 1, text)
    ingest(many)
    # 3000 orders + 104 repeats (i % 29 == 3; blank lines are not records) in chunks of 250
    assert chunks == [250] * 12 + [104]
    assert sum(normalised) == 40
    for table in ("orders", "customers", "rejects", "identity_map"):
        want, got = one.table(table).collect(), many.table(table).collect()
        assert _without_run(got).equals(_without_run(want)), table


def test_workers_share_the_threads(monkeypatch) -> None:
    monkeypatch.setattr(staging, "usable_cores", lambda: 8)
    monkeypatch.delenv("POLARS_MAX_THREADS", raising=False)
    assert staging._worker_env(2)["POLARS_MAX_THREADS"] == "4"
    assert staging._worker_env(3)["POLARS_MAX_THREADS"] == "2"  # 8 // 3
    assert staging._worker_env(16)["POLARS_MAX_THREADS"] == "1"  # never none
    monkeypatch.setenv("POLARS_MAX_THREADS", "6")  # a cap the user set is shared too
    assert staging._worker_env(2)["POLARS_MAX_THREADS"] == "3"


def test_a_file_with_a_header_and_no_records_stages_nothing(tmp_path) -> None:
    ws = _workspace(tmp_path, 1, "Order No,Email,Phone,Order Date,Total,Status\n\n")
    result = ingest(ws)
    (file,) = result.files
    assert (file.status, file.rows_read, file.rows_accepted, file.rows_rejected) == (
        "ingested",
        0,
        0,
        0,
    )
    assert ws.table("orders").collect().height == 0
