"""The photos of a batch job: folders, files, lists of photos, and URIs of any file system pyarrow
reads (``s3://bucket/prefix``, ``gs://...``, ``hdfs://...``, where the cluster can reach them).

A ``.txt`` file is a list: one photo path or URI per line; blank lines and lines starting with #
are skipped. Local folders are listed as everywhere in GeoGuess (``list_photos``: photo
extensions, hidden files skipped); a URI prefix is listed recursively, with the same extensions.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import GeoGuessError
from ..photos.decode import PHOTO_EXTENSIONS, list_photos
from ..predict.cache import photo_key


def is_uri(source: str) -> bool:
    """A URI of a remote file system (``file://`` counts as local)."""
    scheme, sep, _ = source.partition("://")
    return bool(sep) and scheme.isalnum() and scheme.lower() != "file"


def list_sources(sources: list[str], recursive: bool = True) -> list[str]:
    """Every photo the sources name, sorted, each once: local ones as absolute paths (the same
    photo has one name whatever the current folder, on every node), remote ones as URIs."""
    found: list[str] = []
    for source in sources:
        if is_uri(source):
            found.extend(_list_uri(source))
        elif source.lower().endswith(".txt") and Path(source).is_file():
            found.extend(line if is_uri(line) else _local(line) for line in _read_list(Path(source)))
        else:
            local = _local(source)
            if not os.path.exists(local):
                raise GeoGuessError(f"{source} does not exist")
            found.extend(str(p) for p in list_photos([local], recursive=recursive))
    return sorted(set(found))


def _local(source: str) -> str:
    return os.path.abspath(source[len("file://") :] if source.startswith("file://") else source)


def _read_list(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise GeoGuessError(f"cannot read the list {path}: {e}") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _list_uri(source: str) -> list[str]:
    """The photos under a URI (or the URI itself when it names a file), as URIs that keep its
    host and query (``hdfs://namenode/...``, ``s3://bucket/...?endpoint_override=...``)."""
    import pyarrow.fs as pafs

    parts = urllib.parse.urlsplit(source)
    try:
        fs, root = pafs.FileSystem.from_uri(source)
        if fs.get_file_info(root).type == pafs.FileType.File:
            return [source]
        infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=False))
    except (OSError, ValueError) as e:  # (pyarrow's errors are both)
        raise GeoGuessError(f"cannot list {source}: {e}") from None
    bucket_in_path = parts.scheme in ("s3", "gs", "gcs")  # pyarrow's path there starts with the bucket
    query = f"?{parts.query}" if parts.query else ""
    return [
        f"{parts.scheme}://{info.path if bucket_in_path else parts.netloc + '/' + info.path.lstrip('/')}{query}"
        for info in infos
        if info.type == pafs.FileType.File and Path(info.path).suffix.lower() in PHOTO_EXTENSIONS
    ]


@contextmanager
def local_copy(source: str) -> Iterator[tuple[str, str]]:
    """(a local path to decode, the SHA-256 of its bytes): the file itself, or a temporary copy of
    a remote one, removed afterwards. OSError when it cannot be read."""
    if not is_uri(source):
        path = source[len("file://") :] if source.startswith("file://") else source
        yield path, photo_key(path)  # the prediction cache's key: SHA-256 of the bytes
        return
    import pyarrow.fs as pafs

    fs, remote = pafs.FileSystem.from_uri(source)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(suffix=Path(remote).suffix, prefix="geoguess-batch-")
    try:
        with os.fdopen(fd, "wb") as out, fs.open_input_stream(remote) as stream:
            while block := stream.read(1 << 20):
                digest.update(block)
                out.write(block)
        yield tmp, digest.hexdigest()
    finally:
        os.unlink(tmp)
