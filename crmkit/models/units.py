"""Time units and durations for the CLV models ("26w", "12m", "180d", "1y")."""

from __future__ import annotations

import re

from crmkit.errors import UsageError

UNIT_DAYS: dict[str, float] = {"days": 1.0, "weeks": 7.0}
"""Length in days of each modelling time unit."""

DAYS_PER_MONTH = 365.25 / 12.0
"""A month is a twelfth of an average Gregorian year (30.4375 days)."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dwmy])\s*$", re.IGNORECASE)
_SUFFIX_DAYS = {"d": 1.0, "w": 7.0, "m": DAYS_PER_MONTH, "y": 365.25}


class DurationError(UsageError):
    """A duration or unit string could not be understood."""

    exit_code = 2


def unit_days(unit: str) -> float:
    """Days in one modelling unit; refuses units other than days and weeks."""
    try:
        return UNIT_DAYS[unit]
    except KeyError:
        raise DurationError(
            f"unknown time unit {unit!r}", hint="use --unit days or --unit weeks"
        ) from None


def parse_duration_days(text: str) -> float:
    """Parse '26w', '12m', '180d' or '1y' into days (months are 365.25/12 days)."""
    m = _DURATION.match(text)
    if m is None:
        raise DurationError(
            f"cannot read duration {text!r}",
            hint="write a number and a unit: 180d, 26w, 12m or 1y",
        )
    value = float(m.group(1))
    if value <= 0:
        raise DurationError(f"duration {text!r} must be positive", hint="for example 26w")
    return value * _SUFFIX_DAYS[m.group(2).lower()]
