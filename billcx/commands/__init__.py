"""Thin CLI adapters, one module per command group. Each defines ``register(app)``."""
