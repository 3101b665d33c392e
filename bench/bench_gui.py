"""Responsiveness of the window while it predicts (a benchmark, not a test).

Prints the time from launching the program to the first prediction shown (photo, rows and map),
and the longest stall of the GUI event loop from the window's first showing on: while the model,
the place names and the map load and the first photo is predicted (start-up), then while 50
photos of 10-14 megapixels are predicted; measured by a timer probe that should fire every 5 ms:
a stall is how much later than that a tick came. With --diagnose, the Python stack of the GUI
thread is printed for each stall over 40 ms (sampled by a watchdog thread). With --first-launch the
cache folder starts empty (the place index and the converted model are made during the run). Run:

    python bench/bench_gui.py [--model-dir DIR] [--photos 50] [--diagnose] [--first-launch]

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
        env = dict(os.environ)
        if args.first_launch:  # nothing cached yet but what installing the model made (its ONNX graph)
            env["XDG_CACHE_HOME"] = str(work / "cache")
            install = (
                "import sys; from pathlib import Path; from geoguess_app.core.engine import write_runtime_files as w"
            )
            subprocess.run(
                [sys.executable, "-c", f"{install}; w(Path(sys.argv[1]))", str(model_dir)], env=env, check=True
            )
        if not env.get("DISPLAY"):
            env.setdefault("QT_QPA_PLATFORM", "offscreen")
        env["GEOGUESS_BENCH_T0"] = repr(time.time())  # the launch
        run = subprocess.run(
            [sys.executable, __file__, "--child", str(model_dir), str(first), str(batch), str(args.diagnose)],
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
        print(
            "first launch: the cache folder holds only what installing the model made"
            if args.first_launch
            else "a later launch: the user's cache folder"
        )
        print(f"launch to first prediction shown (photo, rows, map markers): {r['first_shown_s']:.2f} s")
        print(f"  of which: window on screen {r['window_shown_s']:.2f} s, model ready {r['model_ready_s']:.2f} s")
        print(
            f"  start-up (window shown to first prediction): longest stall {r['startup_max_stall_ms']:.1f} ms; "
            f"stalls over 50 ms: {r['startup_over_50']}"
        )
        print(
            f"{r['photos']} photos predicted in {r['batch_s']:.1f} s ({r['photos'] / r['batch_s']:.2f} photos/s) "
            f"while the event loop was probed every {r['interval_ms']} ms ({r['ticks']} ticks):"
        )
        print(
            f"  longest stall {r['max_stall_ms']:.1f} ms (target at most 50 ms); "
            f"99th percentile {r['p99_stall_ms']:.1f} ms; stalls over 50 ms: {r['over_50']}"
        )
        print(f"peak memory (RSS) of the window's process: {r['peak_rss_mib']:.0f} MiB")
        if r.get("peak_private_mib"):
            print(
                f"  largest private (anonymous) part: {r['peak_private_mib']:.0f} MiB "
                f"(with {r['file_backed_then_mib']:.0f} MiB of file pages then: libraries, the compiled model's file)"
            )
        if args.diagnose:
            print(run.stderr[-20000:])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def watch_gui_thread(last_tick: list[float], threshold_ms: float = 40.0) -> None:
    """A watchdog thread: when the GUI thread's probe is late, print its Python stack (once a stall)."""
    import threading
    import traceback

    main = threading.main_thread().ident

    def watch() -> None:
        reported = 0.0
        while True:
            time.sleep(0.01)
            late = (time.perf_counter() - last_tick[0]) * 1000
            if late > threshold_ms and last_tick[0] != reported:
                reported = last_tick[0]
                names = {t.ident: t.name for t in threading.enumerate()}
                report = [f"--- GUI thread {late:.0f} ms late; every thread, as soon as the watchdog ran:"]
                for ident, frame in sys._current_frames().items():
                    stack = "".join(traceback.format_stack(frame)[-6:])
                    report.append(f"[{'GUI' if ident == main else names.get(ident, ident)}]\n{stack}")
                print("\n".join(report), file=sys.stderr, flush=True)

    threading.Thread(target=watch, daemon=True).start()


def sample_memory(peaks: dict[str, float]) -> None:
    """A thread noting the process's largest private (anonymous) and file-backed resident memory
    (Linux's /proc; elsewhere nothing): file pages (the compiled model read from the cache, the
    libraries) are shared and can be dropped by the system, private ones cannot."""
    import threading

    def sample() -> None:
        while True:
            try:
                with open("/proc/self/status", encoding="ascii") as f:
                    fields = dict(line.split(":", 1) for line in f if line.startswith("Rss"))
            except OSError:
                return
            anon, file = (int(fields[k].split()[0]) / 1024 for k in ("RssAnon", "RssFile"))
            if anon > peaks.get("anon", 0.0):
                peaks["anon"], peaks["file_then"] = anon, file
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()


def child(model_dir: str, first: str, batch: str, diagnose: str = "False") -> None:
    t0 = float(os.environ["GEOGUESS_BENCH_T0"])
    peaks: dict[str, float] = {}
    sample_memory(peaks)
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
    gaps: list[float] = []
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(out["interval_ms"])
    state = {"last": 0.0, "batch_start": 0.0, "seen": 0}
    last_tick = [time.perf_counter()]

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        gaps.append(now - state["last"])
        state["last"] = now
        last_tick[0] = time.perf_counter()

    probe.timeout.connect(tick)
    if diagnose == "True":
        watch_gui_thread(last_tick)
    clock.start()  # from the window's first showing on: the model, place names and map load meanwhile
    probe.start()
    window.add_paths([first])

    def on_first_markers(markers) -> None:
        if not markers:  # the page has not drawn them yet
            QTimer.singleShot(20, lambda: window.map.markers(on_first_markers))
            return
        out["first_shown_s"] = time.time() - t0
        startup = [max(0.0, g - out["interval_ms"]) for g in gaps]
        out["startup_max_stall_ms"] = max(startup, default=0.0)
        out["startup_over_50"] = sum(s > 50 for s in startup)
        QTimer.singleShot(500, start_batch)

    def on_shown(result) -> None:
        if "first_shown_s" not in out and Path(result.path) == Path(first):
            window.map.markers(on_first_markers)

    def start_batch() -> None:
        files = sorted(str(p) for p in Path(batch).iterdir())
        out["photos"] = len(files)
        state["batch_start"] = time.time()
        gaps.clear()
        clock.restart()
        state["last"] = 0.0
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
            import resource

            out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            out["peak_private_mib"] = peaks.get("anon")
            out["file_backed_then_mib"] = peaks.get("file_then")
            print(json.dumps(out), flush=True)
            app.quit()

    window.predictionShown.connect(on_shown)
    QTimer.singleShot(600_000, app.quit)
    app.exec()
    sys.stdout.flush()
    os._exit(0)  # measured and printed; skip tearing down Qt WebEngine in a benchmark


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
    else:
        p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
        p.add_argument("--model-dir", type=Path)
        p.add_argument("--photos", type=int, default=50)
        p.add_argument("--diagnose", action="store_true", help="print the GUI thread's stack at each stall")
        p.add_argument("--first-launch", action="store_true", help="start with an empty cache folder")
        parent(p.parse_args())
