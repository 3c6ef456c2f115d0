"""billcx segment stage."""
