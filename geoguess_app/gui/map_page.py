"""The map page: made once with folium, pointing at the vendored web assets, saved to a file.

folium writes the Leaflet map and its set-up script; its default CDN links (Leaflet, jQuery,
Bootstrap, Font Awesome) are replaced by the copies under resources/web/vendor, and only Leaflet
is kept. Updates after that go through JavaScript (resources/web/map.js), never a new page.
"""

from __future__ import annotations

import json
from pathlib import Path

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink

from ..resources import resources_dir

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def build_map_page(out_dir: Path, online_tiles: bool = True) -> Path:
    web = resources_dir() / "web"
    vendor = web / "vendor"

    class OfflineMap(folium.Map):
        default_js = [("leaflet", (vendor / "leaflet" / "leaflet.js").as_uri())]
        default_css = [("leaflet_css", (vendor / "leaflet" / "leaflet.css").as_uri())]

    fmap = OfflineMap(
        location=[25, 10], zoom_start=2, min_zoom=1, tiles=None, world_copy_jump=True, control_scale=False
    )
    root = fmap.get_root()
    assert isinstance(root, Figure)  # folium puts every Map in a Figure (typed Element in branca)
    root.header.add_child(CssLink((web / "map.css").as_uri()), name="geoguess_css")
    for name, url in (
        ("qwebchannel", "qrc:///qtwebchannel/qwebchannel.js"),
        ("topojson", (vendor / "topojson-client" / "topojson-client.min.js").as_uri()),
        ("countries", (vendor / "world-atlas" / "countries-50m.js").as_uri()),
        ("geoguess_js", (web / "map.js").as_uri()),
    ):
        root.header.add_child(JavascriptLink(url), name=name)
    # the offline detail (8 MiB of script) is loaded the first time the map is zoomed in close
    # enough, so that it never delays the page's start (0.3 s here)
    detail = [(vendor / "basemap" / name).as_uri() for name in ("countries-10m.js", "water.js")]
    options = {"tiles": OSM_TILES if online_tiles else None, "detail": detail}
    # folium declares the map in its own script, rendered after this one: start once all ran.
    root.script.add_child(
        Element(
            f"window.addEventListener('load', function () {{ geoguess.init({fmap.get_name()}, {json.dumps(options)}); }});"
        )
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / "map.html"
    page.write_text(root.render(), encoding="utf-8")
    return page
