"""``geoguess model``: download, import, check or synthesize the LocationNet model."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import environment
from .options import add_model_dir
from .output import EXIT_OK, EXIT_PHOTO_FAILED


def add_parser(sub) -> None:
    m = sub.add_parser("model", help="install, check or synthesize the LocationNet model")
    msub = m.add_subparsers(dest="model_command", required=True, metavar="ACTION")
    d = msub.add_parser("download", help="download the official model files (about 300 MB), verified")
    add_model_dir(d)
    d.set_defaults(handler=cmd_download)
    i = msub.add_parser("import", help="copy and verify a model folder obtained elsewhere")
    i.add_argument("source", metavar="DIR")
    add_model_dir(i)
    i.set_defaults(handler=cmd_import)
    n = msub.add_parser("info", help="what model is installed and whether it verifies")
    add_model_dir(n)
    n.set_defaults(handler=cmd_info)
    s = msub.add_parser(
        "synth",
        help="make an UNTRAINED stand-in model (random weights) for testing",
        description="Write a model folder with LocationNet's architecture and seeded random weights. "
        "Its predictions mean nothing; everything made with it says so.",
    )
    s.add_argument("out_dir", metavar="OUT_DIR")
    s.add_argument("--tiny", action="store_true", help="a few layers and 48 cells, for fast tests")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument(
        "--source",
        metavar="DIR",
        help="folder with the official RN101-5k500-symbol.json and grids.txt (default: the installed model folder)",
    )
    s.set_defaults(handler=cmd_synth)


def _print_progress():
    """A progress callback drawing one tqdm bar per file (for downloads and imports)."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(name: str, done: int, total: int | None) -> None:
        bar = bars.get(name)
        if bar is None:
            bar = bars[name] = tqdm(
                total=total, desc=name, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, leave=True
            )
        bar.total = total
        bar.update(done - bar.n)
        if total is not None and done >= total:
            bar.close()

    return progress


def cmd_download(args) -> int:
    from ..core.engine import download_model, resolve_model_dir

    folder = resolve_model_dir(args.model_dir)
    print(f"Downloading LocationNet into {folder}", file=sys.stderr)
    download_model(folder, progress=_print_progress())
    print(f"Installed and verified: {folder}")
    return EXIT_OK


def cmd_import(args) -> int:
    from ..core.engine import import_model, resolve_model_dir

    folder = resolve_model_dir(args.model_dir)
    report = import_model(args.source, folder, progress=_print_progress())
    if report.untrained:
        print(f"Imported an UNTRAINED stand-in model into {folder}: its predictions mean nothing.")
    else:
        print(f"Imported and verified against the published md5 sums: {folder}")
    return EXIT_OK


def cmd_info(args) -> int:
    from ..core.engine import ENV_MODEL_DIR, gpu_status, inspect_folder, open_engine, read_marker, resolve_model_dir
    from ..core.errors import GeoGuessError

    gpu = gpu_status()
    print(gpu.summary)
    for line in gpu.lines:
        print(f"  {line}")
    folder = resolve_model_dir(args.model_dir)
    origin = "--model-dir" if args.model_dir else (f"${ENV_MODEL_DIR}" if environment.model_dir() else "default")
    print(f"Model folder: {folder} ({origin})")
    report = inspect_folder(folder, fresh=True)
    for f in report.files:
        if not f.present:
            print(f"  {f.name:<26} missing")
        else:
            print(f"  {f.name:<26} {f.size:>13,} bytes  md5 {f.md5}  {f.verdict}")
    if not report.complete:
        print("Status: not installed. Run 'geoguess model download', or 'geoguess model import FOLDER'.")
        return EXIT_PHOTO_FAILED
    try:
        model = open_engine(folder, device="cpu").result()
    except GeoGuessError as e:
        print(f"Status: does not load: {e}")
        return EXIT_PHOTO_FAILED
    marker = read_marker(folder)
    if marker is not None:
        print(f"Status: {marker.description}. Loads: {model.info.num_classes} classes.")
        return EXIT_OK
    if report.verified:
        print(
            f"Status: verified, identical to the published LocationNet files. Loads: {model.info.num_classes} classes."
        )
        return EXIT_OK
    print("Status: loads, but is NOT the published LocationNet (md5 mismatch); its answers are unverified.")
    return EXIT_PHOTO_FAILED


def cmd_synth(args) -> int:
    from ..core.engine import ENV_MODEL_DIR, SYNTH_SOURCE, reference_files, resolve_model_dir, synthesize
    from ..core.errors import ModelError

    source = Path(args.source) if args.source else resolve_model_dir(None)
    needed = reference_files(args.tiny)
    missing = [name for name in needed if not (source / name).is_file()]
    if missing:  # said before anything is made: where they were looked for, and how to give them
        where = (
            f"--source {source}"
            if args.source
            else f"the model folder {source} (where synth looks without --source: ${ENV_MODEL_DIR}, else the "
            "per-user data folder)"
        )
        raise ModelError(
            f"synth makes a stand-in from the official {' and '.join(needed)}; {', '.join(missing)} not found in "
            f"{where}. {SYNTH_SOURCE[0].upper()}{SYNTH_SOURCE[1:]}."
        )
    kind = "tiny" if args.tiny else "full-size"
    print(f"Synthesizing a {kind} UNTRAINED stand-in model (seed {args.seed}) in {args.out_dir} ...", file=sys.stderr)
    out = synthesize(args.out_dir, source, tiny=args.tiny, seed=args.seed)
    print(f"Wrote {out}: random weights, predictions mean nothing (marked untrained).")
    return EXIT_OK
