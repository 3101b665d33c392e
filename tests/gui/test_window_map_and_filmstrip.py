"""What a person reads on the map and the filmstrip: the offline map's town names (once close enough,
never piled up, never under the banner or the scale), its lakes and coasts, both scales whole, a
legend for the heat layer; names lined up under the thumbnails, and a badge on those of photos that
have a GPS position."""

from __future__ import annotations

import json

from helpers import copy_photo
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from window_helpers import HOPPER, WAIT, markers, shown

# The boxes of the town names, and of what the page draws over the map, as the page lays them out.
COVERED = """(function () {
  function box(e) { var r = e.getBoundingClientRect(); return r.width && r.height ? r : null; }
  var over = [".gg-untrained", ".leaflet-control-scale", ".leaflet-control-attribution", ".leaflet-control-zoom",
              ".gg-legend"].map(function (s) { var e = document.querySelector(s); return e && box(e); })
              .filter(function (r) { return r; });
  var names = Array.prototype.slice.call(document.querySelectorAll(".gg-place")).map(box).filter(function (r) { return r; });
  var hidden = names.filter(function (a) { return over.some(function (b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom; }); });
  return JSON.stringify({names: names.length, hidden: hidden.length});
})()"""

LEGEND = """JSON.stringify((function () {
  var e = document.querySelector(".gg-legend");
  return e ? {shown: e.offsetParent !== null && getComputedStyle(e).display !== "none", text: e.textContent} : null;
})())"""


def page(qtbot, window, script: str):
    box = {}
    window.map.page().runJavaScript(script, 0, lambda t: box.__setitem__("v", json.loads(t) if t else None))
    qtbot.waitUntil(lambda: "v" in box, timeout=WAIT)
    return box["v"]


def test_town_names_never_hide_under_the_banner_or_the_scale(qtbot, window, corpus_dir):
    from geoguess_app.core.geo.search import shared_search

    shared_search().load()
    shown(qtbot, window, corpus_dir / HOPPER, lambda: window.add_paths([str(corpus_dir / HOPPER)]))
    assert window.banner.isVisible()  # and the map's own banner: the stand-in's places are random
    for lat, lon, zoom in ((47.2, 8.3, 8), (46.52, 6.63, 9), (48.14, 11.58, 8), (45.46, 9.19, 9)):
        window.map.fly_to(lat, lon, zoom)
        qtbot.waitUntil(lambda: page(qtbot, window, COVERED)["names"] > 10, timeout=WAIT)
        qtbot.wait(200)  # the last view's names are drawn
        seen = page(qtbot, window, COVERED)
        assert seen["hidden"] == 0, (lat, lon, seen)


def test_the_heat_layer_has_a_legend(qtbot, window, corpus_dir):
    result = shown(qtbot, window, corpus_dir / HOPPER, lambda: window.add_paths([str(corpus_dir / HOPPER)]))
    assert not (page(qtbot, window, LEGEND) or {}).get("shown")
    QTest.keySequence(window, "Ctrl+D")  # View > Whole distribution on the map
    markers(qtbot, window, 7)  # the heat layer is drawn
    legend = page(qtbot, window, LEGEND)
    assert legend and legend["shown"], legend
    best = f"{result.predictions[0].probability * 100:.1f}%"
    assert best in legend["text"] and "likely" in legend["text"], legend["text"]
    QTest.keySequence(window, "Ctrl+D")
    markers(qtbot, window, 6)
    assert not page(qtbot, window, LEGEND)["shown"]


def badge_colour(strip, row: int) -> QColor:
    """The colour at the top right corner of the thumbnail, where the GPS badge goes."""
    from geoguess_app.gui.filmstrip import badge_rect

    image = strip.viewport().grab().toImage()
    rect = badge_rect(strip, row)
    return image.pixelColor(rect.left() + 3, rect.center().y())  # beside its text


def test_the_filmstrip_badges_photos_with_a_gps_position(qtbot, window, corpus_dir, tmp_path, monkeypatch):
    from geoguess_app.core.geotag.journal import Journal
    from geoguess_app.gui.filmstrip import GEOGUESS_GPS_COLOUR, OWN_GPS_COLOUR

    folder = tmp_path / "trip"
    folder.mkdir()
    plain = copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / "a-no-gps.jpg")
    copy_photo(corpus_dir / "exiv2/test/data/exiv2-bug2565.jpg", folder / "b-own-gps.jpg")
    window.geotag.journal = Journal(tmp_path / "journal.jsonl")
    monkeypatch.setattr(window.geotag, "confirm", lambda title, text: True)
    shown(qtbot, window, str(plain), lambda: window.add_paths([str(folder)]))
    qtbot.waitUntil(lambda: len(window.results) == 2, timeout=WAIT)
    strip = window.filmstrip
    qtbot.wait(100)
    assert badge_colour(strip, 1) == QColor(OWN_GPS_COLOUR)  # its own GPS
    assert badge_colour(strip, 0) != QColor(OWN_GPS_COLOUR) and badge_colour(strip, 0) != QColor(GEOGUESS_GPS_COLOUR)
    assert "has its own GPS position" in strip.item(1).toolTip()
    with qtbot.waitSignal(window.photoWritten, timeout=WAIT):
        window.guesses.write_button.click()
    qtbot.waitUntil(lambda: badge_colour(strip, 0) == QColor(GEOGUESS_GPS_COLOUR), timeout=WAIT)
    assert "GeoGuess wrote a position into it" in strip.item(0).toolTip()
    with qtbot.waitSignal(window.geotag.undo.undone, timeout=WAIT):
        QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: badge_colour(strip, 0) != QColor(GEOGUESS_GPS_COLOUR), timeout=WAIT)
    assert "GPS" not in strip.item(0).toolTip()


def test_both_map_scales_hold_their_labels(qtbot, window, corpus_dir):
    shown(qtbot, window, corpus_dir / HOPPER, lambda: window.add_paths([str(corpus_dir / HOPPER)]))
    box = {}
    script = """(function () {
      var map = window[Object.keys(window).find(function (k) { return k.indexOf("map_") === 0; })];
      var seen = [];
      [20, 40, 60].forEach(function (lat) { for (var z = 1; z <= 12; z++) {
        map.setView([lat, 10], z, { animate: false });
        document.querySelectorAll(".leaflet-control-scale-line").forEach(function (e) {
          seen.push([e.textContent, e.scrollWidth <= e.clientWidth]);
        });
      } });
      return JSON.stringify(seen);
    })()"""
    window.map.page().runJavaScript(script, 0, lambda value: box.__setitem__("lines", json.loads(value)))
    qtbot.waitUntil(lambda: "lines" in box, timeout=WAIT)
    units = {text.split()[-1] for text, _ in box["lines"]}
    assert {"km", "mi"} <= units and len(box["lines"]) == 2 * 3 * 12
    cut = [text for text, fits in box["lines"] if not fits]
    assert not cut, cut  # "1000 mi" was cut to "1000 m"


def test_the_offline_map_names_towns_once_close_enough_without_piling_them_up(qtbot, window):
    from geoguess_app.core.geo.search import shared_search

    shared_search().load()  # built in the background at start-up; here, surely before the map asks

    def labels_at(lat: float, lon: float, zoom: int, expected: str | None = "Lausanne") -> list[str]:
        window.map.fly_to(lat, lon, zoom)
        box = {}

        def drawn():  # the page asks GeoGuess for the view's places once it has moved, then draws them
            box.pop("labels", None)
            window.map.page().runJavaScript(
                "JSON.stringify(geoguess.placeLabels())", 0, lambda text: box.__setitem__("labels", json.loads(text))
            )
            qtbot.waitUntil(lambda: "labels" in box, timeout=WAIT)
            return expected is None or expected in box["labels"]

        qtbot.wait(300)
        qtbot.waitUntil(drawn, timeout=WAIT)
        return box["labels"]

    assert labels_at(46.52, 6.63, 3, expected=None) == []  # the whole world: the basemap alone
    close = labels_at(46.52, 6.63, 11)  # Lausanne and its neighbours
    assert "Lausanne" in close and 5 <= len(close) <= 300
    assert len(close) == len(set(close)) or len(close) - len(set(close)) < 3  # namesakes aside
    region = labels_at(46.52, 6.63, 8, expected="Genève")  # the view moved: its own labels
    assert "Genève" in region and "Lausanne" in region and len(region) < 150  # thinned: no pile of labels
    box = {}
    window.map.page().runJavaScript("geoguess.placesOverlapping()", 0, lambda n: box.__setitem__("n", n))
    qtbot.waitUntil(lambda: "n" in box, timeout=WAIT)
    assert box["n"] == 0  # no name drawn over another


def test_the_offline_map_draws_lakes_and_fine_coasts_at_a_cells_zoom(qtbot, window):
    def basemap_at(lat: float, lon: float, zoom: int, probe: tuple[float, float]) -> dict:
        window.map.fly_to(lat, lon, zoom)
        box = {}

        def drawn():  # the detail is loaded the first time it is needed, then drawn
            box.pop("b", None)
            window.map.page().runJavaScript(
                f"JSON.stringify(geoguess.basemap({probe[0]}, {probe[1]}))",
                0,
                lambda t: box.__setitem__("b", json.loads(t)),
            )
            qtbot.waitUntil(lambda: "b" in box, timeout=WAIT)
            return zoom < 5 or box["b"]["countries"] == "10m"

        qtbot.wait(300)
        qtbot.waitUntil(drawn, timeout=WAIT)
        return box["b"]

    world = basemap_at(46.45, 6.55, 3, (46.45, 6.55))
    assert world == {"countries": "50m", "water_tiles": [], "water_shapes": 0, "water_here": 0}  # light far out
    lake = basemap_at(46.45, 6.55, 9, (46.45, 6.55))  # Lake Geneva, between Lausanne and Évian
    assert lake["countries"] == "10m" and "0_4" in lake["water_tiles"] and lake["water_here"] >= 1
    assert lake["water_shapes"] > 50
    land = basemap_at(46.45, 6.55, 9, (46.80, 7.15))  # Fribourg, on land: no lake there
    assert land["water_here"] == 0
    window.map.fly_to(35.0, 135.9, 9)  # Lake Biwa: the tiles follow the view
    qtbot.wait(300)
    biwa = basemap_at(35.25, 136.1, 9, (35.25, 136.1))
    assert "13_3" in biwa["water_tiles"] and "0_4" not in biwa["water_tiles"] and biwa["water_here"] >= 1


def test_filmstrip_names_line_up_and_fit_about_twenty_characters(qtbot, window, corpus_dir, tmp_path):
    folder = tmp_path / "names"
    folder.mkdir()
    copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / "medium_name_2019.jpg")
    copy_photo(corpus_dir / HOPPER, folder / "x.jpg")  # square; the other is 3:2
    with qtbot.waitSignal(window.queue.idle, timeout=WAIT):
        window.add_paths([str(folder)])
    strip = window.filmstrip
    rects = [strip.visualItemRect(strip.item(row)) for row in range(strip.count())]
    assert len({(r.top(), r.height()) for r in rects}) == 1  # every name at the same height
    icons = {strip.item(row).icon().availableSizes()[0].toTuple() for row in range(strip.count())}
    assert len(icons) == 1  # thumbnails of any shape in icons of one size
    assert min(r.width() for r in rects) >= strip.fontMetrics().horizontalAdvance("medium_name_2019.jpg")
