"""The main window: photo, guesses and map side by side, a filmstrip of loaded photos.

The window arranges its parts and passes events between them; each part lives in its own module:
the filmstrip (filmstrip.py), the model and its menus (model_controller.py), the status bar
(status_bar.py) and geotagging (geotag_actions.py). The model loads and photos are predicted in the
background (TaskRunner, and the engine's own MXNet thread); the GUI thread never waits.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QImage
from PySide6.QtWidgets import QFileDialog, QMainWindow, QSplitter, QVBoxLayout, QWidget

from ..core.geo.search import shared_search
from ..core.names import display_path
from ..core.photos.decode import PHOTO_EXTENSIONS, open_photo
from ..core.photos.pairs import list_with_twins
from ..core.predict.results import PhotoResult
from ..core.threads import lower_background_priority
from ..resources import resources_dir
from . import settings
from .filmstrip import Filmstrip, gps_kind
from .geotag_actions import GeotagActions
from .map_view import MapView, heat_payload
from .model_controller import PREVIEW_SIDE, ModelBanner, ModelController
from .photo_panel import PhotoPanel, photo_over_guesses
from .place_search import PlaceSearch
from .prediction_queue import PredictionQueue
from .qt_helpers import qimage_from_array, show_error
from .results_panel import ResultsPanel
from .status_bar import StatusBar
from .tasks import TaskRunner, log_failure
from .window_menus import build_menus

PREVIEWS_KEPT = 40
# Where the keyboard is: a ring around the guesses and the filmstrip (the same width with and
# without focus, so nothing moves); a button shows its focus in the style's own way.
FOCUS_RING = """
QAbstractItemView#guesses, QAbstractItemView#filmstrip { border: 1px solid palette(mid); padding: 1px; }
QAbstractItemView#guesses:focus, QAbstractItemView#filmstrip:focus { border: 2px solid palette(highlight); padding: 0; }
"""


class MainWindow(QMainWindow):
    modelReady = Signal(object)  # Engine
    modelFailed = Signal(str)
    predictionShown = Signal(object)  # PhotoResult, once its photo, rows and map are updated
    photoWritten = Signal(str, str)  # path, outcome ("written: ..." or "refused: ..." or "cancelled")
    # made by build_menus (window_menus.py), in __init__
    stop_action: QAction  # Go > Stop predicting, enabled while photos are being predicted
    heat_action: QAction  # View > Whole distribution on the map (checkable)
    search: PlaceSearch  # the toolbar's place search

    def __init__(
        self,
        model_dir: Path,
        device: str = "auto",
        runtime: str = "auto",
        precision: str = "exact",
        online_tiles: bool = True,
        ask_for_model: bool = True,
        tasks: TaskRunner | None = None,
    ):
        super().__init__()
        self.setWindowTitle("GeoGuess")
        self.setWindowIcon(QIcon(str(resources_dir() / "icons" / "geoguess.svg")))
        lower_background_priority()  # decoding and MXNet yield the cores to the GUI thread
        self.tasks = tasks or TaskRunner(self)
        self.queue = PredictionQueue(self.tasks, self)
        self.results: dict[str, PhotoResult] = {}
        self._previews: OrderedDict[str, QImage] = OrderedDict()  # the latest photos' previews, bounded
        self.current: str | None = None  # the photo shown
        self._queued: set[str] = set()  # listed and waiting for a prediction

        self.photo = PhotoPanel(self)
        self.guesses = ResultsPanel(self)
        self.map = MapView(self, online_tiles=online_tiles, drop_target=self)
        self.filmstrip = Filmstrip(self)
        self.banner = ModelBanner(self)  # what is wrong with the model, over the whole window
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.model = ModelController(
            self,
            self.tasks,
            self.queue,
            self.status,
            self.banner,
            model_dir,
            device=device,
            runtime=runtime,
            precision=precision,
            ask_for_model=ask_for_model,
        )
        self.model.photos = lambda: [path for path, result in self.results.items() if result.ok]
        self.geotag = GeotagActions(
            self, self.tasks, self.model, self.status, self.current_result, online_tiles=online_tiles
        )
        self.geotag.selected = self.filmstrip.selected_paths
        self.geotag.result_of = self.results.get
        self.geotag.selected_rank = self.guesses.selected_rank

        self.left = photo_over_guesses(self, self.photo, self.guesses)
        self.split = QSplitter(Qt.Orientation.Horizontal, self)
        self.split.addWidget(self.left)
        self.split.addWidget(self.map)
        self.split.setSizes([560, 720])
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.split, 1)
        layout.addWidget(self.filmstrip)
        self.setCentralWidget(central)
        self.setAcceptDrops(True)
        central.setStyleSheet(FOCUS_RING)

        self._build_actions()
        self.guesses.rankSelected.connect(self.map.select_rank)
        self.guesses.zoomRequested.connect(self.map.zoom_to_rank)
        self.guesses.writeRequested.connect(self.write_guess)
        self.guesses.rankSelected.connect(self.geotag.forget_adjustment)
        self.map.pinMoved.connect(self.geotag.pin_moved)
        self.geotag.pinChanged.connect(self.guesses.show_pin)
        self.map.rankClicked.connect(self.guesses.select_rank)
        self.filmstrip.pathSelected.connect(self.show_path)
        # the button counts what a write would write: after the photo shown changed too (the
        # selection changes first, while the photo shown is still the one before)
        self.filmstrip.pathSelected.connect(self._count_group)
        self.filmstrip.itemSelectionChanged.connect(self._count_group)
        self.status.cancel_button.clicked.connect(self.queue.cancel)
        self.queue.resultReady.connect(self._on_result)
        self.queue.progress.connect(self._on_progress)
        self.queue.failed.connect(self._on_queue_failed)
        self.queue.idle.connect(self._on_idle)
        self.model.ready.connect(self._forget_other_precision)
        self.model.ready.connect(self.modelReady)
        self.model.failed.connect(self.modelFailed)
        self.geotag.written.connect(self.photoWritten)
        self.geotag.gpsChanged.connect(self._gps_changed)
        self._restore_settings()
        QTimer.singleShot(0, self.model.load)  # after the window is on screen
        self.model.ready.connect(lambda _: self.tasks.run(shared_search().load))  # once the model is loaded

    def _build_actions(self) -> None:
        build_menus(self)

    # ----- geotagging (geotag_actions.py) ----------------------------------------------------
    def write_guess(self, rank: int) -> None:
        """Write the shown photo's guess of this rank (or where its pin was dragged) into it."""
        self.geotag.write_guess(rank)

    def geotag_folder(self, folder: str | None = None) -> None:
        """The batch geotagging dialog on a folder (asked for when not given)."""
        self.geotag.geotag_folder(folder)

    # ----- photos -----------------------------------------------------------------------
    def current_result(self) -> PhotoResult | None:
        """The shown photo's result, once it has been predicted."""
        return self.results.get(self.current or "")

    def open_photos(self) -> None:
        patterns = " ".join(f"*{e}" for e in sorted(PHOTO_EXTENSIONS))
        files, _ = QFileDialog.getOpenFileNames(
            self, "Open photos", settings.LAST_FOLDER.get(), f"Photos ({patterns} {patterns.upper()});;All files (*)"
        )
        if files:
            settings.LAST_FOLDER.set(str(Path(files[0]).parent))
            self.add_paths(files)

    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of photos", settings.LAST_FOLDER.get())
        if folder:
            settings.LAST_FOLDER.set(folder)
            self.add_paths([folder])

    def add_paths(self, paths: list[str]) -> None:
        """Files and folders (walked in the background) join the queue, in order; a RAW file with a
        JPEG twin (photos/pairs.py) joins as one photo with its twin."""
        self.tasks.run(
            list_with_twins,
            [Path(p) for p in paths],
            on_success=self._add_listed,
            failure_title="The photos could not be opened",
            parent=self,
        )

    def _add_listed(self, listed: tuple[list[Path], dict[str, str]]) -> None:
        """Photos opened: they join the strip, and the first of them is shown, alone selected (a new
        selection); photos opened again are not added twice. A RAW twin is named under its JPEG's
        thumbnail and written with it, never shown apart."""
        found, twins = listed
        self.geotag.twins.update({jpeg: raw for raw, jpeg in twins.items()})
        found = [p for p in found if str(p) not in twins]
        new = [str(p) for p in found if str(p) not in self.results and not self.filmstrip.contains(str(p))]
        if new:
            self.filmstrip.add_photos(new, self.geotag.twins)
            self._queued.update(new)
            self.queue.add(new)
        if found:
            self.select_path(new[0] if new else str(found[0]))

    def _count_group(self, *_args) -> None:
        self.guesses.write_to(len(self.geotag.group()))

    def _forget_other_precision(self, engine) -> None:
        """Answers of the other precision (fast or exact) are not this model's: predicted again when
        shown, so what the window shows is always what the chosen precision says."""
        precision = engine.info.precision
        stale = [p for p, r in self.results.items() if r.model is not None and r.model.precision != precision]
        for path in stale:
            del self.results[path]
        if self.current in stale:
            self.show_path(self.current)

    def select_path(self, path: str) -> None:
        self.filmstrip.select_path(path)  # which shows it

    def show_path(self, path: str) -> None:
        self.current = path
        self.setWindowTitle(f"{display_path(Path(path).name)} - GeoGuess")
        result = self.results.get(path)
        if result is None:  # the photo looked at is predicted first, and shown at once meanwhile
            self.queue.prioritize(path, add=path not in self._queued)  # not when it is being predicted
            self._queued.add(path)
            self.photo.title.setText(display_path(Path(path).name))
            self.photo.details.setText("waiting for its prediction...")
            self.guesses.show_result(None)
            self.map.clear()
            preview = self._previews.get(path)
            self.photo.image.set_image(preview, "Predicting...")
            if preview is None:
                self.tasks.run(
                    lambda: open_photo(path).preview(PREVIEW_SIDE),
                    on_success=lambda array: self._preview_ready(path, array),
                    on_failure=lambda error: log_failure(f"preview of {path}", error),
                )
            return
        preview = self._previews.get(path)
        if preview is None and result.ok:
            self.photo.show_photo(result, None)
            self.tasks.run(
                lambda: open_photo(path).preview(PREVIEW_SIDE),
                on_success=lambda array: self._preview_ready(path, array),
                on_failure=lambda error: self._preview_failed(path, error),
            )
        else:
            self.photo.show_photo(result, preview)
        self.guesses.show_result(result)
        self.map.show_result(result)
        self.geotag.forget_adjustment()  # the pin starts on the chosen guess
        self._show_heat()
        self.predictionShown.emit(result)

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def go_to_place(self, lat: float, lon: float, label: str, how: str = "searched") -> None:
        """A searched place (``how`` "searched") or typed coordinates ("typed"): the map shows it,
        and with a photo shown the pin (the position to write, as set by a person) moves there; Esc
        puts it back."""
        self.map.fly_to(lat, lon)
        result = self.current_result()
        if result is not None and result.ok:
            self.geotag.place_chosen(lat, lon, how, label)
            self.map.move_pin(lat, lon)
        where = "Typed coordinates" if how == "typed" else label  # the coordinates said once
        self.status.showMessage(f"{where}: {lat:.6f}, {lon:.6f}", 10000)

    def put_pin_back(self) -> bool:
        """Esc after dragging the pin: back on the chosen guess, which is what will be written."""
        if self.queue.busy or not self.geotag.pin_adjusted():
            return False
        self.geotag.forget_adjustment()
        self.map.select_rank(max(1, self.guesses.selected_rank()))
        return True

    def keyPressEvent(self, event):
        if event.key() == Qt.Key.Key_Escape and self.put_pin_back():
            event.accept()
            return
        super().keyPressEvent(event)

    def _show_heat(self) -> None:
        """The shown photo's whole distribution as a heat layer, when View > Whole distribution is on."""
        result = self.current_result()
        engine = self.model.engine
        if self.heat_action.isChecked() and result is not None and result.ok and engine is not None:
            self.map.show_heat(heat_payload(result, engine.classifier.grid))
        else:
            self.map.clear_heat()

    def _preview_ready(self, path: str, array) -> None:
        self._keep_preview(path, qimage_from_array(array))
        if path == self.current:
            result = self.results.get(path)
            if result is not None:
                self.photo.show_photo(result, self._previews[path])
            else:  # still waiting for its prediction
                self.photo.image.set_image(self._previews[path])

    def _preview_failed(self, path: str, error: BaseException) -> None:
        # Predicted, but it cannot be decoded again (moved or changed since): its guesses stay.
        log_failure(f"preview of {path}", error)
        if path == self.current:
            self.photo.image.set_image(None, f"This photo cannot be shown: {error}")

    def _keep_preview(self, path: str, image: QImage) -> None:
        self._previews[path] = image
        self._previews.move_to_end(path)
        while len(self._previews) > PREVIEWS_KEPT:
            self._previews.popitem(last=False)

    def _on_idle(self) -> None:
        self._queued.clear()  # all done, or the rest cancelled
        self._on_progress(0, 0)
        self.model.check_fast()  # with the fast precision, once: how often it agrees with the exact one

    def _on_result(self, result: PhotoResult) -> None:
        self.results[result.path] = result
        self._queued.discard(result.path)
        if result.preview is not None:
            image = qimage_from_array(result.preview)
            result.preview = None  # the QImage is kept instead, in a bounded cache
            self._keep_preview(result.path, image)
            self.filmstrip.set_thumbnail(result.path, image)
        elif result.error is not None:  # not result.ok
            self.filmstrip.mark_unreadable(result.path, result.error)
        self.filmstrip.set_gps(result.path, gps_kind(result))
        self.filmstrip.set_kind(result.path, result.kind, result.source_image)
        if result.path == self.current:
            self.show_path(result.path)

    def _gps_changed(self, path: str, geoguess_wrote: bool) -> None:
        """The filmstrip's badge after a write (GeoGuess's position) or its undo (what the photo had)."""
        result = self.results.get(path)
        self.filmstrip.set_gps(path, "geoguess" if geoguess_wrote else gps_kind(result) if result else None)

    def _on_progress(self, done: int, total: int) -> None:
        self.status.show_progress(done, total if self.queue.busy else 0)
        self.stop_action.setEnabled(self.queue.busy)

    def _on_queue_failed(self, message: str) -> None:
        show_error(self, "Prediction stopped", message)

    # ----- drag and drop (the map hands its drops here too) --------------------------------
    def dragEnterEvent(self, event):
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event):
        self.dragEnterEvent(event)

    def dropEvent(self, event):
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)

    # ----- settings ---------------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = settings.GEOMETRY.get()
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 860)
        for setting, splitter in ((settings.SPLIT, self.split), (settings.LEFT, self.left)):
            state = setting.get()
            if state is not None:
                splitter.restoreState(state)
        self.guesses.fit()  # the guesses take what they need whatever was saved; the photo the rest

    def closeEvent(self, event):
        settings.GEOMETRY.set(self.saveGeometry())
        settings.SPLIT.set(self.split.saveState())
        settings.LEFT.set(self.left.saveState())
        settings.DEVICE.set(self.model.device)
        self.queue.cancel()
        super().closeEvent(event)
