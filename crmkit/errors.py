"""One exception hierarchy for crmkit; the CLI maps each class to an exit code in one place."""

from __future__ import annotations


class CrmkitError(Exception):
    """Base error: a one-line message, an optional hint saying what to do, and an exit code."""

    exit_code: int = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(CrmkitError):
    """Wrong command-line arguments (unknown period, unknown table, missing file)."""


class ConfigError(CrmkitError):
    """The workspace configuration is invalid or incomplete."""


class InputFileError(CrmkitError):
    """A whole input file cannot be read or mapped (binary, undecodable, missing columns).

    `reason_code` is the stable code recorded in `rejects`; `path` names the file.
    """

    exit_code = 1

    def __init__(
        self, message: str, *, reason_code: str, path: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.reason_code = reason_code
        self.path = path


class DataError(CrmkitError):
    """The data cannot support what was asked (empty period, too few customers to fit a model)."""


class LockedError(CrmkitError):
    """Another crmkit run holds the workspace lock."""

    exit_code = 75


class StepFailedError(CrmkitError):
    """A pipeline step failed; outputs of earlier runs are left untouched."""

    exit_code = 1
