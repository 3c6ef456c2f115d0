"""Realistic synthetic billing exports for demos, tests and benchmarks (``billcx sample``).

    from billcx.sample import SampleSettings, generate, write_exports, messify, write_messy

    data = generate(SampleSettings(customers=300, seed=7))
    write_exports(data, "sample_data")                       # clean CSV, as a billing system exports
    write_messy(messify(data, seed=7), "sample_data/messy")  # the same with realistic defects

See docs/sample.md for what the data holds and every defect of the messy variant.
"""

from billcx.sample.defects import CATALOGUE, DefectKind
from billcx.sample.generator import SampleData, generate
from billcx.sample.messy import Defect, MessyExport, MessyFile, defect_markdown, messify, write_messy
from billcx.sample.population import ARCHETYPES
from billcx.sample.settings import SampleSettings
from billcx.sample.writer import ExportFormat, export_text, write_exports

__all__ = [
    "ARCHETYPES", "CATALOGUE", "Defect", "DefectKind", "ExportFormat", "MessyExport", "MessyFile",
    "SampleData", "SampleSettings", "defect_markdown", "export_text", "generate", "messify",
    "write_exports", "write_messy",
]
