#!/usr/bin/env bash
# Build GeoGuess as an application folder (PyInstaller, one folder) and smoke-test it.
#
#   packaging/build.sh [--no-archive]
#
# 1. Makes a build environment in build/venv ($PYTHON, python3 unless set) and installs GeoGuess
#    into it, as a package (not editable), with OpenVINO and the pinned PyInstaller of pyproject.toml's
#    `openvino` and `package` extras (never MXNet).
# 2. Runs PyInstaller on packaging/geoguess.spec: dist/GeoGuess/ holds `geoguess-app` (the
#    window), `geoguess` (the command line) and _internal/ (Python, Qt with QtWebEngine, OpenVINO
#    and ONNX Runtime, resources/). The model is not inside.
# 3. Adds the Linux desktop integration (share/: .desktop file, AppStream metainfo, icon) and
#    install.sh, which installs them for the user.
# 4. Smoke-tests the built programs (packaging/smoke_test.py): headless, in a bare environment,
#    with an untrained tiny stand-in model; the build fails if that fails. The stand-in needs the
#    published grids.txt: $GEOGUESS_SHARED/locationnet, else ../shared/locationnet.
# 5. Packs dist/GeoGuess-VERSION-linux-x86_64.tar.gz (unless --no-archive).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ARCHIVE=1
for arg in "$@"; do
    case $arg in
        --no-archive) ARCHIVE=0 ;;
        *) echo "usage: packaging/build.sh [--no-archive]" >&2; exit 2 ;;
    esac
done
PYTHON=${PYTHON:-python3}
APP_ID=org.geoguess.GeoGuess
start=$(date +%s)

echo "== build environment (build/venv)"
[ -x build/venv/bin/python ] || "$PYTHON" -m venv build/venv
build/venv/bin/pip install --quiet "$ROOT[package,openvino]"
build/venv/bin/pip install --quiet --no-deps --force-reinstall "$ROOT"  # this tree's code, always
VERSION=$(build/venv/bin/python -c 'import geoguess_app; print(geoguess_app.__version__)')

echo "== PyInstaller"
rm -rf dist/GeoGuess
build/venv/bin/pyinstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/geoguess.spec

echo "== desktop integration"
DIST=dist/GeoGuess
install -D -m 644 packaging/linux/$APP_ID.desktop "$DIST/share/applications/$APP_ID.desktop"
install -D -m 644 packaging/linux/$APP_ID.metainfo.xml "$DIST/share/metainfo/$APP_ID.metainfo.xml"
install -D -m 644 resources/icons/geoguess.svg "$DIST/share/icons/hicolor/scalable/apps/$APP_ID.svg"
install -m 755 packaging/linux/install.sh "$DIST/install.sh"
built=$(date +%s)

echo "== smoke test"
mkdir -p build/smoke
build/venv/bin/python packaging/smoke_test.py "$DIST" --keep build/smoke

size=$(du -sh "$DIST" | cut -f1)
echo "== built $DIST ($size on disk) in $((built - start)) s"
if command -v objdump >/dev/null; then  # the oldest C library the bundled binaries accept
    glibc=$(find "$DIST" -type f \( -name '*.so*' -o -name 'geoguess*' \) -exec objdump -T {} + 2>/dev/null \
            | grep -o 'GLIBC_2\.[0-9]*' | sort -uV | tail -1 || true)
    echo "   needs ${glibc/_/ } or newer on the user's system"
fi
if [ "$ARCHIVE" = 1 ]; then
    archive=dist/GeoGuess-$VERSION-linux-$(uname -m).tar.gz
    tar -C dist -czf "$archive" GeoGuess
    echo "== packed $archive ($(du -h "$archive" | cut -f1))"
fi
