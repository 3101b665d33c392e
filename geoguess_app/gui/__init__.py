"""The GeoGuess window (PySide6). Only this package imports Qt; it calls the Qt-free core."""
