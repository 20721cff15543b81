"""Benchmark and measurement scripts: each prints a table and, last, one JSON line."""
