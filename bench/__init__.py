"""Benchmarks: ``python -m bench <name>`` runs ``bench/<name>_bench.py`` (see bench/README.md).

Not part of the test suite; each benchmark prepares its own PostgreSQL database and writes its
figures to docs/performance.md."""
