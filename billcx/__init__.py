"""billcx: turn billing exports into personalised, well-timed payment reminders.

Every stage is a function with a typed result, in a subpackage named after the stage; the CLI is a
thin layer over them.  ``import billcx`` makes them all available (loaded on first use, so a
process that needs one stage does not pay for the others)::

    import datetime as dt
    import billcx

    ingested = billcx.ingest.ingest(["exports/customers.csv", "exports/invoices.csv",
                                     "exports/payments.csv"])
    billcx.ingest.write_ingest(ingested, "clean")
    data = billcx.CleanData.load("clean")
    seg = billcx.segment.segment(data, as_of=dt.date(2026, 10, 31))
    planned = billcx.plan.plan(data, seg.customers, as_of=dt.date(2026, 10, 31))
    bundle = billcx.render.render(planned.schedule, data)
    billcx.render.write_bundle(bundle, "bundle")

or all stages at once: ``billcx.run_pipeline(billcx.load_config("billcx.toml"))``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBPACKAGES = ("evaluate", "ingest", "plan", "render", "report", "sample", "segment")
_NAMES = {
    "CleanData": "billcx.store",
    "IngestResult": "billcx.ingest", "IngestSettings": "billcx.ingest",
    "SegmentResult": "billcx.segment", "SegmentSettings": "billcx.segment",
    "PlanResult": "billcx.plan", "Policy": "billcx.plan",
    "RenderResult": "billcx.render", "RenderSettings": "billcx.render",
    "SampleSettings": "billcx.sample",
    "ProjectConfig": "billcx.project", "load_config": "billcx.project",
    "RunResult": "billcx.pipeline", "run_pipeline": "billcx.pipeline",
}

__all__ = ["__version__", *_SUBPACKAGES, *sorted(_NAMES)]


def __getattr__(name: str) -> Any:
    """Load stage subpackages and re-exported names on first use (PEP 562)."""
    if name in _SUBPACKAGES:
        return importlib.import_module(f"billcx.{name}")
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'billcx' has no attribute {name!r}")
