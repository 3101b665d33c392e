"""Archives of many photos on a Ray cluster (or a local Ray on this machine): predict, fuse and
write in stages that each read and write Parquet, resumable at every stage.

- ``sources``: the photos to do, from folders, file lists and pyarrow file systems (S3-style URIs).
- ``store``: the Parquet rows and parts of each stage, written whole or not at all, and what a
  folder of parts already holds (so that a restarted job skips it).
- ``predict_job``: decode in CPU tasks, classify in a pool of actors (Ray Data), rows to parts.
- ``fuse_job``: fusion per folder or per camera sequence, in parallel tasks.
- ``write_job``: positions written on the machine that holds the photos, through the same writer,
  journal and undo as ``geoguess tag``.

Ray is optional (``pip install geoguess[cluster]``): only ``predict_job`` and ``fuse_job`` import
it, when they run.
"""
