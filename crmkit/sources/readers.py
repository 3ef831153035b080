"""File readers: CSV/TSV (plain or gzipped), XLSX and Parquet into all-string LazyFrames.

Every reader returns the file's own columns as `pl.String`, empty cells as null, plus `__line`,
the 1-based physical line (CSV) or sheet row (XLSX) where each record starts, so that rejects
can point a user at the exact place in the file. Values are not cleaned here: that is the job
of `crmkit.pipeline.clean`. CSV is scanned lazily so a 10-million-row export streams.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import zipfile
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import polars as pl

from crmkit.errors import InputFileError, UsageError
from crmkit.sources import encoding as enc

if TYPE_CHECKING:
    from fastexcel import ExcelReader

LINE = "__line"
DELIMITERS = (",", "\t", ";", "|")
HEADER_SCAN = 15  # lines searched for the header when skip_rows is not given
HEADER_SHARE = 0.8  # a header fills at least this share of the typical row width
SNIFF_RECORDS = 200  # records parsed to sniff the delimiter and find the header
SNIFF_CHARS = 256 << 10  # characters of text read for sniffing
MAX_SNIFF_CHARS = 64 << 20  # the sample grows up to this when the first records are huge
_DELIMITER_ALIASES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"
_DAY_ZERO = r"^1899-12-3[01] (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$"
# Python's csv module refuses fields over 128 KB by default; exports can hold longer ones.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ", "an xz archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
)


@dataclass(frozen=True)
class ReadResult:
    """One table read from a file (one per sheet for workbooks), with how it was read."""

    frame: pl.LazyFrame  # data columns as String with the file's header names, plus `__line`
    headers: list[str]  # the data column names in file order
    path: Path
    format: str  # "csv" | "xlsx" | "parquet"
    encoding: str | None  # "utf-8", "utf-8-sig", "gb18030", "utf-16" (or an explicit codec)
    delimiter: str | None
    sheet: str | None
    header_line: int  # 1-based line/row of the header
    preamble: list[str]  # raw text of the lines skipped before the header
    # how to read any range of the records again (`frame` = all of them); set for delimited
    # text in which no field can span lines, so that a range can be parsed on its own
    slicer: CsvSlicer | None = None


@dataclass(frozen=True)
class CsvSlicer:
    """The records of a delimited UTF-8 file, any range of them read on its own (picklable: a
    worker process can stage its share of a big file).

    Records are counted as polars reads them (`rows()`); `frame(offset, length)` has the same
    `__line` numbers as those records have in the whole-file frame, which holds only where no
    quoted field spans lines.
    """

    path: Path
    delimiter: str
    data_line: int  # 1-based physical line of the first record
    names: tuple[str, ...]

    def scan(self) -> pl.LazyFrame:
        """Every record as read, with its raw `__line` index (blank records included)."""
        return pl.scan_csv(
            self.path,
            has_header=False,
            separator=self.delimiter,
            quote_char='"',
            skip_lines=self.data_line - 1,
            schema=dict.fromkeys(self.names, pl.String),
            infer_schema=False,
            null_values=[""],
            missing_columns="insert",
            truncate_ragged_lines=True,
            raise_if_empty=False,
            encoding="utf8",
            row_index_name=LINE,
            row_index_offset=self.data_line,
        )

    def rows(self) -> int:
        """How many records (blank ones included) the file holds."""
        return self.scan().select(pl.len()).collect().item()

    def frame(self, offset: int = 0, length: int | None = None) -> pl.LazyFrame:
        """Records `offset` .. `offset + length` (to the end when None) as `_scan` gives them."""
        lf = self.scan()
        if offset or length is not None:
            lf = lf.slice(offset, length)
        names = list(self.names)
        lf = lf.with_columns(pl.col(LINE).cast(pl.Int64))
        return _drop_blank(lf, names).select(*names, LINE)


def read_file(
    path: Path,
    *,
    encoding: str = "auto",
    delimiter: str | None = None,
    sheet: str | int | None = None,
    skip_rows: int | None = None,
    n_rows: int | None = None,
) -> list[ReadResult]:
    """Read a CSV/TSV/TXT (optionally gzipped), XLSX or Parquet file into string LazyFrames.

    `sheet="*"` returns every non-empty sheet of a workbook; otherwise one result. `skip_rows=N`
    puts the header on line N+1; by default title lines above the header are detected. `n_rows`
    reads only the first rows (for detection on a sample) without decoding the whole file.
    """
    path = Path(path)
    _check_path(path)
    encoding = enc.normalize_encoding(encoding or "auto")  # None from an unset config field
    if skip_rows is not None and skip_rows < 0:
        raise UsageError(f"skip_rows must be 0 or more, got {skip_rows}")
    if n_rows is not None and n_rows < 0:
        raise UsageError(f"n_rows must be 0 or more, got {n_rows}")
    kind = detect_format(path, encoding=encoding)
    if kind == "parquet":
        return [_read_parquet(path, n_rows)]
    if kind == "xlsx":
        return _read_workbook(path, sheet, skip_rows, n_rows)
    return [_read_delimited(path, encoding, delimiter, skip_rows, n_rows)]


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, streamed in 1 MiB chunks (the manifest's identity of a file)."""
    digest = hashlib.sha256()
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    with Path(path).open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            digest.update(view[:n])
    return digest.hexdigest()


# -- format detection -------------------------------------------------------------------------


def _check_path(path: Path) -> None:
    """A missing path or a folder is a usage error; an unreadable file an input error."""
    if not path.exists():
        raise UsageError(f"{path}: no such file", hint="check the path in the command or config")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder, not a file", hint="name a file inside it")
    try:
        with path.open("rb"):
            pass
    except OSError as e:
        raise _error(path, "unreadable", f"cannot open the file ({e.strerror})") from None


def detect_format(path: Path, *, encoding: str = "auto") -> str:
    """'csv', 'xlsx' or 'parquet' from the file's magic bytes; raise for empty or binary files."""
    with path.open("rb") as f:
        head = f.read(8192)
    if not head:
        raise _error(path, "empty_file", "the file is empty (0 bytes)", "export it again")
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xlsx"  # legacy .xls (OLE2); calamine reads it too
    if head.startswith(enc.GZIP_MAGIC):
        with enc.open_bytes(path) as f:
            inner = _read_gzip_head(path, f)
        _check_binary(path, inner, encoding, "gzip-compressed ")
        return "csv"
    _check_binary(path, head, encoding, "")
    return "csv"


def _read_gzip_head(path: Path, f: BinaryIO) -> bytes:
    """The first 8 KB of a gzip member, or an `unreadable` error for a corrupt archive."""
    try:
        return f.read(8192)
    except (OSError, EOFError) as e:
        raise _error(path, "unreadable", f"the gzip archive is corrupt ({e})") from None


def _zip_kind(path: Path) -> str:
    """A ZIP is a workbook when it holds xl/workbook.xml; any other ZIP is not a table."""
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError) as e:
        raise _error(path, "unreadable", f"the ZIP/XLSX container is corrupt ({e})") from None
    if "xl/workbook.xml" in names:
        return "xlsx"
    raise _error(
        path,
        "binary_file",
        "the file is a ZIP archive, not a table",
        "unzip it and point the source at the CSV/XLSX inside",
    )


def _check_binary(path: Path, head: bytes, encoding: str, prefix: str) -> None:
    """Reject known binary formats, and NUL bytes in text without a UTF-16 BOM."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise _error(
                path, "binary_file", f"the file is {prefix}{what}, not a table", "export CSV/XLSX"
            )
    if head.startswith((b"PAR1", b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise _error(
            path,
            "binary_file",
            f"the file is a {prefix}Parquet/Excel file",
            "decompress it first; only CSV/TSV text can be read gzipped",
        )
    explicit_wide = encoding.startswith(("utf-16", "utf-32"))
    nul = head.find(b"\x00")
    if nul >= 0 and enc.bom_encoding(head) != "utf-16" and not explicit_wide:
        raise _error(
            path,
            "binary_file",
            f"the {prefix}file holds NUL bytes (first at offset {nul}), so it is not text",
            "export CSV/XLSX; for UTF-16 text without a byte-order mark set `encoding: utf-16-le`",
        )


def _error(path: Path, code: str, what: str, hint: str | None = None) -> InputFileError:
    """An InputFileError whose one-line message names the file."""
    return InputFileError(f"{path}: {what}", reason_code=code, path=str(path), hint=hint)


# -- delimited text ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """Where the table sits in a text file: delimiter, header record and its line span."""

    delimiter: str
    header_fields: list[str]
    header_line: int  # 1-based physical line where the header record starts
    data_line: int  # 1-based physical line where the first data record starts
    width: int  # number of columns (header or widest sampled record, whichever is wider)
    preamble: list[str]


def _read_delimited(
    path: Path,
    encoding: str,
    delimiter: str | None,
    skip_rows: int | None,
    n_rows: int | None,
) -> ReadResult:
    """Scan a delimited text file lazily after detecting encoding, delimiter and header."""
    source = _text_source(path, encoding, skip_rows, n_rows)
    size = SNIFF_CHARS
    while True:
        sample, sample_complete = _text_head(source.path, size)
        if not sample.strip(" \t\r\n\ufeff") and sample_complete:
            raise _error(
                path, "empty_file", "the file holds no text (only blank space)", "export it again"
            )
        layout = find_layout(sample, sample_complete, _delimiter(delimiter), skip_rows)
        if layout.header_fields or sample_complete or size >= MAX_SNIFF_CHARS:
            break
        size *= 8  # records longer than the sample: look further
    if not layout.header_fields:
        where = "in the first 64 MB" if skip_rows is None else f"after skipping {skip_rows} lines"
        raise _error(path, "empty_file", f"no header row found {where}", "check skip_rows")
    if source.suspect_quotes:
        source = _normalized(path, source, layout)
    names = unique_headers(layout.header_fields, layout.width)
    records = CsvSlicer(source.path, layout.delimiter, layout.data_line, tuple(names))
    frame = _scan(records, source.has_quotes)
    # a range of records can be read on its own only where no quoted field spans lines
    slicer = records if names and not source.has_quotes and n_rows is None else None
    if n_rows is not None:
        frame = frame.head(n_rows)
    return ReadResult(
        frame=frame,
        headers=names,
        path=path,
        format="csv",
        encoding=source.encoding,
        delimiter=layout.delimiter,
        sheet=None,
        header_line=layout.header_line,
        preamble=layout.preamble,
        slicer=slicer,
    )


def _delimiter(delimiter: str | None) -> str | None:
    """Validate a user-given delimiter ('tab' and '\\t' mean a tab)."""
    if delimiter is None:
        return None
    d = _DELIMITER_ALIASES.get(delimiter.lower(), delimiter)
    if len(d) != 1 or d in ('"', "\n", "\r"):
        raise UsageError(
            f"delimiter must be one character, got {delimiter!r}", hint="use , ; | or tab"
        )
    return d


def _text_source(
    path: Path, encoding: str, skip_rows: int | None, n_rows: int | None
) -> enc.TextSource:
    """The UTF-8 text polars will scan: the whole file, or a prefix when sampling `n_rows`."""
    try:
        if n_rows is None:
            return enc.prepare_full(path, encoding)
        budget = (HEADER_SCAN if skip_rows is None else skip_rows) + n_rows + 64
        return enc.prepare_sample(path, encoding, max(budget, SNIFF_RECORDS + 16))
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise _error(
            path, "unreadable", f"the gzip archive is corrupt or truncated ({e})", "export it again"
        ) from None


def _text_head(path: Path, size: int) -> tuple[str, bool]:
    """The first `size` characters of a UTF-8 file and whether that is the whole file."""
    with path.open("r", encoding="utf-8", newline="") as f:
        text = f.read(size)
        complete = not f.read(1)
    return text.removeprefix("\ufeff"), complete


def parse_records(text: str, delimiter: str, complete: bool) -> list[tuple[int, int, list[str]]]:
    """Parse sample text into (first line, last line, fields) records, lines 1-based.

    Lines are split on "\\n" only, as polars does. A trailing record is dropped when the sample
    was cut, since it may be partial.
    """
    lines = [line + "\n" for line in text.split("\n")]
    if lines and lines[-1] == "\n":
        lines.pop()  # text ended with a newline: no extra empty line
    reader = csv.reader(iter(lines), delimiter=delimiter, quotechar='"', strict=False)
    out: list[tuple[int, int, list[str]]] = []
    before = 0
    try:
        for fields in reader:
            out.append((before + 1, reader.line_num, fields))
            before = reader.line_num
            if len(out) > SNIFF_RECORDS:
                break
    except csv.Error:
        pass  # a malformed line ends the sample; polars decides on the full file
    if not complete and out and len(out) <= SNIFF_RECORDS:
        out.pop()
    return out


def sniff_delimiter(text: str, complete: bool) -> str:
    """The candidate delimiter that splits sample records most consistently into >1 fields."""
    best, best_score = ",", (0.0, 0)
    for d in DELIMITERS:
        widths = [len(f) for _, _, f in parse_records(text, d, complete) if f]
        if not widths:
            continue
        mode, count = Counter(widths).most_common(1)[0]
        if mode < 2:
            continue
        score = (count / len(widths), mode)
        if score > best_score:
            best, best_score = d, score
    return best


def find_header(rows: Sequence[Sequence[str | None]], max_scan: int = HEADER_SCAN) -> int:
    """Index of the header row: the first whose filled cells reach 80% of the typical width.

    The typical width is the most common trimmed width (up to the last filled cell) of the
    rows after the candidate, so report titles and date-range lines above a header are skipped.
    """
    filled = [sum(1 for v in r if v is not None and v.strip()) for r in rows]
    trimmed = [_trimmed_width(r) for r in rows]
    candidates = range(min(max_scan, len(rows) - 1 if len(rows) > 1 else 1))
    for i in candidates:
        after = [w for w in trimmed[i + 1 :] if w > 0]
        typical = Counter(after).most_common(1)[0][0] if after else trimmed[i]
        if filled[i] > 0 and filled[i] >= HEADER_SHARE * typical:
            return i
    best = max((filled[i] for i in candidates), default=0)
    return next((i for i in candidates if filled[i] == best), 0)


def _trimmed_width(row: Sequence[str | None]) -> int:
    """Position of the last non-empty cell (1-based), 0 for an empty row."""
    for i in range(len(row) - 1, -1, -1):
        v = row[i]
        if v is not None and v.strip():
            return i + 1
    return 0


def find_layout(text: str, complete: bool, delimiter: str | None, skip_rows: int | None) -> _Layout:
    """Delimiter, header record and preamble of a text sample."""
    d = delimiter or sniff_delimiter(text, complete)
    records = parse_records(text, d, complete)
    if not records:
        return _Layout(d, [], 1, 2, 0, [])
    if skip_rows is None:
        idx = find_header([f for _, _, f in records])
    else:
        idx = next((i for i, r in enumerate(records) if r[0] > skip_rows), len(records))
        if idx == len(records):
            return _Layout(d, [], skip_rows + 1, skip_rows + 2, 0, text.split("\n")[:skip_rows])
    first, last, fields = records[idx]
    width = max(len(f) for _, _, f in records[idx:])
    preamble = [line.removesuffix("\r") for line in text.split("\n")[: first - 1]]
    return _Layout(d, fields, first, last + 1, width, preamble)


def unique_headers(raw: Sequence[str | None], width: int | None = None) -> list[str]:
    """Header names trimmed of BOM/whitespace, empty ones named column_<n>, duplicates numbered.

    `width` pads the list with column_<n> names when data rows are wider than the header.
    """
    n = max(len(raw), width or 0)
    base = [(raw[i] or "").replace("\ufeff", "").strip() if i < len(raw) else "" for i in range(n)]
    base = [b or f"column_{i + 1}" for i, b in enumerate(base)]
    taken = set(base)
    used: set[str] = set()
    out: list[str] = []
    for name in base:
        candidate, k = name, 1
        while candidate in used or candidate == LINE or (k > 1 and candidate in taken):
            k += 1
            candidate = f"{name} ({k})"
        used.add(candidate)
        out.append(candidate)
    return out


def _normalized(path: Path, source: enc.TextSource, layout: _Layout) -> enc.TextSource:
    """Rewrite a file with misplaced quotes as well-formed CSV, parsed leniently like Excel.

    polars rejects or silently mis-splits `24" monitor`, `"a"b` or a quote never closed;
    Python's csv module reads them the way spreadsheet programs do. Lines before the data are
    copied as they are and every record keeps its embedded newlines, so `__line` is unchanged.
    """
    out = enc.new_temp(".csv")
    d = layout.delimiter
    with (
        source.path.open("r", encoding="utf-8", newline="\n") as src,
        out.open("w", encoding="utf-8", newline="") as dst,
    ):
        for _ in range(layout.data_line - 1):
            dst.write(src.readline())
        reader = csv.reader(src, delimiter=d, quotechar='"', strict=False)
        writer = csv.writer(dst, delimiter=d, quoting=csv.QUOTE_ALL, lineterminator="\n")
        try:
            writer.writerows(reader)
        except csv.Error as e:
            line = layout.data_line - 1 + reader.line_num
            raise _error(path, "unreadable", f"line {line} cannot be parsed as CSV ({e})") from None
    return enc.TextSource(out, source.encoding, True, source.complete)


def _scan(records: CsvSlicer, has_quotes: bool) -> pl.LazyFrame:
    """Lazy polars scan of the data records with `__line` and blank lines dropped."""
    names = list(records.names)
    if not names:
        return pl.LazyFrame(schema={LINE: pl.Int64})
    if not has_quotes:
        return records.frame()
    # a quoted field may span lines: each record's line is its index plus the line breaks
    # inside the records before it
    line = pl.col(LINE).cast(pl.Int64)
    newlines = pl.sum_horizontal(
        pl.col(n).str.count_matches("\n", literal=True).fill_null(0) for n in names
    )
    line = line + newlines.cum_sum().shift(1, fill_value=0).cast(pl.Int64)
    return _drop_blank(records.scan().with_columns(line.alias(LINE)), names).select(*names, LINE)


def _drop_blank(lf: pl.LazyFrame, names: list[str]) -> pl.LazyFrame:
    """Drop records whose every cell is empty (blank lines, `,,,` rows): they hold no data."""
    return lf.filter(~pl.all_horizontal(pl.col(n).is_null() for n in names))


# -- workbooks --------------------------------------------------------------------------------


def _read_workbook(
    path: Path, sheet: str | int | None, skip_rows: int | None, n_rows: int | None
) -> list[ReadResult]:
    """Read one sheet, or every non-empty sheet for `sheet="*"`, of an XLSX/XLS workbook."""
    import fastexcel

    try:
        book = fastexcel.read_excel(path)
        names = list(book.sheet_names)
    except Exception as e:
        raise _unreadable(path, "workbook", e) from None
    if sheet == "*":
        results = [_read_sheet(book, path, s, skip_rows, n_rows, all_sheets=True) for s in names]
        found = [r for r in results if r is not None]
        if not found:
            raise _error(path, "empty_file", "every sheet of the workbook is empty", "export again")
        return found
    result = _read_sheet(book, path, _sheet_name(path, names, sheet), skip_rows, n_rows)
    return [result] if result is not None else []  # None only happens with all_sheets


def _sheet_name(path: Path, names: list[str], sheet: str | int | None) -> str:
    """Resolve a sheet given by name or 0-based index (None: the first sheet)."""
    if sheet is None:
        sheet = 0
    if isinstance(sheet, int) and 0 <= sheet < len(names):
        return names[sheet]
    if isinstance(sheet, str) and sheet in names:
        return sheet
    if isinstance(sheet, str) and sheet.isdigit() and int(sheet) < len(names):
        return names[int(sheet)]  # "2" from a command line or YAML string
    raise UsageError(
        f"{path}: the workbook has no sheet {sheet!r}",
        hint="use one of: " + ", ".join(repr(n) for n in names) + ' (or "*" for all)',
    )


def _read_sheet(
    book: ExcelReader,
    path: Path,
    name: str,
    skip_rows: int | None,
    n_rows: int | None,
    *,
    all_sheets: bool = False,
) -> ReadResult | None:
    """One sheet as strings; None for an empty sheet when reading all sheets."""
    limit = None if n_rows is None else (skip_rows or HEADER_SCAN) + n_rows + 64
    try:
        sheet = book.load_sheet(name, header_row=None, dtypes="string", skip_rows=0, n_rows=limit)
        raw = pl.DataFrame(sheet)
    except Exception as e:
        raise _unreadable(path, f"sheet {name!r}", e) from None
    raw = raw.with_columns(_excel_text(pl.col(c)).alias(c) for c in raw.columns)
    head = raw.head(SNIFF_RECORDS).rows()
    if not any(_trimmed_width(r) for r in head):
        if all_sheets:
            return None
        raise _error(path, "empty_file", f"sheet {name!r} is empty", "choose another sheet")
    idx = find_header(head) if skip_rows is None else min(skip_rows, raw.height)
    fields = list(raw.row(idx)) if idx < raw.height else []
    names = unique_headers(fields, raw.width)
    data = (
        raw.slice(idx + 1)
        .lazy()
        .with_row_index(LINE, offset=idx + 2)
        .rename(dict(zip(raw.columns, names, strict=True)))
        .with_columns(pl.col(LINE).cast(pl.Int64))
    )
    frame = _drop_blank(data, names).select(*names, LINE)
    if n_rows is not None:
        frame = frame.head(n_rows)
    return ReadResult(
        frame=frame,
        headers=names,
        path=path,
        format="xlsx",
        encoding=None,
        delimiter=None,
        sheet=name,
        header_line=idx + 1,
        preamble=[_join_cells(r) for r in head[:idx]],
    )


def _excel_text(col: pl.Expr) -> pl.Expr:
    """Cell text as the sheet shows it: "" as null, midnight datetimes as dates, times as times.

    Excel stores both as day numbers: a date cell is a datetime at 00:00:00 and a time-only
    cell is a datetime on day 0 (1899-12-31 in calamine's rendering).
    """
    text = col.str.replace(_MIDNIGHT, "$1").str.replace(_DAY_ZERO, "$1")
    return pl.when(col == "").then(None).otherwise(text)


def _join_cells(row: Sequence[str | None]) -> str:
    """A skipped title row as text: its non-empty cells joined by tabs."""
    return "\t".join(v for v in row if v is not None and v != "")


# -- parquet ----------------------------------------------------------------------------------


def _read_parquet(path: Path, n_rows: int | None) -> ReadResult:
    """Scan a Parquet file with every column cast to text (`__line` = 1-based row number)."""
    try:
        schema = pl.read_parquet_schema(path)
    except Exception as e:
        raise _unreadable(path, "Parquet file", e) from None
    names = unique_headers(list(schema))
    lf = pl.scan_parquet(path, n_rows=n_rows)
    frame = lf.select(
        _as_text(pl.col(old), dtype).alias(new)
        for (old, dtype), new in zip(schema.items(), names, strict=True)
    ).with_row_index(LINE, offset=1)
    frame = frame.with_columns(pl.col(LINE).cast(pl.Int64)).select(*names, LINE)
    return ReadResult(
        frame=frame,
        headers=names,
        path=path,
        format="parquet",
        encoding=None,
        delimiter=None,
        sheet=None,
        header_line=1,
        preamble=[],
    )


def _as_text(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A Parquet column as text: ISO 8601 datetimes, JSON for nested values, hex for binary."""
    if isinstance(dtype, pl.Datetime):
        fmt = "%Y-%m-%dT%H:%M:%S%.f" + ("%:z" if dtype.time_zone else "")
        return col.dt.to_string(fmt)
    if isinstance(dtype, pl.Date):
        return col.dt.to_string("%Y-%m-%d")
    if isinstance(dtype, pl.Duration):
        return col.dt.to_string()
    if isinstance(dtype, pl.Struct):
        return col.struct.json_encode()
    if isinstance(dtype, pl.List | pl.Array):
        wrapped = pl.struct(col.alias("v")).struct.json_encode()
        return pl.when(col.is_null()).then(None).otherwise(wrapped.str.slice(5).str.head(-1))
    if isinstance(dtype, pl.Binary):
        return col.bin.encode("hex")
    if isinstance(dtype, pl.Null):
        return col.cast(pl.String)
    return col.cast(pl.String)


def _unreadable(path: Path, what: str, e: Exception) -> InputFileError:
    """An `unreadable` error carrying the library's own first line of explanation."""
    detail = (str(e).strip().splitlines() or [type(e).__name__])[0]
    return _error(
        path,
        "unreadable",
        f"cannot read the {what}: {detail}",
        "open it in its application and save it again, or export it again",
    )
