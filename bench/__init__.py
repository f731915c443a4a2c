"""Measurements of the assistant that are not tests: ``python -m bench.run`` (latency, load, memory, start-up)."""
