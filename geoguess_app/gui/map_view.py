"""The map widget: a Leaflet page in a QWebEngineView, behind a small interface.

    show_result(result) / show_points(points, track) / focus_point(n) / show_heat(cells) / clear()
    / select_rank(rank) / markers(callback)
    signal rankClicked(int), signal ready()

The page is loaded once from a file; JavaScript sent before the page has said it is ready is
queued (as Anki's webview does), and clicks come back through a QWebChannel bridge. The view
never takes drops: they are handed to ``drop_target`` (the main window).
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineSettings
from PySide6.QtWebEngineWidgets import QWebEngineView

from ..core.geo.search import shared_search
from ..core.predict.results import PhotoResult
from .map_page import build_map_page

log = logging.getLogger(__name__)


def result_payload(result: PhotoResult) -> dict:
    """What the page needs to draw one photo's guesses: plain data, text as text."""
    gps = result.exif_gps
    model = result.model
    assert model is not None  # a result shown on the map was predicted: its model is set
    return {
        "name": result.name,
        "untrained": model.untrained,
        "unverified": not model.untrained and not model.verified,
        "guesses": [g.to_dict() for g in result.predictions],
        "exif": {"lat": gps.lat, "lon": gps.lon} if gps else None,
    }


HEAT_CELLS = 300  # the most likely cells drawn in the heat layer


def heat_payload(result: PhotoResult, grid) -> list[dict]:
    """The most likely cells of the photo's distribution, with their corners, for ``show_heat``."""
    if result.distribution is None:
        return []
    top = result.distribution.top(HEAT_CELLS)
    return [
        {
            "corners": [list(c) for c in grid.info(int(cls)).corners],
            "lat": float(grid.lats[int(cls)]),
            "lon": float(grid.lons[int(cls)]),
            "probability": float(p),
        }
        for cls, p in zip(top.classes, top.probabilities)
    ]


class _Bridge(QObject):
    """The object the page sees as ``bridge``."""

    clicked = Signal(int)
    loaded = Signal()
    moved = Signal(float, float, bool)

    @Slot(float, float, bool)
    def positionMoved(self, lat: float, lon: float, moving: bool) -> None:  # noqa: N802 - called from JavaScript
        self.moved.emit(lat, lon, moving)

    @Slot(int)
    def markerClicked(self, rank: int) -> None:  # noqa: N802 - called from JavaScript
        self.clicked.emit(rank)

    @Slot(float, float, float, float, int, result=str)
    def placesIn(self, south: float, west: float, north: float, east: float, zoom: int) -> str:  # noqa: N802
        """The named places to label in this view (JSON [[lat, lon, name], ...]), thinned by zoom."""
        return json.dumps(shared_search().places_in(south, west, north, east, zoom))

    @Slot()
    def pageReady(self) -> None:  # noqa: N802
        self.loaded.emit()


class _LoggingPage(QWebEnginePage):
    def javaScriptConsoleMessage(self, level, message, line, source):
        log.debug("map page: %s (%s:%s)", message, source, line)


class MapView(QWebEngineView):
    rankClicked = Signal(int)
    pinMoved = Signal(float, float, bool)  # the user dragged the position to write (True: still dragging)
    ready = Signal()

    def __init__(self, parent=None, online_tiles: bool = True, drop_target: QObject | None = None):
        super().__init__(parent)
        self._ready = False
        self._queue: list[tuple[str, object]] = []
        self._drop_target = drop_target
        page = _LoggingPage(self)
        settings = page.settings()
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, True)
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, True)
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(150)
        self._resize_timer.timeout.connect(lambda: self._run("geoguess.resized()"))
        self._bridge = _Bridge(self)
        self._bridge.clicked.connect(self.rankClicked)
        self._bridge.moved.connect(self.pinMoved)
        self._bridge.loaded.connect(self._on_ready)
        self._channel = QWebChannel(page)
        self._channel.registerObject("bridge", self._bridge)
        page.setWebChannel(self._channel)
        self.setPage(page)
        self.setAcceptDrops(False)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # Tab goes past the map (in it, Tab walks the page)
        self._page_dir = Path(tempfile.mkdtemp(prefix="geoguess-map-"))
        self.load(QUrl.fromLocalFile(str(build_map_page(self._page_dir, online_tiles))))

    @property
    def is_ready(self) -> bool:
        return self._ready

    def show_result(self, result: PhotoResult) -> None:
        if result.ok:
            self._run(f"geoguess.show({json.dumps(result_payload(result))})")
        else:
            self.clear()

    def clear(self) -> None:
        self._run("geoguess.clear()")

    def show_points(
        self,
        points: list[dict],
        track: list[list[tuple[float, float]]] | None = None,
        gps_tracks: list[list[tuple[float, float]]] | None = None,
    ) -> None:
        """Many photos' answers: dicts with name, lat, lon, place, probability, accepted, untrained,
        unverified, and from fusion source (gps: the photo's own position), radius_km, evidence and
        single ({lat, lon}: the photo's own guess, drawn faint). ``track``: the answers' sequences
        in time order, each drawn as a line; ``gps_tracks``: the GPS tracks given, drawn dashed."""
        args = ", ".join(json.dumps(x) for x in (points, track or [], gps_tracks or []))
        self._run(f"geoguess.showMany({args})")

    def show_heat(self, cells: list[dict]) -> None:
        """The whole distribution under the guesses: dicts with corners and probability."""
        self._run(f"geoguess.heat({json.dumps(cells)})")

    def clear_heat(self) -> None:
        self._run("geoguess.clearHeat()")

    def select_rank(self, rank: int) -> None:
        self._run(f"geoguess.select({int(rank)})")

    def zoom_to_rank(self, rank: int) -> None:
        """Fit the view to the cell of the guess of this rank, and select it."""
        self._run(f"geoguess.zoomTo({int(rank)})")

    def focus_point(self, number: int) -> None:
        """Show the ``number``-th point of ``show_points`` (from 1) up close, in the middle of the map;
        the view then stays there when the points are drawn again."""
        self._run(f"geoguess.focus({int(number)})")

    def move_pin(self, lat: float, lon: float) -> None:
        """Move the write-position pin as a drag would."""
        self._run(f"geoguess.movePin({float(lat)}, {float(lon)})")

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._resize_timer.start()  # the page fits its guesses to the new size, once it settles

    def fly_to(self, lat: float, lon: float, zoom: int = 12) -> None:
        """Show this position up close (a searched place, typed coordinates)."""
        self._run(f"geoguess.flyTo({float(lat)}, {float(lon)}, {int(zoom)})")

    def markers(self, callback) -> None:
        """Ask the page which markers it shows; ``callback(list_of_dicts)`` on the GUI thread."""
        self._run("JSON.stringify(geoguess.report())", lambda text: callback(json.loads(text or "[]")))

    def _run(self, script: str, callback=None) -> None:
        if not self._ready:
            self._queue.append((script, callback))
            return
        if callback is None:
            self.page().runJavaScript(script)
        else:
            self.page().runJavaScript(script, 0, callback)

    def _on_ready(self) -> None:
        self._ready = True
        queued, self._queue = self._queue, []
        for script, callback in queued:
            self._run(script, callback)
        self.ready.emit()

    # Drops: the web engine would open a dropped file as a page. Its drop target is an inner
    # widget created later (the focus proxy); watch every child and hand drops on.
    def childEvent(self, event):
        super().childEvent(event)
        if event.type() == QEvent.Type.ChildAdded and event.child().isWidgetType():
            event.child().installEventFilter(self)
            event.child().setAcceptDrops(True)
            event.child().setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    def eventFilter(self, obj, event):
        if event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            if self._drop_target is not None:
                handler = {
                    QEvent.Type.DragEnter: "dragEnterEvent",
                    QEvent.Type.DragMove: "dragMoveEvent",
                    QEvent.Type.Drop: "dropEvent",
                }[event.type()]
                getattr(self._drop_target, handler)(event)
            else:
                event.ignore()
            return True
        return super().eventFilter(obj, event)
