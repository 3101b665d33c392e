"""Speed and memory of `geoguess predict` against the published LocationNet code path.

Prints, for 12-megapixel JPEGs of the corpus and the full-size untrained LocationNet, in one run:
seconds per photo of the published code path (scikit-image, one photo at a time), of
`geoguess predict` on one photo, folder throughput of both, the ratios, and peak RSS.

    python bench/bench_predict.py [--model-dir DIR] [--copies N] [--repeat R]

Without --model-dir a full-size stand-in is synthesized first (about 40 s) from
../shared/locationnet. Both programs are run as fresh processes, timed from start to exit.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GEOGUESS_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "exif-corpus"


def twelve_megapixel_jpegs() -> list[Path]:
    with open(CORPUS / "MANIFEST.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    out = []
    for r in rows:
        if r["format"] == "JPEG" and r["pil_load"] == "ok" and "x" in r["pil_size"]:
            w, h = (int(v) for v in r["pil_size"].split("x"))
            if 10e6 <= w * h <= 14e6:
                out.append(CORPUS / r["path"])
    return out


def model_for_bench(given: Path | None, work: Path) -> Path:
    """The model folder given, or a full-size untrained LocationNet synthesized into ``work``."""
    if given is not None:
        return given
    model_dir = work / "model"
    print("synthesizing the full-size untrained LocationNet ...", file=sys.stderr)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "geoguess_app.cli",
            "model",
            "synth",
            str(model_dir),
            "--source",
            str(SHARED / "locationnet"),
        ],
        check=True,
        capture_output=True,
    )
    return model_dir


def photo_folder(folder: Path, copies: int) -> Path:
    """A folder holding ``copies`` copies of each 10-14 megapixel JPEG of the corpus."""
    folder.mkdir()
    for i in range(copies):
        for p in twelve_megapixel_jpegs():
            shutil.copyfile(p, folder / f"{i}-{p.name.replace(' ', '_')}")  # writable, whatever the source
    return folder


def run_timed(cmd: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB of the process (and its children), stdout."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode not in ok:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}):\n{stderr[-2000:]}")
    return wall, usage.ru_maxrss / 1024, stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path)
    parser.add_argument("--copies", type=int, default=4, help="copies of each photo in the folder (default 4)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each one-photo measurement (median)")
    parser.add_argument("--folder-repeat", type=int, default=3, help="runs of each folder measurement (median)")
    args = parser.parse_args()

    photos = twelve_megapixel_jpegs()
    work = Path(tempfile.mkdtemp(prefix="geoguess-bench-"))
    try:
        model_dir = model_for_bench(args.model_dir, work)
        folder = photo_folder(work / "photos", args.copies)
        folder_photos = sorted(str(p) for p in folder.iterdir())
        one = str(photos[0])
        geoguess = [
            str(Path(sys.executable).parent / "geoguess"),
            "predict",
            "--model-dir",
            str(model_dir),
            "--device",
            "cpu",
            "--no-progress",
        ]
        published = [sys.executable, str(ROOT / "bench" / "published_run.py"), str(model_dir)]

        # Warm the page cache (the 300 MB weights) and imports once, untimed.
        run_timed(published + [one])
        run_timed(geoguess + [one])

        pub_one = [run_timed(published + [one]) for _ in range(args.repeat)]
        gg_one = [run_timed(geoguess + [one]) for _ in range(args.repeat)]
        pub_runs = [run_timed(published + folder_photos) for _ in range(args.folder_repeat)]
        gg_runs = [run_timed(geoguess + [str(folder)]) for _ in range(args.folder_repeat)]
        pub_folder = sorted(pub_runs)[len(pub_runs) // 2]  # the median run
        gg_folder = sorted(gg_runs)[len(gg_runs) // 2]

        n = len(folder_photos)
        pub_one_s = statistics.median(w for w, _, _ in pub_one)
        gg_one_s = statistics.median(w for w, _, _ in gg_one)
        print(f"photos: {len(photos)} JPEGs of 10-14 megapixels from the corpus; folder: {n} photos")
        print(f"model: full-size untrained LocationNet (real symbol, 15,527 cells), CPU, {os.cpu_count()} cores")
        print()
        print(f"one photo, end to end (process start to exit, median of {args.repeat}):")
        print(f"  published code path      {pub_one_s:7.2f} s")
        print(f"  geoguess predict         {gg_one_s:7.2f} s   -> {pub_one_s / gg_one_s:.2f}x faster")
        print(f"folder of {n} photos, end to end (median of {args.folder_repeat}):")
        print(
            f"  published code path      {pub_folder[0]:7.2f} s  = {pub_folder[0] / n:.3f} s/photo"
            f"  ({n / pub_folder[0]:.2f} photos/s)"
        )
        print(
            f"  geoguess predict         {gg_folder[0]:7.2f} s  = {gg_folder[0] / n:.3f} s/photo"
            f"  ({n / gg_folder[0]:.2f} photos/s)   -> {pub_folder[0] / gg_folder[0]:.2f}x faster"
        )
        print("peak RSS:")
        print(f"  published, folder        {pub_folder[1]:7.0f} MiB")
        print(f"  geoguess, one photo      {max(r for _, r, _ in gg_one):7.0f} MiB")
        print(f"  geoguess, folder         {gg_folder[1]:7.0f} MiB")
        # Both must agree on the answers: same top cell for every photo.
        pub_top = [line.split()[-5].split(":")[0] for line in pub_folder[2].splitlines() if line.strip()]
        print(
            f"answers: published path printed {len(pub_top)} results; geoguess printed "
            f"{gg_folder[2].count(chr(10) + '   1 ')} first-ranked guesses"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
