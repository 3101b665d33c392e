#!/bin/sh
# Install GeoGuess from this folder for the current user (or system-wide with PREFIX=/usr/local,
# as root): the commands geoguess-app and geoguess in PREFIX/bin, the desktop entry, the AppStream
# metainfo and the icon in PREFIX/share. The folder itself stays where it is; move it first if you
# want it elsewhere. ./install.sh --uninstall removes what was installed.
set -eu
APP_ID=org.geoguess.GeoGuess
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${PREFIX:-$HOME/.local}
BIN=$PREFIX/bin
SHARE=$PREFIX/share
DESKTOP=$SHARE/applications/$APP_ID.desktop
METAINFO=$SHARE/metainfo/$APP_ID.metainfo.xml
ICON=$SHARE/icons/hicolor/scalable/apps/$APP_ID.svg

refresh() {
    if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q "$SHARE/applications" || true; fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" || true; fi
}

if [ "${1:-}" = "--uninstall" ]; then
    for link in "$BIN/geoguess-app" "$BIN/geoguess"; do
        if [ -L "$link" ]; then rm -f "$link"; fi
    done
    rm -f "$DESKTOP" "$METAINFO" "$ICON"
    refresh
    echo "GeoGuess uninstalled from $PREFIX (this folder, your settings and the model were left alone)"
    exit 0
fi
if [ $# -gt 0 ]; then
    echo "usage: ./install.sh [--uninstall]   (PREFIX=$PREFIX)" >&2
    exit 2
fi

mkdir -p "$BIN" "$(dirname "$DESKTOP")" "$(dirname "$METAINFO")" "$(dirname "$ICON")"
ln -sf "$HERE/geoguess-app" "$BIN/geoguess-app"
ln -sf "$HERE/geoguess" "$BIN/geoguess"
# The desktop entry starts this folder's program by its full path, so it works even where
# PREFIX/bin is not on the desktop session's PATH; the path is quoted and escaped as the Desktop
# Entry specification asks (a backslash becomes four, `"$ get two, % doubles).
quoted=$(printf '%s' "$HERE/geoguess-app" | sed -e 's/\\/\\\\\\\\/g' -e 's/["`$]/\\\\&/g' -e 's/%/%%/g')
tryexec=$(printf '%s' "$HERE/geoguess-app" | sed -e 's/\\/\\\\/g')
while IFS= read -r line; do
    case $line in
        Exec=geoguess-app*) printf 'Exec="%s"%s\n' "$quoted" "${line#Exec=geoguess-app}" ;;
        TryExec=*) printf 'TryExec=%s\n' "$tryexec" ;;
        *) printf '%s\n' "$line" ;;
    esac
done < "$HERE/share/applications/$APP_ID.desktop" > "$DESKTOP"
cp "$HERE/share/metainfo/$APP_ID.metainfo.xml" "$METAINFO"
cp "$HERE/share/icons/hicolor/scalable/apps/$APP_ID.svg" "$ICON"
refresh
echo "GeoGuess installed: run geoguess-app (in $BIN) or find GeoGuess in your applications menu"
case ":$PATH:" in *":$BIN:"*) ;; *) echo "note: $BIN is not on your PATH" ;; esac
