"""Export member lists for action: CSV, XLSX or Parquet, PII masking and formula-injection guards.

Used by `crmkit segment --export` and `crmkit clv --export`. Masking: email
`zhang@example.com` → `z***@example.com`; phone `+8613800138000` → `+86138****8000` (first 6
and last 4 characters kept); names keep their first character (`张**`). Spreadsheet safety: in
CSV and XLSX every text cell that starts with `=`, `+`, `-`, `@`, tab or CR gets a leading
apostrophe (OWASP), except text that is a plain number such as `-12.5`; numeric columns are
never touched, so real negative numbers stay numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from crmkit.errors import UsageError

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
PII_COLUMNS = {"email": "email", "phone": "phone", "full_name": "name", "name": "name"}
_DANGER = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def _stars(text: pl.Expr) -> pl.Expr:
    """One `*` per character of `text`."""
    return text.str.replace_all(r"(?s).", "*")


def mask_email(col: str) -> pl.Expr:
    """`zhang.wei@example.com` → `z***@example.com`; text without `@` → `***`."""
    c = pl.col(col)
    return (
        pl.when(c.is_null())
        .then(None)
        .when(c.str.contains("@", literal=True))
        .then(pl.concat_str(c.str.slice(0, 1), pl.lit("***@"), c.str.split("@").list.last()))
        .otherwise(pl.lit("***"))
        .alias(col)
    )


def mask_phone(col: str) -> pl.Expr:
    """Keep the first 6 and last 4 characters, one `*` per hidden character
    (`+8613800138000` → `+86138****8000`); short numbers keep only their last 4."""
    c = pl.col(col)
    n = c.str.len_chars()
    return (
        pl.when(c.is_null())
        .then(None)
        .when(n > 10)
        .then(
            pl.concat_str(
                c.str.slice(0, 6), _stars(c.str.slice(6, (n - 10).clip(0))), c.str.tail(4)
            )
        )
        .otherwise(pl.concat_str(_stars(c.str.head((n - 4).clip(0))), c.str.tail(4)))
        .alias(col)
    )


def mask_name(col: str) -> pl.Expr:
    """Keep the first character: `张伟` → `张*`, `Mary Smith` → `M*********`."""
    c = pl.col(col)
    return (
        pl.when(c.is_null())
        .then(None)
        .otherwise(
            pl.concat_str(
                c.str.slice(0, 1),
                _stars(c.str.slice(1)),
            )
        )
        .alias(col)
    )


def mask_pii(df: pl.DataFrame, columns: dict[str, str] | None = None) -> pl.DataFrame:
    """Mask the PII columns present (`email`, `phone`, `full_name`/`name` by default)."""
    kinds = {"email": mask_email, "phone": mask_phone, "name": mask_name}
    cols = columns or PII_COLUMNS
    return df.with_columns(kinds[k](c) for c, k in cols.items() if c in df.columns)


def guard_formulas(df: pl.DataFrame) -> pl.DataFrame:
    """Prefix `'` to text cells that a spreadsheet would run as a formula (see module doc)."""
    exprs = []
    for name, dtype in df.schema.items():
        if dtype == pl.String:
            c = pl.col(name)
            risky = c.str.contains(_DANGER) & ~c.str.contains(_PLAIN_NUMBER)
            exprs.append(pl.when(risky).then(pl.lit("'") + c).otherwise(c).alias(name))
    return df.with_columns(exprs) if exprs else df


def _flatten(df: pl.DataFrame) -> pl.DataFrame:
    """Nested columns (lists, structs) as JSON text, for CSV and XLSX."""
    nested = [c for c, t in df.schema.items() if t.is_nested()]
    return df.with_columns(
        pl.col(c).map_elements(
            lambda v: json.dumps(
                v.to_list() if isinstance(v, pl.Series) else v, ensure_ascii=False, default=str
            ),
            return_dtype=pl.String,
        )
        for c in nested
    )


def export_format(path: Path) -> str:
    """The format chosen by the file extension; `UsageError` for anything else."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(
            f"cannot export to {path.name}: unknown extension",
            hint=f"use one of: {', '.join(FORMATS)}",
        )
    return fmt


def write_export(
    df: pl.DataFrame,
    path: str | Path,
    *,
    mask: bool = False,
    pii_columns: dict[str, str] | None = None,
    sheet: str = "members",
) -> Path:
    """Write `df` to CSV, XLSX or Parquet (by extension), masked and injection-safe.

    The file is written next to its destination and renamed into place, so a reader never sees
    half a file.
    """
    path = Path(path)
    fmt = export_format(path)
    if mask:
        df = mask_pii(df, pii_columns)
    if fmt != "parquet":
        df = guard_formulas(_flatten(df))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if fmt == "csv":
        df.write_csv(tmp)
    elif fmt == "xlsx":
        tmp = tmp.with_suffix(".xlsx")
        df.write_excel(tmp, worksheet=sheet, autofit=True)
    else:
        df.write_parquet(tmp)
    tmp.replace(path)
    return path


def select_present(df: pl.DataFrame, columns: Iterable[str]) -> list[str]:
    """The requested columns that exist in `df`, in the requested order."""
    return [c for c in columns if c in df.columns]
