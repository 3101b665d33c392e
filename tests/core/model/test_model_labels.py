"""A model is called LocationNet only when its files are the published ones.

A folder whose files differ from the published md5 sums (and carries no untrained marker) is
UNVERIFIED wherever its answers appear: the command line's warning and lines, the JSON, the
provenance written into photos. The md5 check is remembered, so a load stays fast. A folder that
does not load is never imported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, copy_photo

from geoguess_app.core.engine import import_model, open_engine
from geoguess_app.core.errors import StoreError
from geoguess_app.core.model import store
from geoguess_app.core.model.files import GRIDS_FILE, MODEL_FILES, PARAMS_FILE, SYMBOL_FILE, UNTRAINED_MARKER

GEOGUESS = Path(sys.executable).parent / "geoguess"
HOPPER = "Pillow/Tests/images/hopper.jpg"


@pytest.fixture(scope="module")
def unverified_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """A model folder that claims to be the real thing: no untrained marker, files not published."""
    folder = tmp_path_factory.mktemp("unverified")
    for name in MODEL_FILES:
        shutil.copy(tiny_model_dir / name, folder)
    return folder


def run(*args, **kw):
    return subprocess.run([str(GEOGUESS), *map(str, args)], capture_output=True, text=True, timeout=300, **kw)


def test_an_unverified_model_says_so_in_every_answer(unverified_dir, corpus_dir, tmp_path, exiftool_cli):
    photo = corpus_dir / HOPPER
    human = run("predict", "--model-dir", unverified_dir, photo)
    assert human.returncode == 0
    assert human.stderr.count("UNVERIFIED") == 1 and "not the published ones" in human.stderr  # warned once
    assert "UNVERIFIED MODEL" in human.stdout
    as_json = run("predict", "--json", "--model-dir", unverified_dir, photo, photo)
    for line in as_json.stdout.splitlines():
        model = json.loads(line)["model"]
        assert model["verified"] is False and model["untrained"] is False and "UNVERIFIED" in model["name"]
    assert as_json.stderr.count("UNVERIFIED") == 1

    target = copy_photo(photo, tmp_path / "hopper.jpg")
    tagged = run(
        "tag", "--write", "--allow-unverified", "--min-probability", "0", "--journal", tmp_path / "j.jsonl",
        "--model-dir", unverified_dir, target,
    )  # fmt: skip
    assert tagged.returncode == 0 and tagged.stderr.count("UNVERIFIED") == 1
    config = ROOT / "resources" / "exiftool" / "geoguess.config"
    provenance = json.loads(
        subprocess.run(
            [exiftool_cli, "-config", str(config), "-j", "-XMP-geoguess:all", str(target)],
            capture_output=True,
            text=True,
        ).stdout
    )[0]
    assert provenance["Verified"] in (False, "False") and provenance["Untrained"] in (False, "False")
    assert "UNVERIFIED" in provenance["Model"]


def test_the_untrained_stand_in_is_untrained_and_not_verified(tiny_model):
    info = tiny_model.info
    assert info.untrained and not info.verified and "UNTRAINED" in info.name
    assert info.as_dict() == {
        "name": info.name,
        "untrained": True,
        "verified": False,
        "num_classes": info.num_classes,
        "precision": "exact",
        "arithmetic": "float32",  # exact: float32 on every device (TF32 off on a GPU)
        "runtime": info.runtime,
    }


def test_a_symbol_edited_from_relu_to_sigmoid_loads_but_is_unverified(full_model_dir, tmp_path):
    folder = tmp_path / "edited"
    folder.mkdir()
    os.link(full_model_dir / PARAMS_FILE, folder / PARAMS_FILE)  # 300 MB: linked, not copied
    shutil.copy(full_model_dir / GRIDS_FILE, folder)
    text = (full_model_dir / SYMBOL_FILE).read_text()
    assert '"relu"' in text
    (folder / SYMBOL_FILE).write_text(text.replace('"relu"', '"sigmoid"'))
    info = open_engine(folder, "cpu").result().info  # same shapes: it loads...
    assert not info.untrained and not info.verified  # ...but is not the published model
    assert "UNVERIFIED" in info.name and "not the published ones" in info.warning


def test_the_md5_check_is_remembered_until_a_file_changes(unverified_dir, tmp_path, monkeypatch):
    folder = tmp_path / "m"
    shutil.copytree(unverified_dir, folder)
    computed = []
    real = store.md5_of
    monkeypatch.setattr(store, "md5_of", lambda path, cancel=None: computed.append(path.name) or real(path, cancel))
    assert not store.files_verified(folder)
    assert computed == [SYMBOL_FILE]  # it differs: the 300 MB of weights need not be read
    computed.clear()
    assert not store.files_verified(folder)
    assert computed == []  # remembered
    with open(folder / SYMBOL_FILE, "a") as f:
        f.write(" ")
    store.files_verified(folder)
    assert computed == [SYMBOL_FILE]  # changed: checked again


def test_import_refuses_a_folder_that_does_not_load(tiny_model_dir, tmp_path):
    source = tmp_path / "broken-stand-in"
    shutil.copytree(tiny_model_dir, source)
    assert (source / UNTRAINED_MARKER).exists()
    data = (source / PARAMS_FILE).read_bytes()
    (source / PARAMS_FILE).write_bytes(data[: len(data) // 2])  # cut in half
    target = tmp_path / "store"
    with pytest.raises(StoreError, match="does not load, so it was not imported"):
        import_model(source, target)
    assert not target.exists()
