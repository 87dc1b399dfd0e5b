"""What the unit and integration tests share, besides the fakes.

Builders of configs, catalogs, messages and records, a stub Port, and runners of the real
command lines. Tests import from here and from `integration_tests.fakes`, never from a
`conftest` module, a test module, or the other suite (`unit_tests/test_test_imports.py`).
"""
