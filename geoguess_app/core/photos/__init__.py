"""Photos: decoding any format GeoGuess reads, the EXIF it uses, a fingerprint of the image data."""
