"""The published LocationNet inference script as a program: one photo at a time, scikit-image
preprocessing, mx.model.FeedForward. Prints the top 5 cells for each photo.

    python bench/published_run.py MODEL_DIR PHOTO...
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
np.bool = bool  # needed by MXNet 1.9.1 with NumPy >= 1.24

import mxnet as mx  # noqa: E402
import published_recipe  # noqa: E402


def main() -> None:
    model_dir, photos = sys.argv[1], sys.argv[2:]
    grids = [line.split("\t") for line in open(f"{model_dir}/grids.txt")]
    model = published_recipe.load_model(model_dir, ctx=mx.cpu())
    started = time.perf_counter()
    for path in photos:
        batch = published_recipe.preprocess_image(path)
        prob = published_recipe.predict(model, batch)[0]
        top5 = np.argsort(prob)[::-1][:5]
        print(path, " ".join(f"{grids[i][0]}:{prob[i]:.4f}" for i in top5), flush=True)
    print(f"# steady seconds per photo: {(time.perf_counter() - started) / len(photos):.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
