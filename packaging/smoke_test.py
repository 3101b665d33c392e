"""Smoke test of a built GeoGuess folder (dist/GeoGuess), run by packaging/build.sh.

It runs the built programs as a user would, in a bare environment (a temporary home, no Python
paths, no display), never the source tree:

1. `geoguess --version`;
2. `geoguess model synth --tiny` writes an untrained stand-in model (random weights over real
   LocationNet cells), unless --model-dir gives a model;
3. `geoguess predict --json` on a generated photo that carries a camera name and a GPS position:
   five guesses, marked untrained;
4. `geoguess-app PHOTO --screenshot`: the window opens headless, predicts the photo and shows it
   on the map; the JSON line it prints must show five rows, five guesses and the photo's own GPS
   position on the map, the untrained marking and the window icon, and the screenshot must exist;
5. when ExifTool is installed: `geoguess tag --write` on a copy without GPS, then the position is
   read back from the file.

Exit status 0 when all pass; otherwise 1, with what failed. Prints the time from launching
`geoguess-app` to the first prediction shown (photo, rows and map markers).

    python packaging/smoke_test.py dist/GeoGuess [--source DIR] [--model-dir DIR] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GEOGUESS_SHARED", ROOT.parent / "shared"))
PHOTO_GPS = (64.1466, -21.9426)  # the generated photo's own position (Reykjavik)


class SmokeFailure(Exception):
    pass


def bare_environment(home: Path) -> dict[str, str]:
    """What a desktop session would give the program, minus a display: no Python settings."""
    env = {
        "HOME": str(home),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_RUNTIME_DIR": str(home / "runtime"),
    }
    (home / "runtime").mkdir(parents=True, exist_ok=True, mode=0o700)
    for key in ("QTWEBENGINE_CHROMIUM_FLAGS", "TMPDIR"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def run(cmd: list[str], env: dict, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SmokeFailure(f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stderr[-3000:]}")
    return done


def make_photo(path: Path, with_gps: bool) -> None:
    """A 3-megapixel photo-like JPEG (sky, hills, sun, grain) with a camera name and a GPS position."""
    import numpy as np
    from PIL import Image

    h, w = 1500, 2000
    rng = np.random.default_rng(7)
    y = np.linspace(0, 1, h)[:, None]
    x = np.linspace(0, 1, w)[None, :]
    x, y = np.broadcast_arrays(x, y)
    sky = np.stack([120 + 80 * y, 170 + 60 * y, 235 - 20 * y], -1)
    ridge = 0.55 + 0.08 * np.sin(9 * x) + 0.04 * np.sin(23 * x + 1)
    ground = np.stack([70 + 60 * x, 110 + 40 * y, 50 + 10 * x], -1)
    img = np.where((y > ridge)[..., None], ground, sky)
    sun = (x - 0.75) ** 2 * (w / h) ** 2 + (y - 0.22) ** 2 < 0.004
    img[sun] = (255, 240, 200)
    img = np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "GeoGuess", "Smoke Test Camera"  # Make, Model
    exif.get_ifd(0x8769)[0x9003] = "2026:11:22 12:00:00"  # DateTimeOriginal
    if with_gps:
        gps = exif.get_ifd(0x8825)
        lat, lon = PHOTO_GPS
        gps.update(
            {
                0: b"\x02\x03\x00\x00",
                1: "N" if lat >= 0 else "S",
                2: _dms(lat),
                3: "E" if lon >= 0 else "W",
                4: _dms(lon),
            }
        )
    Image.fromarray(img).save(path, quality=90, exif=exif)


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees, minutes = int(value), int(value * 60) % 60
    return float(degrees), float(minutes), round(value * 3600 - degrees * 3600 - minutes * 60, 4)


def check_mode(app: Path, photo: Path, model: Path, shot: Path, env: dict, cwd: Path) -> tuple[dict, float]:
    """Run `geoguess-app PHOTO --screenshot SHOT`: what it reports, and the seconds from launch to
    the first prediction shown."""
    launched = time.time()
    done = run(
        [
            str(app),
            str(photo),
            "--model-dir",
            str(model),
            "--offline-map",
            "--screenshot",
            str(shot),
            "--timeout",
            "240",
        ],
        env,
        cwd,
        timeout=300,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SmokeFailure(f"geoguess-app printed no result:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    record = json.loads(lines[-1])
    return record, record["shown_unix"] - launched


def check_window(app: Path, photo: Path, model: Path, shot: Path, env: dict, cwd: Path) -> float:
    record, seconds = check_mode(app, photo, model, shot, env, cwd)
    kinds = [marker["kind"] for marker in record["markers"]]
    problems = []
    if record["model"]["untrained"] is not True or "UNTRAINED" not in record["model"]["name"]:
        problems.append(f"the model is not marked untrained: {record['model']}")
    if len(record["rows"]) != 5 or kinds.count("guess") != 5:
        problems.append(f"expected 5 rows and 5 guesses on the map, got {len(record['rows'])} and {kinds}")
    if record["photo"]["exif_gps"] is None or "exif" not in kinds:
        problems.append("the photo's own GPS position is not on the map")
    if record["photo"]["camera"] != "GeoGuess Smoke Test Camera":
        problems.append(f"camera read as {record['photo']['camera']!r}")
    if not record.get("window_icon"):
        problems.append("the window has no icon (resources/icons or Qt's SVG plugin missing)")
    if not shot.is_file() or shot.stat().st_size < 20_000:
        problems.append(f"no screenshot at {shot}")
    if problems:
        raise SmokeFailure("geoguess-app check mode: " + "; ".join(problems))
    return seconds


def check_tagging(cli: Path, photo: Path, model: Path, env: dict, cwd: Path) -> str:
    exiftool = shutil.which("exiftool", path=env["PATH"])
    if exiftool is None:
        return "skipped (ExifTool is not installed)"
    run(
        [
            str(cli),
            "tag",
            str(photo),
            "--write",
            "--allow-untrained",  # the smoke test's model is the stand-in: write its guess anyway
            "--min-probability",
            "0",
            "--model-dir",
            str(model),
            "--no-progress",
            "--journal",
            str(cwd / "journal.jsonl"),
        ],
        env,
        cwd,
    )
    done = run([exiftool, "-n", "-j", "-GPSLatitude", "-GPSLongitude", "-XMP-geoguess:Untrained", str(photo)], env, cwd)
    tags = json.loads(done.stdout)[0]
    if "GPSLatitude" not in tags or str(tags.get("Untrained")).lower() != "true":
        raise SmokeFailure(f"geoguess tag --write did not write the position and provenance: {tags}")
    return f"wrote {tags['GPSLatitude']:.4f}, {tags['GPSLongitude']:.4f} (provenance: untrained)"


def check_raw_and_video(cli: Path, model: Path, samples: Path, env: dict, cwd: Path) -> str:
    """The packaged app reads a camera RAW file (rawpy) and a video (PyAV): both predicted."""
    raw, video = samples / "raw" / "RAW_KODAK_DC50.KDC", samples / "video" / "sample_640x360.mov"
    for needed in (raw, video):
        if not needed.is_file():
            raise SmokeFailure(f"{needed} is missing: give --samples (the RAW and video test samples)")
    out = run(
        [str(cli), "predict", str(raw), str(video), "--model-dir", str(model), "--json", "--no-progress"], env, cwd
    )
    got = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    kinds = {r.get("kind"): r for r in got}
    if set(kinds) != {"raw", "video"} or any(r["error"] or not r["predictions"] for r in got):
        raise SmokeFailure(f"geoguess predict did not read the RAW file and the video: {out.stdout[:500]}")
    return f"{kinds['raw']['source_image']}; {kinds['video']['source_image']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dist", type=Path, help="the built folder (dist/GeoGuess)")
    parser.add_argument(
        "--source",
        type=Path,
        default=SHARED / "locationnet",
        help="folder with the published grids.txt, for the untrained stand-in",
    )
    parser.add_argument("--model-dir", type=Path, help="use this model instead of a tiny stand-in")
    parser.add_argument(
        "--samples", type=Path, default=SHARED / "raw-video-samples", help="folder with the RAW and video samples"
    )
    parser.add_argument("--keep", type=Path, help="copy the screenshot into this folder")
    args = parser.parse_args(argv)
    app, cli = args.dist.resolve() / "geoguess-app", args.dist.resolve() / "geoguess"
    work = Path(tempfile.mkdtemp(prefix="geoguess-smoke-"))
    env = bare_environment(work / "home")
    try:
        for program in (app, cli):
            if not os.access(program, os.X_OK):
                raise SmokeFailure(f"{program} is missing or not executable")
        version = run([str(cli), "--version"], env, work).stdout.strip()
        model = args.model_dir
        if model is None:
            if not (args.source / "grids.txt").is_file():
                raise SmokeFailure(f"no grids.txt in {args.source}: give --source (the published LocationNet files)")
            model = work / "model"
            run([str(cli), "model", "synth", str(model), "--tiny", "--source", str(args.source)], env, work)
        photo, plain = work / "smoke photo.jpg", work / "no gps.jpg"
        make_photo(photo, with_gps=True)
        make_photo(plain, with_gps=False)
        lines = run(
            [str(cli), "predict", str(photo), "--model-dir", str(model), "--json", "--no-progress"], env, work
        ).stdout.splitlines()
        result = json.loads(lines[-1])
        if len(result["predictions"]) != 5 or result["model"]["untrained"] is not True:
            raise SmokeFailure(f"geoguess predict: expected 5 untrained guesses, got {lines[-1][:500]}")
        shot = work / "smoke-screenshot.png"
        first = check_window(app, photo, model, shot, env, work)
        tagged = check_tagging(cli, plain, model, env, work)
        camera_files = check_raw_and_video(cli, model, args.samples, env, work)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, args.keep / shot.name)
        print(f"smoke test passed: {version}")
        print("  predict: 5 guesses, marked untrained")
        print(
            f"  window: launch to first prediction shown {first:.2f} s; screenshot "
            f"{(args.keep / shot.name) if args.keep else 'checked'}"
        )
        print(f"  tag --write: {tagged}")
        print(f"  RAW and video: {camera_files}")
        return 0
    except (SmokeFailure, subprocess.TimeoutExpired, json.JSONDecodeError, KeyError) as e:
        print(f"smoke test FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
