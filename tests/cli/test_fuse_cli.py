"""``geoguess fuse``: reads predict --json --distribution, needs only grids.txt, one answer per line."""

from __future__ import annotations

import json

from helpers import run

from geoguess_app.core.fusion.geometry import GridGeometry
from geoguess_app.core.geo.cells import CellGrid

KEYS = ["path", "position", "radius_km", "probability", "source", "evidence", "single", "error", "untrained"]


def line(path, cls, time=None, offset=None, gps=None, p=0.4, second=6523):  # 6523: New York
    return json.dumps(
        {
            "path": path,
            "predictions": [],
            "exif_gps": gps,
            "taken": {"time": time, "offset": offset},
            "model": {"name": "LocationNet RN101-5k500", "untrained": False, "verified": True},
            "error": None,
            "distribution": [[cls, p], [second, p / 2]],
        }
    )


def test_fuse_reads_predictions_and_answers_every_line_in_order(reference_dir, tmp_path):
    geo = GridGeometry(CellGrid.from_file(reference_dir / "grids.txt"))
    paris, tokyo = int(geo.nearest(48.857, 2.35)[0]), int(geo.nearest(35.68, 139.76)[0])
    lines = [
        line("a.jpg", paris, "2023-05-01T10:00:00", "+02:00"),
        "this is not JSON",
        json.dumps({"path": "c.jpg", "distribution": [[99999, 0.5]]}),
        line("d.jpg", tokyo, "2023-05-01T10:05:00", "+02:00", p=0.2, second=paris),
        line("e.jpg", tokyo, "2023-05-01T10:06:00", None, gps={"lat": 48.86, "lon": 2.34, "predicted": False}),
        "",
    ]
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text("\n".join(lines) + "\n")
    out = run("fuse", predictions, "--model-dir", reference_dir, "--json")
    assert out.returncode == 1, out.stderr
    assert "2 of 5 line(s) could not be fused" in out.stderr
    answers = [json.loads(x) for x in out.stdout.splitlines()]
    assert [a["path"] for a in answers] == ["a.jpg", "line 2", "c.jpg", "d.jpg", "e.jpg"]
    assert all(list(a) == KEYS for a in answers)
    assert "not JSON" in answers[1]["error"] and "outside 0-15526" in answers[2]["error"]
    a, d, e = answers[0], answers[3], answers[4]
    assert e["source"] == "gps" and e["position"] == {"lat": 48.86, "lon": 2.34}
    # before the only GPS photo: placed at it, and never said to be between GPS photos
    assert d["source"] == "near_gps" and d["evidence"] == ["anchor e.jpg 1 min later"]
    assert d["single"]["lat"] == round(geo.lats[tokyo], 6) and d["single"]["probability"] == 0.2
    assert a["source"] == "near_gps" and a["radius_km"] < 5 and not a["untrained"]

    alone = run("fuse", predictions, "--model-dir", reference_dir, "--json", "--no-anchors", "--no-neighbours")
    d_alone = json.loads(alone.stdout.splitlines()[3])
    assert d_alone["source"] == "fused" and d_alone["evidence"] == ["time zone +02:00"]
    assert d_alone["position"]["lat"] == round(geo.lats[paris], 6)  # Paris has +02:00 in May, Tokyo has not

    readable = run("fuse", predictions, "--model-dir", reference_dir)
    assert "e.jpg: 48.86000, 2.34000  within 30 m  [measured]" in readable.stdout
    assert "line 2: error: line 2 is not JSON" in readable.stdout
    assert "[measured: a GPS photo close in time]  anchor e.jpg 1 min later" in readable.stdout
    assert "between GPS photos" not in readable.stdout


def test_fuse_says_what_is_wrong_with_its_options(reference_dir, tmp_path):
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("")
    out = run("fuse", predictions, "--model-dir", reference_dir)
    assert out.returncode == 2 and "holds no predictions" in out.stderr
    out = run("fuse", predictions, "--model-dir", reference_dir, "--region", "Atlantis")
    assert out.returncode == 2 and "'Atlantis' is not a country name or ISO code" in out.stderr
    out = run("fuse", tmp_path / "missing.jsonl", "--model-dir", reference_dir)
    assert out.returncode == 2 and "cannot read" in out.stderr
    out = run("fuse", predictions, "--model-dir", tmp_path)
    assert out.returncode == 2 and "grids.txt is missing" in out.stderr


def test_predict_then_fuse_on_corpus_photos(tiny_model_dir, corpus_dir, tmp_path):
    folder = corpus_dir / "exif-samples" / "jpg" / "gps"
    photos = sorted(folder.glob("DSCN00*.jpg"))[:4]
    out = run("predict", "--json", "--distribution", "--model-dir", tiny_model_dir, *photos)
    assert out.returncode == 0, out.stderr
    predictions = tmp_path / "p.jsonl"
    predictions.write_text(out.stdout)
    fused = run("fuse", predictions, "--model-dir", tiny_model_dir, "--json")
    assert "UNTRAINED" in fused.stderr
    answers = [json.loads(x) for x in fused.stdout.splitlines()]
    assert [a["path"] for a in answers] == [str(p) for p in photos]
    assert all(a["source"] == "gps" and not a["untrained"] for a in answers)  # these photos have GPS
    hidden = run("fuse", predictions, "--model-dir", tiny_model_dir, "--json", "--no-anchors")
    assert all(json.loads(x)["source"] == "fused" for x in hidden.stdout.splitlines())  # predicted, with neighbours


def test_fuse_answers_every_bad_line_with_what_is_wrong_and_goes_on(reference_dir, tmp_path):
    geo = GridGeometry(CellGrid.from_file(reference_dir / "grids.txt"))
    paris = int(geo.nearest(48.857, 2.35)[0])

    def with_distribution(path, pairs):
        return json.dumps({"path": path, "taken": {}, "error": None, "distribution": pairs})

    lines = [
        line("year1.jpg", paris, "0001-01-01T00:00:00", "+14:00"),
        line("year9999.jpg", paris, "9999-12-31T23:59:59", "-12:00"),
        "[" * 100_000 + "]" * 100_000,
        with_distribution("true.jpg", [[True, 0.5]]),
        with_distribution("float.jpg", [[12.7, 0.5]]),
        with_distribution("text.jpg", [[paris, "0.5"]]),
        with_distribution("zero.jpg", [[paris, 0.0], [6523, 0]]),
        line("offset.jpg", paris, "2023-05-01T10:00:00", "+99:99"),
        line("good.jpg", paris, "2023-05-01T10:00:00", "+02:00"),
    ]
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text("\n".join(lines) + "\n")
    out = run("fuse", predictions, "--model-dir", reference_dir, "--json", timeout=120)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert "8 of 9 line(s) could not be fused" in out.stderr
    errors = {a["path"]: a["error"] for a in map(json.loads, out.stdout.splitlines())}
    assert list(errors) == ["year1.jpg", "year9999.jpg", "line 3", "true.jpg", "float.jpg", "text.jpg", "zero.jpg",
                            "offset.jpg", "good.jpg"]  # fmt: skip
    assert (
        errors["year1.jpg"]
        == "line 1: its time 0001-01-01T00:00:00 at +14:00 cannot be put in UTC (before year 1 or after year 9999)"
    )
    assert errors["year9999.jpg"].startswith("line 2: its time 9999-12-31T23:59:59 at -12:00 cannot be put in UTC")
    assert errors["line 3"] == "line 3 cannot be read: its JSON is nested too deeply"
    assert errors["true.jpg"] == "line 4: 'distribution' class true is not a whole number"
    assert errors["float.jpg"] == "line 5: 'distribution' class 12.7 is not a whole number"
    assert errors["text.jpg"] == "line 6: 'distribution' probability \"0.5\" is not a number"
    assert errors["zero.jpg"] == "line 7: 'distribution' probabilities add up to 0"
    assert errors["offset.jpg"] == "line 8: 'taken' offset '+99:99' is not an offset from UTC (-14:00 to +14:00)"
    assert errors["good.jpg"] is None
    readable = run("fuse", predictions, "--model-dir", reference_dir, timeout=120)
    assert "line 3: error: line 3 cannot be read: its JSON is nested too deeply" in readable.stdout
    assert "good.jpg: 48." in readable.stdout
