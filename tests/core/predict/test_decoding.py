"""Decoding on every core: results in order, a memory bound, cancellation, failures kept per photo,
and the fast (reduced) decode labelled and kept apart from the exact recipe's."""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from geoguess_app.core.photos.decode import open_photo
from geoguess_app.core.predict.decoding import (
    MAX_BUDGET,
    MIN_BUDGET,
    THREADS_SCALE_TO,
    UNKNOWN_COST,
    DecodePlan,
    OrderedDecoder,
    decode_cost,
    decode_plan,
)
from geoguess_app.core.predict.pipeline import Predictor, decode


def _jpeg(path: Path, size: tuple[int, int], colour=(90, 140, 200)) -> Path:
    Image.new("RGB", size, colour).save(path, quality=90)
    return path


def _drain(decoder: OrderedDecoder) -> list:
    out = []
    try:
        while not decoder.exhausted():
            out.append(decoder.take())
    finally:
        decoder.close()
    return out


def test_results_come_in_the_order_of_the_photos_whatever_order_they_finish_in():
    names = [f"photo{i}.jpg" for i in range(40)]
    delays = {n: random.Random(n).uniform(0, 0.02) for n in names}

    def task(path: str) -> str:
        time.sleep(delays[path])
        return path.upper()

    plan = DecodePlan(workers=4, processes=False, budget=MAX_BUDGET)
    out = _drain(OrderedDecoder(plan, task, names, lambda p, e: "failed", ahead=8))
    assert out == [n.upper() for n in names]


def test_the_photos_decoded_at_once_stay_within_the_memory_budget(tmp_path):
    # 1500 x 1500 photos: 9 MB of pixels each, estimated at 16 MiB; a 5000 x 5000 one: 100 MB, more than
    # the whole budget, still decoded (alone)
    small = [_jpeg(tmp_path / f"s{i}.jpg", (1500, 1500)) for i in range(8)]
    large = _jpeg(tmp_path / "large.jpg", (5000, 5000))
    paths = [*small[:4], large, *small[4:]]
    budget = 40 << 20
    lock, running, seen = threading.Lock(), [], []

    def task(path: str) -> str:
        with lock:
            running.append(path)
            seen.append(list(running))
        time.sleep(0.02)
        with lock:
            running.remove(path)
        return path

    plan = DecodePlan(workers=4, processes=False, budget=budget)
    decoder = OrderedDecoder(plan, task, paths, lambda p, e: "failed", ahead=16)
    out = _drain(decoder)
    assert out == [str(p) for p in paths]
    assert max(len(at_once) for at_once in seen) == 2  # 4 workers, but two 16 MiB estimates fill 40 MiB
    assert [str(large)] in seen and all(len(s) == 1 for s in seen if str(large) in s)
    assert decode_cost(large) == 5000 * 5000 * 4 and decode_cost(small[0]) == UNKNOWN_COST


def test_closing_cancels_the_photos_not_started():
    started = []

    def task(path: str) -> str:
        started.append(path)
        time.sleep(0.05)
        return path

    plan = DecodePlan(workers=2, processes=False, budget=MAX_BUDGET)
    decoder = OrderedDecoder(plan, task, (f"p{i}.jpg" for i in range(1000)), lambda p, e: "failed", ahead=6)
    assert decoder.take() == "p0.jpg"
    decoder.close()
    time.sleep(0.1)
    assert len(started) <= 8  # the few queued ahead (6 + 1 taken + 1 looked at), never the thousand


def test_a_failing_task_is_that_photo_s_result_and_the_others_go_on():
    def task(path: str) -> str:
        if path == "bad.jpg":
            raise RuntimeError("decoder crashed")
        return path

    errors = []
    plan = DecodePlan(workers=2, processes=False, budget=MAX_BUDGET)
    out = _drain(
        OrderedDecoder(plan, task, ["a.jpg", "bad.jpg", "c.jpg"], lambda p, e: errors.append((p, e)) or "failed", 4)
    )
    assert out == ["a.jpg", "failed", "c.jpg"]
    assert errors[0][0] == "bad.jpg" and "decoder crashed" in str(errors[0][1])


def _die_on_poison(path: str) -> str:
    if path.endswith("poison"):
        os._exit(3)  # a native decoder crashing takes its whole process down
    time.sleep(0.2)
    return path


NO_PROCESSES = pytest.mark.skipif(
    sys.platform == "win32", reason="decoding processes are not used on Windows (they hung under Wine)"
)


@NO_PROCESSES
def test_a_decoding_process_that_dies_costs_a_reason_and_the_pool_is_replaced():
    plan = DecodePlan(workers=5, processes=True, budget=MAX_BUDGET)
    paths = ["a", "poison", *[f"n{i}" for i in range(6)]]
    out = _drain(OrderedDecoder(plan, _die_on_poison, paths, lambda p, e: f"failed {p}", ahead=4))
    # only the photo that ends its process fails: those decoded beside it are tried once more
    assert out == ["a", "failed poison", *paths[2:]]


def test_the_plan_uses_every_core_threads_as_far_as_they_scale_then_processes():
    assert decode_plan(workers=2) == DecodePlan(2, False, decode_plan(workers=2).budget)
    assert decode_plan(workers=THREADS_SCALE_TO + 1).processes == (sys.platform != "win32")
    assert MIN_BUDGET <= decode_plan().budget <= MAX_BUDGET
    assert decode_plan().workers >= 1 and not decode_plan().reduced
    assert "2 threads" in decode_plan(workers=2).describe()


def test_the_reduced_decode_is_labelled_and_the_exact_one_stays_the_recipe_s(tmp_path):
    photo = _jpeg(tmp_path / "big.jpg", (4032, 3024))
    exact, reduced = open_photo(photo), open_photo(photo, reduced=True)
    assert exact.size == (4032, 3024) and exact.source == ""
    assert reduced.size == (504, 378) and reduced.full_size == (4032, 3024)  # 1/8: both sides still >= 224
    assert "reduced JPEG decode 1/8" in reduced.source and "fast precision" in reduced.source
    result, tensor = decode(photo, reduced=True)
    assert result.size == (4032, 3024) and "reduced" in result.source_image
    exact_result, exact_tensor = decode(photo)
    assert exact_result.source_image == "" and tensor is not None and exact_tensor is not None
    assert tensor.shape == exact_tensor.shape
    small = _jpeg(tmp_path / "small.jpg", (400, 300))  # too small to reduce: decoded as it is, unlabelled
    assert open_photo(small, reduced=True).source == ""
    assert decode_cost(photo, reduced=True) == UNKNOWN_COST < decode_cost(photo)


@NO_PROCESSES
@pytest.mark.shared
def test_decoding_processes_give_the_same_answers_as_one_thread(tiny_model, corpus_dir):
    photos = sorted((corpus_dir / "Pillow/Tests/images").glob("*.jpg"))[:6]
    photos.append(corpus_dir / "missing.jpg")
    one = list(Predictor(tiny_model, decoding=decode_plan(workers=1)).predict_many(photos))
    many = list(Predictor(tiny_model, decoding=DecodePlan(5, True, MAX_BUDGET)).predict_many(photos))
    assert [r.path for r in many] == [str(p) for p in photos]
    assert [r.error for r in many] == [r.error for r in one] and many[-1].error
    for a, b in zip(one, many):
        if a.ok:
            assert np.array_equal(a.distribution.probabilities, b.distribution.probabilities)
            assert a.meta == b.meta and a.size == b.size
