"""Fusion on simulated trips: accuracy against single photos and a plain baseline, and speed.

    python bench/bench_fusion.py [--grids FILE] [--trips N] [--seed S]

SIMULATED: the distributions come from bench/fusion_simulator.py, calibrated to the published
single-photo accuracy of PlaNet on MediaEval 2016. The figures say what fusion adds on top of a
model that behaves as the simulator assumes; they are not the real LocationNet's accuracy.

Prints, at 1, 25, 200, 750 and 2,500 km, the share of photos whose answer is within that distance
of where they were taken:
- single: each photo's own top guess;
- baseline: the top of the average distribution of the photos within an hour of it;
- fused, and fused with each source switched off;
for trips without GPS (time zones in half of the photos), for a harder simulator (correlated
mistakes, the true cell rarer in wrong distributions), and for trips where 15% of the photos have
GPS (photos within 15 minutes of such an anchor). Then the time to fuse 10,000 photos.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fusion_simulator import PUBLISHED, SimConfig, SimPhoto, Simulator  # noqa: E402

from geoguess_app.core.fusion.fuse import FusionOptions, fuse  # noqa: E402
from geoguess_app.core.fusion.geometry import GridGeometry, distances_km, unit_vectors  # noqa: E402
from geoguess_app.core.fusion.inputs import format_offset  # noqa: E402
from geoguess_app.core.fusion.timezone import TimezoneEvidence  # noqa: E402
from geoguess_app.core.fusion.tracks import AnchorEvidence  # noqa: E402
from geoguess_app.core.geo.cells import CellGrid  # noqa: E402

SHARED = Path(os.environ.get("GEOGUESS_SHARED", ROOT.parent / "shared"))
KMS = [km for km, _ in PUBLISHED]


def accuracy(sims: list[SimPhoto], positions) -> list[float]:
    truth = unit_vectors([s.lat for s in sims], [s.lon for s in sims])
    guess = unit_vectors([p[0] for p in positions], [p[1] for p in positions])
    d = np.einsum("ij,ij->i", truth, guess).clip(-1, 1)
    d = np.arccos(d) * 6371.0088
    return [100.0 * float(np.mean(d <= km)) for km in KMS]


def single(geo: GridGeometry, sims: list[SimPhoto]):
    return [(geo.lats[s.photo.classes[0]], geo.lons[s.photo.classes[0]]) for s in sims]


def baseline(geo: GridGeometry, sims: list[SimPhoto], window=datetime.timedelta(hours=1)):
    """The top cell of the average distribution of the photos within ``window`` (on the same clock)."""
    photos = [s.photo for s in sims]
    order = sorted(range(len(photos)), key=lambda i: photos[i].utc)
    times = [photos[i].utc for i in order]
    out = [None] * len(photos)
    lo = hi = 0
    for rank, i in enumerate(order):
        t = times[rank]
        while times[lo] < t - window:
            lo += 1
        while hi < len(order) and times[hi] <= t + window:
            hi += 1
        group = [photos[order[k]] for k in range(lo, hi)]
        summed = np.bincount(
            np.concatenate([p.classes for p in group]),
            weights=np.concatenate([p.probabilities for p in group]),
            minlength=geo.num_cells,
        )
        top = int(np.argmax(summed))
        out[i] = (geo.lats[top], geo.lons[top])
    return out


def row(name: str, values: list[float], reference: list[float] | None = None) -> None:
    cells = "".join(f"{v:8.1f}" for v in values)
    ratio = (
        f"   x{values[1] / reference[1]:.2f} at 25 km, x{values[4] / reference[4]:.2f} at 2,500 km" if reference else ""
    )
    print(f"  {name:<34}{cells}{ratio}")


def scenario(geo: GridGeometry, tz: TimezoneEvidence, title: str, config: SimConfig) -> None:
    sims = Simulator(geo, config).run()
    photos = [s.photo for s in sims]
    print(f"\n{title}: {len(sims)} photos in {config.trips} trips (SIMULATED distributions)")
    print(f"  {'':<34}" + "".join(f"{km:>6,} km" for km in KMS))
    row("published (MediaEval 2016)", [100 * s for _, s in PUBLISHED])
    one = accuracy(sims, single(geo, sims))
    row("single photo", one)
    for p in photos:
        p.clock_offset = None
    fuse(photos, geo, FusionOptions(neighbours=False))  # puts photos on one clock for the baseline
    base = accuracy(sims, baseline(geo, sims))
    row("baseline: average within 1 h", base, one)
    variants = [
        ("fused (all sources)", FusionOptions(sources=[tz])),
        ("fused without time zone", FusionOptions()),
        ("fused without neighbours", FusionOptions(sources=[tz], neighbours=False)),
    ]
    fused = None
    for name, options in variants:
        values = accuracy(sims, [a.position for a in fuse(photos, geo, options)])
        row(name, values, one)
        fused = fused or values
    assert fused is not None
    print(
        f"  fused vs baseline at 25 km: {fused[1] / base[1]:.2f}x; "
        f"worst drop below single photo: {min(f - s for f, s in zip(fused, one)):+.1f} points"
    )


def anchors(geo: GridGeometry, tz: TimezoneEvidence, config: SimConfig) -> None:
    sims = Simulator(geo, config).run()
    photos = [s.photo for s in sims]
    answers = fuse(photos, geo, FusionOptions(sources=[tz, AnchorEvidence()]))
    anchor_times = sorted(p.utc for p in photos if p.gps is not None)
    near = []
    for s, a in zip(sims, answers):
        if s.photo.gps is not None:
            continue
        t = s.photo.utc
        if any(abs(t - u) <= datetime.timedelta(minutes=15) for u in anchor_times):
            near.append((s, a))
    d = np.array(
        [
            distances_km(unit_vectors([s.lat], [s.lon]), unit_vectors([a.position[0]], [a.position[1]]))[0, 0]
            for s, a in near
        ]
    )
    print(
        f"\nGPS anchors: {len(sims)} photos, {sum(p.gps is not None for p in photos)} with GPS; "
        f"{len(near)} without GPS within 15 min of one: {100 * np.mean(d <= 25):.1f}% within 25 km "
        f"(median {np.median(d):.2f} km) (SIMULATED)"
    )
    rest = [(s, a) for s, a in zip(sims, answers) if s.photo.gps is None]
    row("all photos without GPS, fused", accuracy([s for s, _ in rest], [a.position for _, a in rest]))


def speed(geo: GridGeometry, trips: int, seed: int) -> None:
    sims = []
    while len(sims) < 10_000:
        sims += Simulator(geo, SimConfig(trips=trips, seed=seed + len(sims))).run()
    photos = [s.photo for s in sims[:10_000]]
    for i, p in enumerate(photos):
        p.index = i
    start = time.perf_counter()
    tz = TimezoneEvidence(geo)
    fuse(photos, geo, FusionOptions(sources=[tz, AnchorEvidence()]))
    print(f"\nSpeed: fusing 10,000 photos (time zones and neighbours) took {time.perf_counter() - start:.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        lines = Path(folder) / "predictions.jsonl"
        with open(lines, "w") as f:
            for p in photos:
                offset = None if p.offset is None else format_offset(p.offset)
                pairs = [[int(c), float(str(np.float32(q)))] for c, q in zip(p.classes, p.probabilities)]
                record = {
                    "path": p.path,
                    "taken": {"time": p.time.isoformat(), "offset": offset},
                    "distribution": pairs,
                }
                f.write(json.dumps(record) + "\n")
        grids = Path(folder) / "model"
        grids.mkdir()
        shutil.copy(geo.grid.source, grids / "grids.txt")
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "geoguess_app.cli", "fuse", str(lines), "--model-dir", str(grids), "--json"],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
        )
        size = lines.stat().st_size / 1e6
        print(
            f"       'geoguess fuse' on their {size:.0f} MB of JSON Lines, from start to exit: {time.perf_counter() - start:.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", default=str(SHARED / "locationnet" / "grids.txt"))
    parser.add_argument("--trips", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    geo = GridGeometry(CellGrid.from_file(args.grids))
    tz = TimezoneEvidence(geo)
    scenario(geo, tz, "Trips without GPS", SimConfig(trips=args.trips, seed=args.seed))
    scenario(
        geo,
        tz,
        "Harder: 60% of mistakes shared within a stop, the true cell in 30% of wrong distributions",
        SimConfig(trips=args.trips, seed=args.seed, correlated=0.6, truth_share=0.3),
    )
    anchors(geo, tz, SimConfig(trips=args.trips, seed=args.seed, gps_share=0.15))
    speed(geo, 120, args.seed)


if __name__ == "__main__":
    main()
