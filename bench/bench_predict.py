"""Speed and memory of `geoguess predict` against the published LocationNet code path.

Prints, for 12-megapixel JPEGs of the corpus and the full-size untrained LocationNet, in one run:
the published code path (scikit-image and MXNet, one photo at a time; where MXNet is installed)
and `geoguess predict` on each installed runtime (MXNet, ONNX Runtime, OpenVINO, and OpenVINO's
fast precision where the CPU has bfloat16), the default runtime decoding in one thread (as
GeoGuess did before it decoded on every core) and the fast precision (its reduced decode, in
float32 on a CPU without bfloat16), each for one photo and for a folder, as whole
processes timed from start to exit, with their peak RSS and the folder ratios against the
published path; then the forward pass alone of each runtime against MXNet's.

    python bench/bench_predict.py [--model-dir DIR] [--copies N] [--repeat R]

Without --model-dir a full-size stand-in is synthesized first (about 15 s) from
../shared/locationnet.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from geoguess_app.core.predict.pipeline import decode  # noqa: E402

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
    parser.add_argument("--repeat", type=int, default=3, help="runs of each one-photo measurement (median)")
    parser.add_argument("--folder-repeat", type=int, default=3, help="runs of each folder measurement (median)")
    parser.add_argument("--forward-photos", type=int, default=24, help="photos of the forward-pass measurement")
    args = parser.parse_args()

    from bench_runtimes import forward_passes, setups

    from geoguess_app.core.engine import choose_runtime

    photos = twelve_megapixel_jpegs()
    work = Path(tempfile.mkdtemp(prefix="geoguess-bench-"))
    try:
        model_dir = model_for_bench(args.model_dir, work)
        folder = photo_folder(work / "photos", args.copies)
        folder_photos = sorted(str(p) for p in folder.iterdir())
        n, one = len(folder_photos), str(photos[0])
        base = [str(Path(sys.executable).parent / "geoguess"), "predict", "--model-dir", str(model_dir)]
        base += ["--device", "cpu", "--no-progress", "--no-cache"]
        runs: dict[str, tuple[list[str], list[str]]] = {}  # name: (command for one photo, for the folder)
        published = [sys.executable, str(ROOT / "bench" / "published_run.py"), str(model_dir)]
        if importlib.util.find_spec("mxnet"):
            runs["published code path"] = (published + [one], published + folder_photos)
        default = choose_runtime()
        for runtime, precision in setups():
            name = (
                f"geoguess {runtime}"
                + (" fast" if precision == "fast" else "")
                + (" (default)" if (runtime, precision) == (default, "exact") else "")
            )
            cmd = base + ["--runtime", runtime, "--precision", precision]
            runs[name] = (cmd + [one], cmd + [str(folder)])
        # the default decoding as it was before (one thread), and the fast precision on any CPU (the
        # reduced decode, and bfloat16 where the CPU has it)
        cmd = base + ["--runtime", default, "--decode-workers", "1"]
        runs[f"geoguess {default}, 1 decode thread"] = (cmd + [one], cmd + [str(folder)])
        if not any(p == "fast" for _, p in setups()):
            cmd = base + ["--runtime", default, "--precision", "fast"]
            runs[f"geoguess {default} fast (float32)"] = (cmd + [one], cmd + [str(folder)])
        for one_cmd, _ in runs.values():  # warm the page cache (the 300 MB weights), imports, graphs: untimed
            run_timed(one_cmd)
        ones = {name: [run_timed(c) for _ in range(args.repeat)] for name, (c, _) in runs.items()}
        folders = {name: sorted(run_timed(c) for _ in range(args.folder_repeat)) for name, (_, c) in runs.items()}

        print(f"photos: {len(photos)} JPEGs of 10-14 megapixels from the corpus; folder: {n} photos")
        print(f"model: full-size UNTRAINED stand-in (real symbol, 15,527 cells), CPU, {os.cpu_count()} cores")
        print()
        print(
            f"whole process, start to exit (median of {args.repeat} runs for one photo, {args.folder_repeat} for the folder):"
        )
        print(f"  {'':30} {'one photo':>9}   {'folder':>8}  {'s/photo':>7}  {'vs published':>12}  {'peak RSS':>8}")
        reference = folders.get("published code path")
        for name in runs:
            one_s = statistics.median(w for w, _, _ in ones[name])
            wall, rss, _ = folders[name][len(folders[name]) // 2]
            ratio = f"{reference[len(reference) // 2][0] / wall:11.2f}x" if reference else f"{'-':>12}"
            peak = max(rss, max(r for _, r, _ in ones[name]))
            print(f"  {name:30} {one_s:8.2f}s  {wall:7.2f}s  {wall / n:7.3f}  {ratio}  {peak:6.0f} MiB")
        print()
        tensors = [t for t in (decode(p)[1] for p in folder_photos[: args.forward_photos]) if t is not None]
        _, times = forward_passes(model_dir, np.stack(tensors))
        print(f"forward pass alone ({len(tensors)} photos decoded beforehand, in each runtime's batch size):")
        for runtime, seconds in times.items():
            ratio = f"  {times['mxnet'] / seconds:.2f}x MXNet's" if "mxnet" in times else ""
            print(f"  {runtime:14} {seconds:.4f} s/photo{ratio}")
        print("(an UNTRAINED stand-in: speed only; what the fast precision costs in accuracy is not measured here)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
