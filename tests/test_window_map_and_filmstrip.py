"""What a person reads on the map and the filmstrip: town names never under the banner or the scale,
a legend for the heat layer, and a badge on the thumbnails of photos that have a GPS position."""

from __future__ import annotations

import json

from conftest import copy_photo
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from test_window import HOPPER, WAIT, fresh_settings, markers, shown  # noqa: F401 - fresh_settings: autouse
from test_window import window as window

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
