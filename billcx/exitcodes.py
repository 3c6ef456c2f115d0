"""Process exit codes: part of billcx's public API, declared once."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a billcx process tells its caller.

    OK: everything requested was done.
    DATA: input data was invalid (rows rejected beyond the allowed rate) or a threshold was exceeded;
        outputs and the report were still written.
    USAGE: bad arguments, configuration, mapping or policy; nothing was written.
    INTERNAL: a bug in billcx; rerun with --debug for the traceback and report it.
    INTERRUPTED: stopped by Ctrl-C / SIGINT; nothing half-written is left behind.
    """

    OK = 0
    DATA = 1
    USAGE = 2
    INTERNAL = 3
    INTERRUPTED = 130
