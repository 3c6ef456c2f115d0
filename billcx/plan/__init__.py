"""billcx plan stage."""
