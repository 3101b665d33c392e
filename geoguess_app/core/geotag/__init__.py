"""Geotagging: writing positions into photos or sidecars safely with ExifTool, the undo journal,
undo, batches and reports."""
