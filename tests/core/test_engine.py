"""The engine entry point and what a prediction keeps: the whole distribution, serialisable."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from geoguess_app.core.engine import ModelMissing, open_engine, predictor_while_loading
from geoguess_app.core.errors import ModelError
from geoguess_app.core.model.files import PARAMS_FILE
from geoguess_app.core.predict.results import Distribution, PhotoResult

HOPPER = "Pillow/Tests/images/hopper.jpg"
WITH_GPS = "exif-samples/heic/IMG_5195.HEIC"


def test_an_empty_folder_is_refused_at_once_with_how_to_install(tmp_path):
    with pytest.raises(ModelMissing) as caught:
        open_engine(tmp_path / "nowhere", "cpu")
    message = str(caught.value)
    assert str(tmp_path / "nowhere") in message
    assert "geoguess model download" in message and "geoguess model import FOLDER" in message


def test_a_damaged_model_fails_the_predictions_not_the_caller(tiny_model_dir, tmp_path, corpus_dir):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    data = (broken / PARAMS_FILE).read_bytes()
    (broken / PARAMS_FILE).write_bytes(data[: len(data) // 2])
    predictor = predictor_while_loading(open_engine(broken, "cpu"))
    with pytest.raises(ModelError, match="truncated"):
        list(predictor.predict_many([corpus_dir / HOPPER]))


def test_predicting_while_loading_gives_what_the_loaded_engine_gives(tiny_model_dir, corpus_dir):
    engine = open_engine(tiny_model_dir, "cpu").result()
    assert engine.info.untrained and engine.gpus == 0
    photos = [corpus_dir / HOPPER, corpus_dir / WITH_GPS]
    loaded = list(engine.predictor(top_k=3).predict_many(photos))
    early = list(predictor_while_loading(open_engine(tiny_model_dir, "cpu"), top_k=3).predict_many(photos))
    assert [r.as_dict() for r in loaded] == [r.as_dict() for r in early]


def test_each_result_keeps_the_whole_distribution(full_model, corpus_dir):
    from geoguess_app.core.predict.pipeline import Predictor

    result = Predictor(full_model, top_k=5).predict(corpus_dir / WITH_GPS)
    d = result.distribution
    assert d is not None and d.is_full and d.num_classes == len(full_model.grid) == 15527
    assert float(d.probabilities.sum()) == pytest.approx(1, abs=1e-4)
    # the guesses are the distribution's top five, in order
    top = d.top(5)
    assert [g.cls for g in result.predictions] == [int(c) for c in top.classes]
    assert [g.probability for g in result.predictions] == pytest.approx([float(p) for p in top.probabilities])


def test_a_top_k_slice_is_named_and_smaller(tiny_model, corpus_dir):
    from geoguess_app.core.predict.pipeline import Predictor

    full = Predictor(tiny_model).predict(corpus_dir / HOPPER)
    sliced = Predictor(tiny_model, keep=10).predict(corpus_dir / HOPPER)
    assert not sliced.distribution.is_full and len(sliced.distribution.classes) == 10
    assert sliced.distribution.num_classes == 48
    assert list(sliced.distribution.classes) == list(full.distribution.top(10).classes)
    assert [g.as_dict() for g in sliced.predictions] == [g.as_dict() for g in full.predictions]


def test_a_result_survives_json_and_back(tiny_model, corpus_dir):
    from geoguess_app.core.predict.pipeline import Predictor

    for photo in (HOPPER, WITH_GPS, "does-not-exist.jpg"):
        result = Predictor(tiny_model, top_k=5).predict(corpus_dir / photo)
        back = PhotoResult.from_dict(json.loads(json.dumps(result.to_dict())))
        assert back.as_dict() == result.as_dict()  # what the command line prints
        assert back.predictions == result.predictions  # every field, corners included
        assert (back.meta, back.size, back.error, back.model) == (result.meta, result.size, result.error, result.model)
        if result.ok:
            assert np.array_equal(back.distribution.probabilities, result.distribution.probabilities)
            assert np.array_equal(back.distribution.classes, result.distribution.classes)
        else:
            assert back.distribution is None and "not found" in back.error


def test_a_distribution_slice_survives_json_and_back():
    d = Distribution.full(np.array([0.1, 0.5, 0.15, 0.25], dtype=np.float32)).top(3)
    back = Distribution.from_dict(json.loads(json.dumps(d.to_dict())))
    assert list(back.classes) == [1, 3, 2] and back.num_classes == 4
    assert back.probabilities.tolist() == pytest.approx([0.5, 0.25, 0.15])
