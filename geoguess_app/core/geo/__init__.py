"""Geography: the S2 cells of the model's classes, distances, offline place names."""
