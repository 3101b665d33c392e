"""--precision fast: a reduced decode (and bfloat16 where the CPU has it), opt-in, said everywhere,
measured against exact once."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from helpers import STANDIN, copy_photo, run

from geoguess_app.core.engine import available_runtimes


@pytest.fixture
def fast_cpu():
    if "openvino" not in available_runtimes():
        pytest.skip("OpenVINO is not installed")


def test_fast_precision_is_said_and_measured_against_exact(fast_cpu, tiny_model_dir, corpus_dir, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for photo in sorted((corpus_dir / "exif-samples" / "jpg" / "gps").glob("DSCN00*.jpg"))[:5]:
        copy_photo(photo, folder / photo.name)
    exact = run("predict", "--json", "--model-dir", tiny_model_dir, folder)
    fast = run("predict", "--json", "--precision", "fast", "--model-dir", tiny_model_dir, folder)
    assert exact.returncode == fast.returncode == 0, fast.stderr
    exact_lines = [json.loads(x) for x in exact.stdout.splitlines()]
    fast_lines = [json.loads(x) for x in fast.stdout.splitlines()]
    assert {x["model"]["precision"] for x in exact_lines} == {"exact"}
    assert {x["model"]["precision"] for x in fast_lines} == {"fast"}  # never an exact answer from the cache
    said = [ln for ln in fast.stderr.splitlines() if "precision fast" in ln]
    assert len(said) == 1 and "reduced decode) agreed with exact on" in said[0] and "of 5 photos (top guess)" in said[0]
    assert all("reduced JPEG decode" in x["source_image"] for x in fast_lines)  # each answer says how it was read
    assert "UNTRAINED stand-in: this says nothing about LocationNet" in said[0]
    again = run("predict", "--precision", "fast", "--model-dir", tiny_model_dir, folder)
    assert said[0] in again.stderr  # remembered, not measured again
    assert re.search(r"Precision: fast \((bfloat16|float32) and a reduced decode", again.stdout)


def test_fast_precision_is_only_offered_where_it_exists(tiny_model_dir, corpus_dir):
    photo = corpus_dir / "exif-samples" / "jpg" / "gps" / "DSCN0010.jpg"
    out = run("predict", "--precision", "fast", "--runtime", "mxnet", "--model-dir", tiny_model_dir, photo)
    assert out.returncode == 2 and "offered by the openvino and onnxruntime runtimes, not by mxnet" in out.stderr


def test_fast_precision_is_written_into_the_provenance(fast_cpu, tiny_model_dir, corpus_dir, tmp_path, exiftool_cli):
    photo = copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", tmp_path / "d90.jpg")
    out = run(
        "tag",
        "--write",
        *STANDIN,
        "--precision",
        "fast",
        "--journal",
        tmp_path / "j.jsonl",
        "--model-dir",
        tiny_model_dir,
        photo,
    )
    assert out.returncode == 0, out.stderr
    tags = subprocess.run([exiftool_cli, "-j", "-XMP-geoguess:all", str(photo)], capture_output=True, text=True)
    assert json.loads(tags.stdout)[0]["Precision"] == "fast"
