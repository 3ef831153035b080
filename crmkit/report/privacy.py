"""Privacy for reports: customer names as full / initials / hidden, and no email or phone
unless the caller asks for them with `include_pii`.

Reports leave the workspace (chat, email, shared drives), so the safe choice is the default:
contact columns are dropped and any email- or phone-like text in a data string is masked.
"""

from __future__ import annotations

import re

import polars as pl

from crmkit.errors import ConfigError

NAME_MODES = ("full", "initials", "hidden")
CONTACT_COLUMNS = ("email", "phone", "email_raw", "phone_raw", "customer_email", "customer_phone")

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# A phone-like run: optional +, then 7+ digits allowing spaces, dots, dashes and brackets.
_PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_names(mode: str) -> str:
    """Validate `report.names`."""
    if mode not in NAME_MODES:
        raise ConfigError(
            f"report.names must be one of {', '.join(NAME_MODES)}, not {mode!r}",
            hint="set report: {names: initials} in crmkit.yaml",
        )
    return mode


def initials(name: str | None) -> str | None:
    """'Mary Ann Smith' → 'M. A. S.'; '张伟' → '张*' (a CJK name keeps its surname)."""
    if name is None or not name.strip():
        return None
    parts = name.split()
    if len(parts) == 1 and not parts[0].isascii():
        word = parts[0]
        return word[0] + "*" * (len(word) - 1)
    return " ".join(f"{p[0].upper()}." for p in parts)


def display_name(name: str | None, mode: str) -> str | None:
    """A customer name as the report shows it."""
    if mode == "full":
        return name
    if mode == "hidden":
        return None
    return initials(name)


def scrub(text: str | None) -> str | None:
    """Mask email- and phone-like substrings of a free-text value."""
    if text is None:
        return None
    text = _EMAIL.sub("***@***", text)
    return _PHONE.sub(_mask_phone, text)


def _mask_phone(match: re.Match[str]) -> str:
    found = match.group()
    if _DATE.fullmatch(found.strip()) or sum(c.isdigit() for c in found) < 7:
        return found  # a date or a short number, not a phone
    return "***"


def protect(df: pl.DataFrame, *, include_pii: bool, names: str) -> pl.DataFrame:
    """Apply the privacy rules to a customer frame: names by mode; contacts only with PII on."""
    out = df
    for col in ("full_name", "name", "customer_name"):
        if col in out.columns:
            out = out.with_columns(
                pl.col(col).map_elements(
                    lambda v: display_name(v, names), return_dtype=pl.String, skip_nulls=True
                )
            )
    if not include_pii:
        out = out.drop([c for c in CONTACT_COLUMNS if c in out.columns])
    return out
