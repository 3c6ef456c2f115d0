"""billcx ingest: billing exports in, the data contract's clean tables, rejects and a report out.

    from billcx.ingest import ingest, load_mapping, write_ingest
    result = ingest(["customers.csv", "invoices.csv"], mapping=load_mapping("mapping.toml"))
    write_ingest(result, "out/")

See docs/ingest.md for the mapping file, the reject codes and the line-number convention.
"""

from billcx.ingest.mapping import MappingSpec, load_mapping, mapping_from_dict
from billcx.ingest.pipeline import ingest
from billcx.ingest.report import FileReport, IngestReport, TableReport
from billcx.ingest.result import IngestResult, IngestSettings, write_ingest
from billcx.ingest.sources import SourceSpec

__all__ = [
    "FileReport",
    "IngestReport",
    "IngestResult",
    "IngestSettings",
    "MappingSpec",
    "SourceSpec",
    "TableReport",
    "ingest",
    "load_mapping",
    "mapping_from_dict",
    "write_ingest",
]
