"""Errors raised by the CLV models: refusals the user can act on (exit code 2, with a hint)."""

from __future__ import annotations

from crmkit.errors import CrmkitError, DataError, UsageError


class InsufficientDataError(DataError):
    """The data are too thin to fit or trust a CLV model (too few customers, repeats or history)."""

    exit_code = 2


class ConvergenceError(CrmkitError):
    """The maximum-likelihood optimiser did not reach a usable optimum."""

    exit_code = 2


class UnknownModelError(UsageError):
    """A model name or setting that crmkit does not provide (wrong --model, --discount...)."""

    exit_code = 2
