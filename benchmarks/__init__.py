"""Benchmarks of pulumi-batchip against one-request-per-address resources (see run.py)."""
