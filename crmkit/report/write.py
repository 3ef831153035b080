"""`write_report`: pick the renderer by extension and write atomically, private to the user.

The file is written to a temporary file in the same folder (mode 0600), flushed and renamed over
the target, so a failure at any point leaves the previous report as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from crmkit.errors import UsageError
from crmkit.report.data import ReportData

FORMATS = (".html", ".xlsx", ".md", ".json")


def _renderer(suffix: str) -> Callable[[ReportData], bytes]:
    if suffix == ".html":
        from crmkit.report.html import render_html

        return lambda d: render_html(d).encode("utf-8")
    if suffix == ".xlsx":
        from crmkit.report.xlsx import render_xlsx

        return render_xlsx
    if suffix == ".md":
        from crmkit.report.markdown import render_markdown

        return lambda d: render_markdown(d).encode("utf-8")
    if suffix == ".json":
        from crmkit.report.jsondoc import render_json

        return lambda d: render_json(d).encode("utf-8")
    raise UsageError(
        f"cannot write a report to {suffix or 'a file without extension'}",
        hint=f"use one of: {', '.join(FORMATS)}",
    )


def write_report(data: ReportData, path: str | Path) -> Path:
    """Render `data` by the extension of `path` (.html, .xlsx, .md, .json) and write it."""
    path = Path(path)
    render = _renderer(path.suffix.lower())
    content = render(data)  # render fully before touching the file system
    return atomic_write(path, content)


def atomic_write(path: Path, content: bytes) -> Path:
    """Write `content` to `path` via a 0600 temp file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
