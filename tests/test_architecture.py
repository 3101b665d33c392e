"""The layout holds: the import contracts, a Qt-free core, and modules of a readable size."""

import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from helpers import ROOT

import geoguess_app

MAX_LINES = 400


def _modules(package: str) -> list[str]:
    """Every module under ``geoguess_app.<package>``, found on disk."""
    path = [str(ROOT / "geoguess_app" / package)]
    modules = pkgutil.walk_packages(path, prefix=f"geoguess_app.{package}.")
    return sorted(m.name for m in modules if not m.name.endswith(".__main__"))


def test_import_linter_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "import-linter is a test dependency"
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    run = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{len(contracts)} kept, 0 broken" in run.stdout


def test_the_modules_are_found_in_every_core_package():
    found = _modules("core")
    for package in ("photos", "geo", "model", "model.mxnet", "predict", "geotag"):
        assert any(m.startswith(f"geoguess_app.core.{package}.") for m in found), package
    assert "geoguess_app.core.engine" in found


def test_core_and_cli_import_and_run_with_pyside6_blocked():
    # Make any attempt to import Qt fail, then import every core module and run the CLI's help.
    code = (
        "import sys\n"
        "for name in ('PySide6', 'shiboken6'): sys.modules[name] = None\n"
        + "".join(f"import {m}\n" for m in _modules("core") + _modules("cli"))
        + "import geoguess_app.cli\n"
        "import importlib.util\n"
        "if importlib.util.find_spec('mxnet'):\n"
        "    import geoguess_app.core.model.mxnet.importer as m; m.mxnet()\n"
        "assert not [k for k in sys.modules if k.startswith(('PySide6', 'shiboken6')) and sys.modules[k]]\n"
        "print('ok')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def test_no_module_is_longer_than_a_few_hundred_lines():
    too_long = {}
    for path in Path(geoguess_app.__file__).parent.rglob("*.py"):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            too_long[str(path.relative_to(ROOT))] = lines
    assert not too_long, f"split these modules (at most {MAX_LINES} lines): {too_long}"
