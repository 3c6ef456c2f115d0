"""billcx: turn billing exports into personalised, well-timed payment reminders.

The library is usable without the CLI; each stage has one public entry point returning a typed
result (re-exported here as the stages land).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
