"""The GeoGuess engine: model, cells, imaging, prediction and model store.

Nothing under this package imports Qt; the command line and the window both call it.
(Enforced by the import-linter contract in pyproject.toml and tests/test_architecture.py.)
"""
