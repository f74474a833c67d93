"""Benchmarks: run with `uv run python bench/<name>.py`; they print figures, never assert timings."""
