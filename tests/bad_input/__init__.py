"""Malformed inputs for ``tests/test_bad_input.py`` and ``benchmarks/bad_input_table.py``."""
