"""The ingest service: raw pages in over HTTP, onto `pages.raw` once the broker acknowledged them.

`create_app` builds the ASGI app from injected settings, publisher and metrics registry;
`serve` runs it under uvicorn with a Kafka publisher; `parse` holds the pure request parsing.
"""

from services.ingest.app import create_app
from services.ingest.errors import IngestError, Rejected, RejectReason
from services.ingest.settings import IngestSettings

__all__ = ["IngestError", "IngestSettings", "RejectReason", "Rejected", "create_app"]
