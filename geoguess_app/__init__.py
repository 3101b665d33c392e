"""GeoGuess: guess where on Earth a photo was taken, with LocationNet."""

__version__ = "0.1.0"

#: The application's id: the name of its .desktop file, AppStream metainfo and icon on Linux.
APP_ID = "org.geoguess.GeoGuess"
