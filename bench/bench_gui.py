"""Responsiveness of the window while it predicts (a benchmark, not a test).

Prints the time from launching the program to the first prediction shown (photo, rows and map),
and the longest stall of the GUI event loop while 50 photos of 10-14 megapixels are predicted,
measured by a timer probe that should fire every 5 ms: a stall is how much later than that a tick
came. Run:

    python bench/bench_gui.py [--model-dir DIR] [--photos 50]

Without --model-dir a full-size untrained LocationNet is synthesized first. Runs headless
(offscreen) unless a display is set.
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
sys.path.insert(0, str(ROOT / "bench"))


def parent(args) -> None:
    from bench_predict import model_for_bench, twelve_megapixel_jpegs

    work = Path(tempfile.mkdtemp(prefix="geoguess-bench-gui-"))
    try:
        model_dir = model_for_bench(args.model_dir, work)
        sources = twelve_megapixel_jpegs()
        first = work / "first.jpg"
        shutil.copy(sources[0], first)
        batch = work / "batch"
        batch.mkdir()
        for i in range(args.photos):
            shutil.copy(sources[i % len(sources)], batch / f"{i:03d}.jpg")
        env = dict(os.environ, GEOGUESS_BENCH_T0=repr(time.time()))
        if not env.get("DISPLAY"):
            env.setdefault("QT_QPA_PLATFORM", "offscreen")
        run = subprocess.run(
            [sys.executable, __file__, "--child", str(model_dir), str(first), str(batch)],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        lines = [ln for ln in run.stdout.splitlines() if ln.startswith("{")]
        if run.returncode != 0 or not lines:
            raise SystemExit(f"the window run failed ({run.returncode}):\n{run.stderr[-3000:]}")
        r = json.loads(lines[-1])
        print(f"model: full-size untrained LocationNet, CPU, {os.cpu_count()} cores; photos: 10-14 megapixel JPEGs")
        print(f"launch to first prediction shown (photo, rows, map markers): {r['first_shown_s']:.2f} s")
        print(f"  of which: window on screen {r['window_shown_s']:.2f} s, model ready {r['model_ready_s']:.2f} s")
        print(
            f"{r['photos']} photos predicted in {r['batch_s']:.1f} s ({r['photos'] / r['batch_s']:.2f} photos/s) "
            f"while the event loop was probed every {r['interval_ms']} ms ({r['ticks']} ticks):"
        )
        print(
            f"  longest stall {r['max_stall_ms']:.1f} ms (target at most 50 ms); "
            f"99th percentile {r['p99_stall_ms']:.1f} ms; stalls over 50 ms: {r['over_50']}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def child(model_dir: str, first: str, batch: str) -> None:
    t0 = float(os.environ["GEOGUESS_BENCH_T0"])
    from geoguess_app.environment import prepare_qt

    prepare_qt(headless=True)
    from PySide6 import QtWebEngineWidgets  # noqa: F401
    from PySide6.QtCore import QCoreApplication, QElapsedTimer, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from geoguess_app.gui.main_window import MainWindow

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    QCoreApplication.setOrganizationName("GeoGuess-bench")
    app = QApplication([])
    window = MainWindow(Path(model_dir), device="cpu", online_tiles=False, ask_for_model=False)
    out: dict = {"interval_ms": 5}
    window.modelReady.connect(lambda _m: out.setdefault("model_ready_s", time.time() - t0))
    window.show()
    out["window_shown_s"] = time.time() - t0
    window.add_paths([first])
    gaps: list[float] = []
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(out["interval_ms"])
    state = {"last": 0.0, "batch_start": 0.0, "seen": 0}

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        gaps.append(now - state["last"])
        state["last"] = now

    probe.timeout.connect(tick)

    def on_first_markers(markers) -> None:
        if not markers:  # the page has not drawn them yet
            QTimer.singleShot(20, lambda: window.map.markers(on_first_markers))
            return
        out["first_shown_s"] = time.time() - t0
        QTimer.singleShot(500, start_batch)

    def on_shown(result) -> None:
        if "first_shown_s" not in out and Path(result.path) == Path(first):
            window.map.markers(on_first_markers)

    def start_batch() -> None:
        files = sorted(str(p) for p in Path(batch).iterdir())
        out["photos"] = len(files)
        state["batch_start"] = time.time()
        clock.start()
        state["last"] = 0.0
        probe.start()
        window.queue.resultReady.connect(on_result)
        window.add_paths(files)

    def on_result(_result) -> None:
        state["seen"] += 1
        if state["seen"] == out["photos"]:
            probe.stop()
            out["batch_s"] = time.time() - state["batch_start"]
            stalls = sorted(max(0.0, g - out["interval_ms"]) for g in gaps)
            out["ticks"] = len(gaps)
            out["max_stall_ms"] = stalls[-1] if stalls else 0.0
            out["p99_stall_ms"] = stalls[int(0.99 * (len(stalls) - 1))] if stalls else 0.0
            out["over_50"] = sum(s > 50 for s in stalls)
            print(json.dumps(out), flush=True)
            app.quit()

    window.predictionShown.connect(on_shown)
    QTimer.singleShot(600_000, app.quit)
    app.exec()
    sys.stdout.flush()
    os._exit(0)  # measured and printed; skip tearing down Qt WebEngine in a benchmark


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
    else:
        p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
        p.add_argument("--model-dir", type=Path)
        p.add_argument("--photos", type=int, default=50)
        parent(p.parse_args())
