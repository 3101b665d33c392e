"""The core is Qt-free: the import-linter contract holds and the core imports without PySide6."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CORE_MODULES = ["bytedelta", "cells", "errors", "exif_read", "exiftool", "fileattrs", "geotag", "image_data", "imaging",
                "journal", "model", "modelfiles", "mxnet_import", "names", "places", "predict", "preprocess",
                "staged_write", "store", "synth", "tagging", "undo", "worker"]


def test_import_linter_contract_holds():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "import-linter is a test dependency"
    run = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 kept, 0 broken" in run.stdout


def test_core_and_cli_import_and_run_with_pyside6_blocked():
    # Make any attempt to import Qt fail, then import every core module and run the CLI's help.
    code = (
        "import sys\n"
        "for name in ('PySide6', 'shiboken6'): sys.modules[name] = None\n"
        + "".join(f"import geoguess_app.core.{m}\n" for m in CORE_MODULES)
        + "import geoguess_app.cli\n"
        "import geoguess_app.core.mxnet_import as m; m.mxnet()\n"
        "assert not [k for k in sys.modules if k.startswith(('PySide6', 'shiboken6')) and sys.modules[k]]\n"
        "print('ok')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def test_every_core_module_is_listed_here():
    found = sorted(p.stem for p in (ROOT / "geoguess_app" / "core").glob("*.py") if p.stem != "__init__")
    assert found == sorted(CORE_MODULES)
