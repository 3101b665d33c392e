"""The prediction cache: a photo predicted once is not predicted again, and the cache can never
break a prediction (killed mid-write, damaged file)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from helpers import copy_photo

from geoguess_app.core.predict.cache import PredictionCache
from geoguess_app.core.predict.pipeline import Predictor

GEOGUESS = Path(sys.executable).parent / "geoguess"
PHOTOS = ["Pillow/Tests/images/hopper.jpg", "exif-samples/heic/IMG_5195.HEIC", "exiv2/test/data/exiv2-bug2565.jpg"]


class Counting:
    """A classifier that counts the photos it is asked about."""

    def __init__(self, model):
        self.model, self.photos = model, 0
        self.info, self.grid, self.batch_size = model.info, model.grid, model.batch_size

    def probabilities(self, batch):
        self.photos += len(batch)
        return self.model.probabilities(batch)


def _folder(corpus_dir, tmp_path) -> list[Path]:
    folder = tmp_path / "photos"
    folder.mkdir()
    return [copy_photo(corpus_dir / rel, folder / Path(rel).name) for rel in PHOTOS]


def test_a_photo_predicted_once_is_not_predicted_again(tiny_model, corpus_dir, tmp_path):
    photos = _folder(corpus_dir, tmp_path)
    cache = PredictionCache(tmp_path / "cache.sqlite3")
    first = Counting(tiny_model)
    fresh = list(Predictor(first, cache=cache).predict_many(photos))
    assert first.photos == 3
    again = Counting(tiny_model)
    cached = list(Predictor(again, cache=cache).predict_many(photos))
    assert again.photos == 0
    assert [r.as_dict(distribution=True) for r in cached] == [r.as_dict(distribution=True) for r in fresh]
    # a copy under another name is the same photo; a changed photo is not
    renamed = shutil.copy2(photos[0], tmp_path / "renamed.jpg")
    changed = photos[1].with_name("changed.heic")
    changed.write_bytes(photos[1].read_bytes() + b"\0")
    third = Counting(tiny_model)
    results = list(Predictor(third, cache=cache).predict_many([renamed, changed]))
    assert third.photos == 1 and results[0].path == str(renamed)
    assert results[0].as_dict() == {**fresh[0].as_dict(), "path": str(renamed)}
    assert cache.info().entries == 4
    # the window's batch dialog asks for thumbnails too: from the cache, only they are made from the file
    thumbs = Counting(tiny_model)
    shown = list(Predictor(thumbs, preview_size=96, cache=cache).predict_many(photos))
    assert thumbs.photos == 0 and all(r.preview is not None and max(r.preview.shape[:2]) <= 96 for r in shown)
    assert [r.as_dict() for r in shown] == [r.as_dict() for r in fresh]
    cache.close()


def test_a_cache_killed_while_writing_keeps_every_finished_entry(tmp_path):
    path = tmp_path / "cache.sqlite3"
    code = (
        "import sys, numpy as np\n"
        "from geoguess_app.core.predict.cache import PredictionCache\n"
        "from geoguess_app.core.predict.results import Distribution, PhotoResult\n"
        "cache = PredictionCache(sys.argv[1])\n"
        "r = PhotoResult('x.jpg', distribution=Distribution.full(np.full(15527, 1 / 15527, np.float32)))\n"
        "i = 0\n"
        "while True:\n"
        "    cache.put(f'{i:064d}', 'model', r)\n"
        "    i += 1\n"
        "    if i == 20: print('writing', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    cache = PredictionCache(path)
    entries = cache.info().entries
    assert entries >= 20
    for i in range(entries):  # every entry written is whole
        hit = cache.get(f"{i:064d}", "model", "y.jpg")
        assert hit is not None and len(hit.distribution.classes) == 512 and hit.path == "y.jpg"
    cache.close()


def test_a_damaged_cache_never_stops_a_prediction(tiny_model, corpus_dir, tmp_path, caplog):
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    photo = copy_photo(corpus_dir / PHOTOS[0], tmp_path / "hopper.jpg")
    with PredictionCache(path) as cache:
        result = Predictor(tiny_model, cache=cache).predict(photo)
    assert result.ok and result.predictions
    assert "prediction cache" in caplog.text


def test_cache_info_and_clear_and_no_cache(tiny_model_dir, corpus_dir, tmp_path):
    photos = _folder(corpus_dir, tmp_path)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "user-cache")}

    def run(*args):
        return subprocess.run([GEOGUESS, *map(str, args)], capture_output=True, text=True, env=env)

    fresh = run("predict", "--json", "--distribution", "--model-dir", tiny_model_dir, photos[0].parent)
    assert "3 prediction(s)" in run("cache", "info").stdout
    cached = run("predict", "--json", "--distribution", "--model-dir", tiny_model_dir, photos[0].parent)
    assert cached.stdout == fresh.stdout and cached.returncode == fresh.returncode == 0
    bypass = run("predict", "--json", "--no-cache", "--model-dir", tiny_model_dir, photos[0])
    assert json.loads(bypass.stdout)["path"] == str(photos[0])
    cleared = run("cache", "clear")
    assert "Removed 3 prediction(s)" in cleared.stdout and "0 prediction(s)" in run("cache", "info").stdout


def test_one_changed_byte_in_an_entry_is_said_once_and_predicted_again(tiny_model_dir, corpus_dir, tmp_path):
    """The tester's case: one digit of a stored class number changed in the cache file gave another
    continent with exit 0. Each entry carries a checksum checked on every read."""
    photo = copy_photo(corpus_dir / PHOTOS[0], tmp_path / "hopper.jpg")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "user-cache")}

    def predict():
        args = [GEOGUESS, "predict", "--json", "--distribution", "--model-dir", tiny_model_dir, photo]
        return subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)

    fresh = predict()
    assert fresh.returncode == 0, fresh.stderr
    database = tmp_path / "user-cache" / "GeoGuess" / "predictions.sqlite3"
    assert not database.with_name(database.name + "-wal").exists()  # all in the main file once the run ended
    data = bytearray(database.read_bytes())
    at = data.index(b'"classes": [') + len(b'"classes": [')
    while chr(data[at + 1]).isdigit():  # the last digit of the most likely class
        at += 1
    data[at] = ord("1") if data[at] == ord("0") else data[at] - 1
    database.write_bytes(bytes(data))

    again = predict()
    assert again.returncode == 0 and again.stdout == fresh.stdout  # predicted again, not the damaged answer
    assert again.stderr.count("damaged") == 1 and "hopper.jpg" in again.stderr
    assert "predicting it again" in again.stderr
    third = predict()
    assert third.stdout == fresh.stdout and "damaged" not in third.stderr  # the entry was stored anew
