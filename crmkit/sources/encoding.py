"""Text encodings of exported files: strict detection and streamed transcoding to UTF-8.

Exports arrive as UTF-8 (with or without a BOM), GB18030/GBK (Chinese Excel), or UTF-16 with a
BOM (Google Ads "Excel CSV"), sometimes gzipped. polars scans UTF-8 only, so every other file is
transcoded once, in chunks, to a temporary UTF-8 file. Detection is by strict decoding (in the
order UTF-8 BOM / UTF-16 BOM, UTF-8, GB18030), plus a check that a GB18030 decode yields common
Chinese, so a file is read exactly or rejected with the offset of its first bad byte: never
silent mojibake.
"""

from __future__ import annotations

import atexit
import codecs
import gzip
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from crmkit.errors import InputFileError, UsageError

CHUNK = 4 << 20  # bytes per read when streaming a whole file
GZIP_MAGIC = b"\x1f\x8b"
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (b"\xfe\xff", "utf-16"))
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_PLAUSIBILITY_SAMPLE = 4000  # non-ASCII characters checked before trusting a GB18030 decode
_UNDECODABLE_HINT = (
    "set `encoding:` for this source in crmkit.yaml (for example gbk, utf-16 or cp1252), "
    "or re-save the file as UTF-8"
)


class DecodeFailure(Exception):
    """The first byte that `encoding` cannot decode, with its absolute offset in the stream."""

    def __init__(self, encoding: str, offset: int, byte: int | None) -> None:
        super().__init__(encoding, offset, byte)
        self.encoding = encoding
        self.offset = offset
        self.byte = byte

    def describe(self) -> str:
        """A phrase such as 'UTF-8 (invalid byte 0xff at offset 1234)'."""
        what = f"invalid byte 0x{self.byte:02x}" if self.byte is not None else "bad text"
        return f"{display_name(self.encoding)} ({what} at offset {self.offset})"


@dataclass(frozen=True)
class TextSource:
    """A UTF-8 file polars can scan, standing for (a prefix of) an original file."""

    path: Path  # the original file when it is plain UTF-8, else a temporary transcoded copy
    encoding: str  # the encoding of the original
    has_quotes: bool  # whether a `"` occurs; without one no field can span lines
    complete: bool  # False when only a prefix of the original was materialised
    suspect_quotes: bool = False  # a misplaced or unbalanced `"` that polars would misparse


_BOUNDARY = np.zeros(256, dtype=bool)
_BOUNDARY[list(b',\t;|\r\n"')] = True


def misplaced_quote(data: bytes) -> bool:
    """True when a `"` sits between two ordinary characters (`24" monitor`, `"a"b`, `"1" ,2`).

    In well-formed CSV every quote touches a delimiter, a line end, another quote or the file
    edge. polars rejects or silently mis-splits the other cases, so they need a lenient parse.
    """
    scan = QuoteScan()
    scan.feed(data)
    return scan.misplaced


class QuoteScan:
    """Watches the UTF-8 bytes of a file go by: are there quotes, and are they well placed?"""

    def __init__(self) -> None:
        self.count = 0
        self.misplaced = False
        self._tail = b""  # the last two bytes seen, so a quote at a chunk edge gets neighbours

    def feed(self, data: bytes) -> None:
        buf = self._tail + data
        arr = np.frombuffer(buf, dtype=np.uint8)
        pos = np.flatnonzero(arr == 0x22)
        if pos.size:
            self.count += int(np.count_nonzero(pos >= len(self._tail)))
            if not self.misplaced:
                inner = pos[(pos > 0) & (pos < arr.size - 1)]
                lonely = ~_BOUNDARY[arr[inner - 1]] & ~_BOUNDARY[arr[inner + 1]]
                self.misplaced = bool(lonely.any())
        self._tail = buf[-2:]

    @property
    def suspect(self) -> bool:
        """A misplaced quote, or an odd number of quotes (a quoted field never closed)."""
        return self.misplaced or self.count % 2 == 1


def display_name(encoding: str) -> str:
    """Human name of an encoding for messages ('utf-8' -> 'UTF-8')."""
    return {"utf-8-sig": "UTF-8 with BOM", "gb18030": "GB18030"}.get(encoding, encoding.upper())


def normalize_encoding(encoding: str) -> str:
    """Canonical codec name for a user-given encoding; 'auto' stays 'auto'."""
    if encoding.strip().lower() == "auto":
        return "auto"
    try:
        name = codecs.lookup(encoding.strip()).name
    except LookupError:
        raise UsageError(
            f"unknown encoding {encoding!r}",
            hint="use auto, utf-8, utf-8-sig, gb18030, gbk, utf-16 or another Python codec name",
        ) from None
    return {"utf_8": "utf-8", "utf-8": "utf-8", "utf_16": "utf-16"}.get(
        name, name.replace("_", "-")
    )


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic number."""
    with path.open("rb") as f:
        return f.read(2) == GZIP_MAGIC


def open_bytes(path: Path) -> BinaryIO:
    """Open a file for binary reading, transparently decompressing gzip."""
    if is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def bom_encoding(head: bytes) -> str | None:
    """The encoding announced by a byte-order mark at the start of `head`, if any."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def iter_decoded(stream: BinaryIO, encoding: str, chunk_size: int = CHUNK) -> Iterator[str]:
    """Decode a byte stream strictly, chunk by chunk; raise DecodeFailure at the first bad byte."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    fed = 0
    while chunk := stream.read(chunk_size):
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as e:
            raise _failure(encoding, fed - pending, e) from None
        fed += len(chunk)
        yield text
    pending = len(decoder.getstate()[0])
    try:
        yield decoder.decode(b"", final=True)
    except UnicodeDecodeError as e:
        raise _failure(encoding, fed - pending, e) from None


def _failure(encoding: str, base: int, e: UnicodeDecodeError) -> DecodeFailure:
    """Turn a decoder error on (pending bytes + chunk) into an absolute offset."""
    bad = e.object[e.start] if e.start < len(e.object) else None
    return DecodeFailure(encoding, base + e.start, bad)


class ImplausibleDecode(DecodeFailure):
    """A strict decode that succeeded but yields text that is not plausibly Chinese."""

    def __init__(self, encoding: str, common: int, total: int) -> None:
        super().__init__(encoding, -1, None)
        self.common = common
        self.total = total

    def describe(self) -> str:
        return (
            f"{display_name(self.encoding)} (it decodes only into unlikely characters: "
            f"{self.common} of {self.total} non-ASCII are common Chinese)"
        )


def check_plausible_chinese(text_sample: str, encoding: str = "gb18030") -> None:
    """Raise ImplausibleDecode when a GB18030 decode's non-ASCII text is not mostly common Chinese.

    Strict GB18030 decoding accepts much Latin-1/cp1252 text (``ä`` + a letter is a valid GBK
    pair), which would be silent mojibake. Real GBK exports are dominated by GB2312 characters.
    """
    chars = Counter(_NON_ASCII.findall(text_sample))
    total = sum(chars.values())
    if total == 0:
        return
    common = sum(n for ch, n in chars.items() if _in_gb2312(ch))
    if common / total < 0.5:
        raise ImplausibleDecode(encoding, common, total)


def _in_gb2312(ch: str) -> bool:
    """True for characters of the GB2312 set (common simplified Chinese and punctuation)."""
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _guess_suffix(path: Path) -> str:
    """'; it looks like cp1252' from charset-normalizer on the file head, or ''."""
    try:
        from charset_normalizer import from_bytes

        with open_bytes(path) as f:
            head = f.read(64 << 10)
        if len(head) < 256:
            return ""  # too little text for a meaningful guess
        best = from_bytes(head).best()
    except Exception:  # a guess for a message only; never let it mask the real error
        return ""
    return f"; it looks like {best.encoding}" if best is not None else ""


def undecodable_error(path: Path, failures: list[DecodeFailure]) -> InputFileError:
    """One-line error naming, for each tried encoding, the first bad byte and its offset."""
    tried = " nor ".join(f.describe() for f in failures)
    return InputFileError(
        f"{path}: cannot read the file: it is not {tried}{_guess_suffix(path)}",
        reason_code="undecodable",
        path=str(path),
        hint=_UNDECODABLE_HINT,
    )


# -- temporary UTF-8 copies -------------------------------------------------------------------

_temp_dir: Path | None = None
_cache: dict[tuple[object, ...], TextSource] = {}


def temp_dir() -> Path:
    """A private temporary folder for transcoded copies, removed when the interpreter exits."""
    global _temp_dir
    if _temp_dir is None or not _temp_dir.exists():
        _temp_dir = Path(tempfile.mkdtemp(prefix="crmkit-read-"))
        atexit.register(shutil.rmtree, _temp_dir, True)
    return _temp_dir


def clear_temp() -> None:
    """Delete every transcoded copy now (long-running processes; frames using them break)."""
    global _temp_dir
    _cache.clear()
    if _temp_dir is not None:
        shutil.rmtree(_temp_dir, ignore_errors=True)
        _temp_dir = None


def new_temp(suffix: str) -> Path:
    """A new empty file in the private temporary folder."""
    fd, name = tempfile.mkstemp(suffix=suffix, dir=temp_dir())
    os.close(fd)
    return Path(name)


def _cache_key(path: Path, encoding: str) -> tuple[object, ...]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, encoding)


# -- whole files ------------------------------------------------------------------------------


def prepare_full(path: Path, encoding: str = "auto") -> TextSource:
    """A scannable UTF-8 version of the whole file, validating every byte of it.

    Plain UTF-8 files are scanned in place after one streamed validation pass; gzip, GB18030,
    UTF-16 and any explicit non-UTF-8 encoding go to a cached temporary UTF-8 copy.
    """
    gz = is_gzip(path)
    if encoding == "auto":
        with open_bytes(path) as f:
            encoding = bom_encoding(f.read(4)) or "auto"
    if encoding != "auto":
        try:
            return _full_as(path, encoding, gz, guessed=False)
        except DecodeFailure as e:
            raise undecodable_error(path, [e]) from None
    failures: list[DecodeFailure] = []
    for candidate in ("utf-8", "gb18030"):
        try:
            return _full_as(path, candidate, gz, guessed=True)
        except DecodeFailure as e:
            failures.append(e)
    raise undecodable_error(path, failures)


def _full_as(path: Path, encoding: str, gz: bool, *, guessed: bool) -> TextSource:
    """Validate (and if needed transcode) the whole file as `encoding`; raise DecodeFailure.

    `guessed` (auto-detection) adds the Chinese plausibility check to a GB18030 decode.
    """
    key = _cache_key(path, encoding)
    hit = _cache.get(key)
    if hit is not None and hit.path.exists():
        return hit
    in_place = encoding in ("utf-8", "utf-8-sig") and not gz
    if in_place:
        source = _validate_only(path, encoding)
    else:
        source = _transcode(path, encoding, check=guessed and encoding == "gb18030")
    _cache[key] = source
    return source


def _validate_only(path: Path, encoding: str) -> TextSource:
    """Strictly decode a UTF-8 file in place, without writing, watching its quotes.

    Pure-ASCII chunks are valid UTF-8 by definition and are skipped without decoding.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    quotes = QuoteScan()
    fed = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            quotes.feed(chunk)
            pending = len(decoder.getstate()[0])
            if not (pending == 0 and chunk.isascii()):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as e:
                    raise _failure(encoding, fed - pending, e) from None
            fed += len(chunk)
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as e:
            raise _failure(encoding, fed - pending, e) from None
    return TextSource(path, encoding, quotes.count > 0, True, quotes.suspect)


def _transcode(path: Path, encoding: str, *, check: bool) -> TextSource:
    """Stream-decode the file and write it as UTF-8 to a temporary file."""
    out = new_temp(".csv")
    quotes = QuoteScan()
    checked = not check
    sample: list[str] = []
    try:
        with open_bytes(path) as src, out.open("wb") as dst:
            for text in iter_decoded(src, encoding):
                if not checked:
                    sample.append(text)
                    if sum(len(_NON_ASCII.findall(s)) for s in sample) >= _PLAUSIBILITY_SAMPLE:
                        check_plausible_chinese("".join(sample))
                        checked, sample = True, []
                data = text.encode("utf-8")
                quotes.feed(data)
                dst.write(data)
        if not checked:
            check_plausible_chinese("".join(sample))
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return TextSource(out, encoding, quotes.count > 0, True, quotes.suspect)


# -- samples ----------------------------------------------------------------------------------


def prepare_sample(path: Path, encoding: str, max_records: int) -> TextSource:
    """A temporary UTF-8 file with the first `max_records` complete CSV records of the file.

    Only the needed prefix is read and decoded, so sampling a 350 MB file stays fast. Records
    are counted by quote parity per line, so a quoted field spanning lines is never cut.
    """
    if encoding == "auto":
        with open_bytes(path) as f:
            encoding = bom_encoding(f.read(4)) or "auto"
    if encoding != "auto":
        try:
            return _sample_as(path, encoding, max_records, guessed=False)
        except DecodeFailure as e:
            raise undecodable_error(path, [e]) from None
    failures: list[DecodeFailure] = []
    for candidate in ("utf-8", "gb18030"):
        try:
            return _sample_as(path, candidate, max_records, guessed=True)
        except DecodeFailure as e:
            failures.append(e)
    raise undecodable_error(path, failures)


def _sample_as(path: Path, encoding: str, max_records: int, *, guessed: bool) -> TextSource:
    """Decode only the first `max_records` records as `encoding` into a temporary UTF-8 file."""
    with open_bytes(path) as src:
        text, complete = cut_records(iter_decoded(src, encoding, 64 << 10), max_records)
    if guessed and encoding == "gb18030":
        check_plausible_chinese(text)
    data = text.encode("utf-8")
    quotes = QuoteScan()
    quotes.feed(data)
    out = new_temp(".csv")
    out.write_bytes(data)
    return TextSource(out, encoding, quotes.count > 0, complete, quotes.suspect)


def cut_records(chunks: Iterator[str], max_records: int, quote: str = '"') -> tuple[str, bool]:
    """Join text chunks up to the end of the `max_records`-th record (quote-aware).

    Returns the text and whether the whole input was consumed. A line ends a record unless an
    odd number of quotes so far leaves a quoted field open (`""` escapes count twice).
    """
    parts: list[str] = []
    records = 0
    in_quotes = False
    carry = ""
    for chunk in chunks:
        buf = carry + chunk
        end = buf.rfind("\n") + 1
        if (
            not in_quotes
            and quote not in buf[:end]
            and records + buf.count("\n", 0, end) < max_records
        ):
            records += buf.count("\n", 0, end)  # fast path: no quotes, all lines are records
            parts.append(buf[:end])
            carry = buf[end:]
            continue
        start = 0
        while (nl := buf.find("\n", start)) >= 0:
            if buf.count(quote, start, nl) % 2:
                in_quotes = not in_quotes
            start = nl + 1
            if not in_quotes:
                records += 1
                if records >= max_records:
                    parts.append(buf[:start])
                    return "".join(parts), False
        parts.append(buf[:start])
        carry = buf[start:]
    parts.append(carry)
    return "".join(parts), True
