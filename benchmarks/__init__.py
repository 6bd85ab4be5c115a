"""Benchmark scripts; each prints the figures quoted in docs/benchmarks.md."""
