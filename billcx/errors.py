"""Exceptions for expected failures. Each carries its exit code and a hint.

Library code raises these for I/O, usage and configuration problems only; invalid *data* is
returned as rejects (a table), never raised.  The CLI prints ``message`` and ``hint`` on one or
two lines and exits with ``exit_code``; it never prints locals (they may hold customer rows).
"""

from __future__ import annotations

from billcx.exitcodes import ExitCode


class BillcxError(Exception):
    """Base class for expected failures."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(BillcxError):
    """Arguments that cannot work: missing files, bad options, a bad date."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """A configuration, mapping, policy or template file is invalid."""


class InputError(BillcxError):
    """An input file cannot be used at all (unreadable, wrong shape, missing columns)."""

    exit_code = ExitCode.DATA


class StaleDataError(InputError):
    """Inputs are inconsistent in time (e.g. payments end long before invoices)."""
