"""The GeoGuess engine, in packages by concern: photos, geo, model (with its runtimes), predict,
geotag; ``engine`` is the one entry point the command line and the window call.

Nothing under this package imports Qt, and the packages import one way (the import-linter
contracts in pyproject.toml, checked by tests/test_architecture.py).
"""
