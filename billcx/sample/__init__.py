"""Realistic synthetic billing exports for demos, tests and benchmarks (``billcx sample``)."""
