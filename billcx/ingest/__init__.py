"""billcx ingest stage."""
