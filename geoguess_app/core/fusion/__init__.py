"""Fusion: the best position for each photo of a set from all the evidence the set holds.

The model's distribution of each photo is one source; the offset from UTC in EXIF against each
cell's time zone, a region the person names, GPS positions of photos of the set and GPS tracks,
and the photos taken before and after it are the others. Every source is behind one interface
(evidence.Evidence) and can be switched off; fuse.fuse combines them with a hidden-Markov model
over each photo's candidate cells (hmm.py, travel.py) and says, per photo, where the answer came
from.
"""
