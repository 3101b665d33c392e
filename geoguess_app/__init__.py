"""GeoGuess: guess where on Earth a photo was taken, with LocationNet."""

__version__ = "0.1.0"
