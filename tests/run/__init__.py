"""Tests of billcx run."""
