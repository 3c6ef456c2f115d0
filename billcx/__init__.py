"""billcx: turn billing exports into personalised, well-timed payment reminders.

Every stage is a function with a typed result, in a subpackage named after the stage; the CLI is a
thin layer over them.  ``import billcx`` makes them all available::

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

__version__ = "0.1.0"

# The stage subpackages, importable as attributes of `billcx` (billcx.ingest.ingest, ...).
from billcx import evaluate, ingest, plan, render, report, sample, segment  # noqa: E402
from billcx.ingest import IngestResult, IngestSettings  # noqa: E402
from billcx.pipeline import RunResult, run_pipeline  # noqa: E402
from billcx.plan import PlanResult, Policy  # noqa: E402
from billcx.project import ProjectConfig, load_config  # noqa: E402
from billcx.render import RenderResult, RenderSettings  # noqa: E402
from billcx.sample import SampleSettings  # noqa: E402
from billcx.segment import SegmentResult, SegmentSettings  # noqa: E402
from billcx.store import CleanData  # noqa: E402

__all__ = [
    "CleanData", "IngestResult", "IngestSettings", "PlanResult", "Policy", "ProjectConfig", "RenderResult",
    "RenderSettings", "RunResult", "SampleSettings", "SegmentResult", "SegmentSettings", "__version__",
    "evaluate", "ingest", "load_config", "plan", "render", "report", "run_pipeline", "sample", "segment",
]
