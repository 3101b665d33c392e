"""Every file of the corpus, and hand-made bad files, give a result or a clear per-file error."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib

import numpy as np
import pytest
from helpers import finishes_or_unblock
from PIL import Image

from geoguess_app.core.predict.pipeline import Predictor, decode

BROKEN_TAGS = {"truncated", "fuzzed", "poc", "no_eoi", "malformed_suite", "bad_ifd"}


def _sha1(path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_every_corpus_file_gives_a_tensor_or_a_clear_error(corpus_dir, manifest):
    outcomes = {"ok": 0, "error": 0}
    errors_for_unreadable = []
    for row in manifest:
        path = corpus_dir / row["path"]
        prepared, tensor = decode(path)  # must never raise
        if prepared.error is None:
            assert tensor.shape == (3, 224, 224), row["path"]
            assert np.all(np.isfinite(tensor)), row["path"]
            outcomes["ok"] += 1
        else:
            assert tensor is None
            message = prepared.error
            assert message and len(message) < 200 and "Traceback" not in message, (row["path"], message)
            outcomes["error"] += 1
            if row["pil_load"] != "ok":
                errors_for_unreadable.append(row["path"])
        assert _sha1(path) == row["sha1"], f"{row['path']} was changed by reading it"
    unreadable = [r for r in manifest if r["pil_load"] != "ok"]
    # Files Pillow could not decode when the corpus was made (truncated, fuzzed, unknown formats)
    # all get an error, and a good share of the corpus is readable.
    assert len(errors_for_unreadable) >= len(unreadable) - 5
    assert outcomes["ok"] > 500 and outcomes["error"] > 150


def test_truncated_corpus_files_say_truncated_or_damaged(corpus_dir, manifest):
    rows = [r for r in manifest if "truncated" in r["tags"].split(",") and r["pil_load"] != "ok"]
    assert rows
    for row in rows:
        error = decode(corpus_dir / row["path"])[0].error
        assert error and any(w in error for w in ("truncated", "damaged", "not an image")), (row["path"], error)


@pytest.mark.slow
def test_a_batch_goes_on_past_broken_files(tiny_model, corpus_dir, manifest):
    broken = [corpus_dir / r["path"] for r in manifest if r["pil_load"] != "ok"][:10]
    good = corpus_dir / "Pillow/Tests/images/hopper.jpg"
    paths = [good, *broken, good]
    results = list(Predictor(tiny_model).predict_many(paths))
    assert [r.path for r in results] == [str(p) for p in paths]
    assert results[0].ok and results[-1].ok and len(results[-1].predictions) == 5
    assert all(not r.ok and r.error for r in results[1:-1])


def test_zero_byte_file(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert decode(tmp_path / "empty.jpg")[0].error == "empty file (0 bytes)"


def test_text_file_named_jpg(tmp_path):
    (tmp_path / "notes.jpg").write_text("this is not a photo\n" * 20)
    assert "not an image" in decode(tmp_path / "notes.jpg")[0].error


def test_missing_file_and_folder(tmp_path):
    assert decode(tmp_path / "nope.jpg")[0].error == "file not found"
    assert decode(tmp_path)[0].error == "is a folder, not a photo"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.jpg"
    path.write_bytes(b"\xff\xd8\xff" + b"\0" * 100)
    path.chmod(0)
    assert decode(path)[0].error == "permission denied"


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(30000, 30000))  # 900 megapixels claimed in 65 bytes
    error = decode(path)[0].error
    assert "too large" in error and "megapixels" in error


def test_truncated_jpeg_made_from_a_good_one(tmp_path, corpus_dir):
    data = (corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg").read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    assert decode(path)[0].error == "file is truncated (the image data ends early)"


def _jpeg_declaring(width: int, height: int, progressive: bool = False) -> bytes:
    """A 100 x 100 JPEG whose frame header says ``width`` x ``height``: the data of 100 x 100 pixels,
    then its end marker."""
    buffer = io.BytesIO()
    Image.new("RGB", (100, 100), (10, 200, 30)).save(buffer, "JPEG", progressive=progressive)
    data = bytearray(buffer.getvalue())
    sof = data.find(b"\xff\xc2" if progressive else b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_a_jpeg_declaring_more_pixels_than_its_data_holds_is_truncated(tmp_path, progressive):
    """libjpeg meets the end marker long before the last row, pads the rest with grey and only
    warns (Pillow never sees it): 14000 x 14000 pixels from 100 x 100 of data was predicted."""
    path = tmp_path / "big.jpg"
    path.write_bytes(_jpeg_declaring(14000, 14000, progressive))
    error = decode(path)[0].error
    assert error and error.startswith("file is truncated (the image data ends early)"), error
    assert "14000 x 14000" in error
    path.write_bytes(_jpeg_declaring(100, 100, progressive))  # the same file, as it was made: fine
    assert decode(path)[0].error is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="this system has no FIFOs (os.mkfifo)")
def test_a_fifo_or_a_device_named_like_a_photo_is_not_waited_on(tmp_path):
    """Opening a FIFO for reading waits for a writer: it must never be opened as a photo."""
    import threading

    os.mkfifo(tmp_path / "b.jpg")
    targets = {tmp_path / "b.jpg": "not a regular file: a FIFO (named pipe)"}
    if os.path.exists("/dev/zero"):
        (tmp_path / "c.jpg").symlink_to("/dev/zero")
        targets[tmp_path / "c.jpg"] = "not a regular file: a character device"
    for path, reason in targets.items():
        errors = []
        reader = threading.Thread(target=lambda p=path, out=errors: out.append(decode(p)[0].error), daemon=True)
        reader.start()
        reader.join(timeout=30)
        if reader.is_alive():  # let the stuck thread go: a writer opens the FIFO, and closes it
            if path.name == "b.jpg":
                with open(path, "wb"):
                    pass
            pytest.fail(f"{path.name}: decoding waits forever")
        assert errors == [reason]


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not hasattr(os, "O_NONBLOCK"), reason="no FIFOs or O_NONBLOCK here")
def test_a_fifo_swapped_in_after_the_check_is_not_waited_on(tmp_path, monkeypatch):
    """A photo replaced by a FIFO between the look at it and the open: the open does not wait (no
    writer needed) and what was opened is looked at again."""
    from geoguess_app.core.photos import regular_files

    os.mkfifo(tmp_path / "b.jpg")
    monkeypatch.setattr(regular_files, "check_regular", lambda path: None)  # the look saw a regular file
    said = []

    def open_it():
        try:
            regular_files.open_regular(tmp_path / "b.jpg").close()
        except OSError as e:
            said.append(str(e))

    finishes_or_unblock(open_it, tmp_path / "b.jpg", 30, "opening a FIFO waits for a writer")
    assert said == ["not a regular file: a FIFO (named pipe)"]
