"""Seconds to read a camera RAW file or a video into the model's input, against a JPEG of the same
pixel size, in the same run (the pipeline's first stage, predict/pipeline.decode: reading, the
metadata through ExifTool, and the published recipe's tensors; a video's five).

    python bench/bench_camera_files.py [--samples ../shared/raw-video-samples] [--repeat 5]

Prints one row per file: which image it was predicted from, seconds per file (median of the
repeats), the same-size JPEG's seconds, and their ratio. The samples' RAW files carry no large
preview, so a camera's kind is made too: a 24-megapixel DNG (made from a corpus photo, as in the
tests) with its sensor data and a full-size JPEG preview, read by its preview (the default) and by
a half-size demosaic (the preview ignored). Timings on a shared machine are noisy:
compare the ratios, in one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # helpers.make_dng


from helpers import make_dng  # noqa: E402

from geoguess_app.core.photos import raw  # noqa: E402
from geoguess_app.core.photos.decode import open_photo  # noqa: E402
from geoguess_app.core.predict.pipeline import decode  # noqa: E402

FILES = [
    ("raw", "RAW_KODAK_DC50.KDC"),
    ("video", "sample_640x360.mov"),
    ("video", "quicktime-hvc1.mov"),
    ("video", "Sony_ILCE-7M3_A7M3.mts"),
    ("video", "earth.avi"),
]


def seconds(path: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result, tensor = decode(path)
        times.append(time.perf_counter() - start)
        if tensor is None:
            raise SystemExit(f"{path}: {result.error}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=Path, default=ROOT.parent / "shared" / "raw-video-samples")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="geoguess-bench-"))
    corpus_photo = args.samples.parent / "exif-corpus" / "metadata-extractor-images/jpg/Nikon D90.jpg"
    camera = make_dng(corpus_photo, work / "DSC_0001.dng", (6000, 4000), preview=True)
    print(f"{'file':<28}{'predicted from':<46}{'s/file':>9}{'JPEG s':>9}{'ratio':>8}")
    rows = [(args.samples / folder / name, False) for folder, name in FILES] + [(camera, False), (camera, True)]
    for path, demosaic in rows:
        saved = raw.MIN_PREVIEW_SIDE
        raw.MIN_PREVIEW_SIDE = 10**9 if demosaic else saved  # the preview too small: demosaic instead
        try:
            photo = open_photo(path)
            source = photo.source
            jpeg = work / (path.stem + ".jpg")
            photo.image.save(jpeg, quality=92)  # the same pixels, as a camera JPEG of that size
            photo.close()
            ours = seconds(path, args.repeat)
        finally:
            raw.MIN_PREVIEW_SIDE = saved
        plain = seconds(jpeg, args.repeat)
        print(f"{path.name:<28}{source[:45]:<46}{ours:9.3f}{plain:9.3f}{ours / plain:8.1f}")


if __name__ == "__main__":
    main()
