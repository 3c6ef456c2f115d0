"""billcx render stage."""
