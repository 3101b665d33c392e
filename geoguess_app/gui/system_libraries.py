"""The system libraries the window needs on Linux, checked before Qt starts.

Qt's own message when its X11 plugin cannot load names one library (often ``libxcb-cursor0``, even
when it is installed and another is missing) and then aborts. Asking the dynamic loader (``ldd``)
which libraries of the X11 plugin and of QtWebEngine are not found names all of them, with the
Debian/Ubuntu and Fedora packages that hold them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

#: soname -> (Debian/Ubuntu package, Fedora package)
PACKAGES = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libnss3.so": ("libnss3", "nss"),
    "libxkbfile.so.1": ("libxkbfile1", "libxkbfile"),
    "libXcomposite.so.1": ("libxcomposite1", "libXcomposite"),
    "libXdamage.so.1": ("libxdamage1", "libXdamage"),
    "libXrandr.so.2": ("libxrandr2", "libXrandr"),
    "libXtst.so.6": ("libxtst6", "libXtst"),
    "libasound.so.2": ("libasound2", "alsa-lib"),
}


def not_found(ldd_output: str) -> list[str]:
    """The sonames ``ldd`` says it could not find ("libfoo.so.1 => not found")."""
    return sorted({line.split("=>")[0].strip() for line in ldd_output.splitlines() if "=> not found" in line})


def qt_binaries(x11: bool) -> list[Path]:
    """QtWebEngine's core library, and Qt's X11 platform plugin when ``x11``, where PySide6 keeps them."""
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        return []
    qt = Path(spec.origin).parent / "Qt"
    wanted = [qt / "lib/libQt6WebEngineCore.so.6"] + ([qt / "plugins/platforms/libqxcb.so"] if x11 else [])
    return [p for p in wanted if p.is_file()]


def missing_libraries() -> list[str]:
    """The system libraries the window cannot find on this Linux session (none elsewhere, or when it
    cannot be told). X11's are checked only where Qt will use X11 (not offscreen, not Wayland)."""
    if not sys.platform.startswith("linux"):
        return []
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    x11 = platform.startswith("xcb") or (not platform and not os.environ.get("WAYLAND_DISPLAY"))
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    missing: set[str] = set()
    for binary in qt_binaries(x11):
        try:
            out = subprocess.run([ldd, str(binary)], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            continue
        missing.update(not_found(out.stdout))
    return sorted(missing)


def explain(missing: list[str]) -> str:
    """What to install, for a person: the libraries, and the packages on Debian/Ubuntu and Fedora."""
    known = [PACKAGES[name] for name in missing if name in PACKAGES]
    debian = sorted({d for d, _ in known})
    fedora = sorted({f for _, f in known})
    text = (
        "GeoGuess's window cannot start: these system libraries are missing: "
        + ", ".join(missing)
        + ".\nInstall them, then start GeoGuess again:"
    )
    if debian:
        text += "\n  Debian/Ubuntu: sudo apt install " + " ".join(debian)
        text += "\n  Fedora:        sudo dnf install " + " ".join(fedora)
    unknown = [name for name in missing if name not in PACKAGES]
    if unknown:
        text += "\n  (find the package holding " + ", ".join(unknown) + " with your system's package search)"
    return text
