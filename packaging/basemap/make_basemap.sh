#!/usr/bin/env bash
# Makes the offline map's detailed layers under resources/web/vendor/basemap/ from npm packages
# (pinned by version and tarball sha256; mapshaper does the simplifying). Run once by hand when a
# source changes; the results are committed. Needs node and npm.
#
#   countries-10m.js  Natural Earth 1:10m countries and land (public domain), from world-atlas 2.0.2:
#                     the map draws it from zoom 5 on, instead of the 1:50m countries.
#   water.js          lakes and wide rivers of 10 km2 or more, from @geo-maps/earth-lakes-10m and
#                     earth-rivers-10m 0.6.0 (OpenStreetMap data, (c) OpenStreetMap contributors,
#                     ODbL 1.0), simplified to about 300 m and quantised to about 400 m, split into
#                     10-degree tiles (one TopoJSON object per tile, named "lonTile_latTile") so the
#                     map only turns the tiles in view into shapes.
# Natural Earth's own 1:10m lakes, rivers and roads are not on any registry this project can reach,
# so the water is OpenStreetMap's and there are no roads.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/../../resources/web/vendor/basemap"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fetch() {  # npm package, version, sha256 of its tarball
    local tarball
    tarball=$(npm pack --silent "$1@$2")
    echo "$3  $tarball" | sha256sum -c --quiet -
    mkdir -p "$1"
    tar xzf "$tarball" -C "$1" --strip-components=1
}

fetch world-atlas 2.0.2 032e7765f2ce00edaeafec23ff22bc3b77e42987c257da944cc585b452c05b97
fetch @geo-maps/earth-lakes-10m 0.6.0 c5571c3700c52a9c7b503c4cb5cd81ff723f7378145a9c3e06b24509472cde23
fetch @geo-maps/earth-rivers-10m 0.6.0 64b22e532023d2e752da192e490f03608aa481dfbedc23f539c792d01809457d
npm install --silent --no-save mapshaper@0.6.121 >/dev/null

mkdir -p "$OUT"
{
    echo "// Natural Earth 1:10m countries and land (public domain) as TopoJSON, from world-atlas 2.0.2 countries-10m.json."
    printf 'window.GEOGUESS_COUNTRIES_10M = '
    cat world-atlas/countries-10m.json
    echo ";"
} > "$OUT/countries-10m.js"

npx --no-install mapshaper -i @geo-maps/earth-lakes-10m/map.geo.json @geo-maps/earth-rivers-10m/map.geo.json \
    combine-files -merge-layers force -explode -filter 'this.area > 1e7' \
    -simplify interval=300 keep-shapes -filter-islands min-area=5e6 \
    -each 't=Math.floor(this.centroidX/10)+"_"+Math.floor(this.centroidY/10)' -filter-fields t -split t \
    -o format=topojson quantization=100000 combine-layers water.json
{
    echo "// Lakes and wide rivers of 10 km2 or more, (c) OpenStreetMap contributors, ODbL 1.0: @geo-maps/earth-lakes-10m and"
    echo "// earth-rivers-10m 0.6.0, simplified by packaging/basemap/make_basemap.sh; one TopoJSON object per 10-degree tile."
    printf 'window.GEOGUESS_WATER = '
    cat water.json
    echo ";"
} > "$OUT/water.js"
ls -l "$OUT"
