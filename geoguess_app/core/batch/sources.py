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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import GeoGuessError
from ..photos.decode import PHOTO_EXTENSIONS, list_photos


def is_uri(source: str) -> bool:
    """A URI of a remote file system (``file://`` counts as local)."""
    scheme, sep, _ = source.partition("://")
    return bool(sep) and scheme.isalnum() and scheme.lower() != "file"


def list_sources(sources: list[str], recursive: bool = True) -> list[str]:
    """Every photo the sources name, sorted, each once."""
    found: list[str] = []
    for source in sources:
        if is_uri(source):
            found.extend(_list_uri(source))
        elif source.lower().endswith(".txt") and Path(source).is_file():
            found.extend(_read_list(Path(source)))
        else:
            local = source[len("file://") :] if source.startswith("file://") else source
            if not os.path.exists(local):
                raise GeoGuessError(f"{source} does not exist")
            found.extend(str(p) for p in list_photos([local], recursive=recursive))
    return sorted(set(found))


def _read_list(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise GeoGuessError(f"cannot read the list {path}: {e}") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _list_uri(source: str) -> list[str]:
    import pyarrow.fs as pafs

    scheme = source.partition("://")[0]
    try:
        fs, root = pafs.FileSystem.from_uri(source)
        infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=False))
    except (OSError, ValueError) as e:
        raise GeoGuessError(f"cannot list {source}: {e}") from None
    return [
        f"{scheme}://{info.path}"
        for info in infos
        if info.type == pafs.FileType.File and Path(info.path).suffix.lower() in PHOTO_EXTENSIONS
    ]


@contextmanager
def local_copy(source: str) -> Iterator[tuple[str, str]]:
    """(a local path to decode, the SHA-256 of its bytes): the file itself, or a temporary copy of
    a remote one, removed afterwards. OSError when it cannot be read."""
    if not is_uri(source):
        path = source[len("file://") :] if source.startswith("file://") else source
        yield path, _sha256_file(path)
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


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
