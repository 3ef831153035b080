"""Errors raised by the CLV models: refusals the user can act on (exit code 2, with a hint)."""

from __future__ import annotations

from crmkit.errors import CrmkitError


class InsufficientDataError(CrmkitError):
    """The data are too thin to fit or trust a CLV model (too few customers, repeats or history)."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        Exception.__init__(self, message)
        self.exit_code = 2
        self.hint = hint


class ConvergenceError(CrmkitError):
    """The maximum-likelihood optimiser did not reach a usable optimum."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        Exception.__init__(self, message)
        self.exit_code = 2
        self.hint = hint
