"""Exceptions the engine raises with a message meant for the person using GeoGuess."""


class GeoGuessError(Exception):
    """Base class: the message is complete and can be shown as it is."""


class ImageError(GeoGuessError):
    """A photo cannot be read (missing, corrupt, truncated, not an image, too large)."""


class ModelError(GeoGuessError):
    """The model folder is missing, incomplete, corrupt or does not match itself."""


class DeviceError(GeoGuessError):
    """The requested compute device is not available."""


class StoreError(GeoGuessError):
    """Downloading, importing or verifying a model failed."""


class WriteRefused(GeoGuessError):
    """A photo (or sidecar) was not written, and was left untouched, for the reason given."""


def reason_of(e: BaseException) -> str:
    """A library's exception as the end of a sentence: its first argument (bytes, as LibRaw gives
    them, decoded), without a final full stop, in lower case; else the exception's name."""
    text = e.args[0] if e.args else str(e)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).rstrip(".").lower() or type(e).__name__
