"""The main window: photo, guesses and map side by side, a filmstrip of loaded photos.

The window only arranges widgets and reacts to events. The model loads and photos are predicted in
the background (TaskRunner, and the engine's own MXNet thread); the GUI thread never waits.
"""

from __future__ import annotations

import gc
import logging
from collections import OrderedDict
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (QFileDialog, QLabel, QListWidget, QListWidgetItem, QMainWindow, QMessageBox,
                               QProgressBar, QPushButton, QSplitter, QVBoxLayout, QWidget)

from ..core.model import store
from ..core.errors import GeoGuessError
from ..core.geotag.journal import Journal
from ..core.photos.decode import PHOTO_EXTENSIONS, list_photos, open_photo
from ..core.engine import Engine, model_installed, open_engine
from ..core.predict.results import PhotoResult
from ..core.threads import lower_background_priority
from ..resources import resources_dir
from .dialogs import ModelDialog, describe_store, show_error
from .geotag_actions import GeotagActions
from .map_view import MapView
from .photo_panel import PhotoPanel, plain_label, qimage_from_array
from .prediction_queue import PredictionQueue
from .results_panel import ResultsPanel
from .tasks import TaskRunner

log = logging.getLogger(__name__)

PREVIEW_SIDE = 1280  # pixels: large enough for a full-screen panel, small enough to keep many
PREVIEWS_KEPT = 40
THUMB = 96
DISTRIBUTION_KEPT = 512  # cells of each photo's distribution kept in memory


class MainWindow(GeotagActions, QMainWindow):
    modelReady = Signal(object)  # LocationNet
    modelFailed = Signal(str)
    predictionShown = Signal(object)  # PhotoResult, once its photo, rows and map are updated
    photoWritten = Signal(str, str)  # path, outcome ("written: ..." or "refused: ..." or "cancelled")

    def __init__(self, model_dir: Path, device: str = "auto", online_tiles: bool = True,
                 ask_for_model: bool = True, tasks: TaskRunner | None = None):
        super().__init__()
        self.setWindowTitle("GeoGuess")
        self.setWindowIcon(QIcon(str(resources_dir() / "icons" / "geoguess.svg")))
        self.model_dir = Path(model_dir)
        self.online_tiles = online_tiles
        self.device = device
        self.ask_for_model = ask_for_model
        self.engine: Engine | None = None
        lower_background_priority()  # decoding and MXNet yield the cores to the GUI thread
        self.tasks = tasks or TaskRunner(self)
        self.queue = PredictionQueue(self.tasks, self)
        self.results: dict[str, PhotoResult] = {}
        self._previews: OrderedDict[str, object] = OrderedDict()
        self.current: str | None = None
        self.journal = Journal()  # undo journal of geotag writes
        self._adjusted: dict[str, tuple[float, float]] = {}  # photo -> position dragged on the map
        self._queued: set[str] = set()  # listed and waiting for a prediction
        self.settings = QSettings()

        self.photo = PhotoPanel(self)
        self.guesses = ResultsPanel(self)
        self.map = MapView(self, online_tiles=online_tiles, drop_target=self)
        self.filmstrip = QListWidget(self)
        self.filmstrip.setViewMode(QListWidget.ViewMode.IconMode)
        self.filmstrip.setFlow(QListWidget.Flow.LeftToRight)
        self.filmstrip.setWrapping(False)
        self.filmstrip.setIconSize(QSize(THUMB, THUMB))
        self.filmstrip.setFixedHeight(THUMB + 46)
        self.filmstrip.setUniformItemSizes(True)
        self.filmstrip.setMovement(QListWidget.Movement.Static)
        self.banner = plain_label("", self)  # what is wrong with the model, over the whole window
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)

        self.left = QSplitter(Qt.Orientation.Vertical, self)
        self.left.addWidget(self.photo)
        self.left.addWidget(self.guesses)
        self.left.setSizes([430, 330])  # room for the five rows and the write button
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

        self._build_status_bar()
        self._build_actions()
        self.guesses.rankSelected.connect(self.map.select_rank)
        self.guesses.zoomRequested.connect(self.map.zoom_to_rank)
        self.guesses.writeRequested.connect(self.write_guess)
        self.guesses.rankSelected.connect(lambda _rank: self._adjusted.pop(self.current or "", None))
        self.map.pinMoved.connect(self._pin_moved)
        self.map.rankClicked.connect(self.guesses.select_rank)
        self.filmstrip.currentItemChanged.connect(self._on_filmstrip)
        self.queue.resultReady.connect(self._on_result)
        self.queue.progress.connect(self._on_progress)
        self.queue.failed.connect(self._on_queue_failed)
        self.queue.idle.connect(self._on_idle)
        self._restore_settings()
        QTimer.singleShot(0, self.load_model)  # after the window is on screen

    # ----- layout pieces -------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.model_label = plain_label("Model: loading...", self)
        self.device_label = plain_label("", self)
        self.untrained_label = QLabel("UNTRAINED", self)  # or UNVERIFIED: see _show_model_warning
        self.untrained_label.setVisible(False)
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.setTextVisible(False)
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(200)
        self.progress.setFormat("%v of %m photos")
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.queue.cancel)
        bar.addWidget(self.model_label)
        bar.addWidget(self.untrained_label)
        bar.addWidget(self.device_label)
        bar.addWidget(self.busy)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)

    def _action(self, text: str, slot, shortcut=None, menu=None, toolbar=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
        action.triggered.connect(slot)
        if menu is not None:
            menu.addAction(action)
        if toolbar is not None:
            toolbar.addAction(action)
        return action

    def _build_actions(self) -> None:
        menus = self.menuBar()
        tools = self.addToolBar("Main")
        tools.setObjectName("main-toolbar")
        file_menu = menus.addMenu("&File")
        self._action("&Open photos...", self.open_photos, QKeySequence.StandardKey.Open, file_menu, tools)
        self._action("Open &folder...", self.open_folder, "Ctrl+Shift+O", file_menu, tools)
        self._action("&Geotag a folder...", self.geotag_folder, "Ctrl+G", file_menu, tools)
        file_menu.addSeparator()
        self._action("&Quit", self.close, QKeySequence.StandardKey.Quit, file_menu)
        go = menus.addMenu("&Go")
        self._action("&Previous photo", lambda: self.step(-1), [QKeySequence("Left"), QKeySequence("PgUp")], go)
        self._action("&Next photo", lambda: self.step(1), [QKeySequence("Right"), QKeySequence("PgDown")], go)
        self.copy_action = self._action("&Copy selected place", self.guesses.copy_selected,
                                        QKeySequence.StandardKey.Copy, go)
        self.stop_action = self._action("&Stop predicting", self.queue.cancel, "Esc", go, tools)
        self.device_menu = menus.addMenu("&Device")
        self.device_group = QActionGroup(self)
        self._populate_devices(0)
        model_menu = menus.addMenu("&Model")
        self._action("&Download...", lambda: self.ask_model(""), None, model_menu)
        self._action("&Import folder...", self.import_model, None, model_menu)
        self._action("Model &information...", self.model_info, None, model_menu)
        help_menu = menus.addMenu("&Help")
        self._action("&About GeoGuess", self.about, None, help_menu)

    def _populate_devices(self, gpus: int) -> None:
        self.device_menu.clear()
        for action in self.device_group.actions():
            self.device_group.removeAction(action)
        choices = [("auto", "&Auto (GPU if available)"), ("cpu", "&CPU")]
        choices += [(f"gpu:{i}", f"&GPU {i}") for i in range(gpus)]
        for spec, label in choices:
            action = QAction(label, self, checkable=True)
            action.setData(spec)
            action.setChecked(spec == self.device)
            action.triggered.connect(lambda _=False, s=spec: self.set_device(s))
            self.device_group.addAction(action)
            self.device_menu.addAction(action)

    # ----- model ------------------------------------------------------------------------
    def load_model(self) -> None:
        self.engine = None
        self.queue.set_predictor(None)
        self.busy.setVisible(True)
        self.model_label.setText("Model: loading...")
        if not model_installed(self.model_dir):
            self._model_failed(f"No model installed in {self.model_dir}.", missing=True)
            return
        folder, device = self.model_dir, self.device

        self.tasks.run(lambda: open_engine(folder, device).result(), self._model_loaded)

    def _model_loaded(self, future: Future) -> None:
        error = future.exception()
        if error is not None:
            if not isinstance(error, GeoGuessError):
                log.error("model load failed", exc_info=error)
            self._model_failed(str(error), missing=False)
            return
        engine = future.result()
        self.engine = engine
        self.busy.setVisible(False)
        self._populate_devices(engine.gpus)
        info = engine.info
        self.model_label.setText(f"Model: {info.short_name}")
        self.model_label.setToolTip(f"{info.name}\n{info.folder}")
        self.device_label.setText(f"Device: {info.device}")
        self._show_model_warning(info)
        self.queue.set_predictor(engine.predictor(top_k=5, preview_size=PREVIEW_SIDE, keep=DISTRIBUTION_KEPT))
        # The objects loaded so far (MXNet's modules, the model, the place names) live as long as
        # the program: keep them out of Python's full garbage collections, which otherwise walk
        # them all on the GUI thread (measured: 47 ms pauses while photos are predicted).
        gc.freeze()
        self.modelReady.emit(engine)

    def _show_model_warning(self, info) -> None:
        """UNTRAINED (red) or UNVERIFIED (amber) in the status bar and a banner over the window."""
        if info.untrained:
            badge, colour = "UNTRAINED", "#b00020"
            text = ("UNTRAINED MODEL: this is a stand-in with random weights. "
                    "Its predictions are random and mean nothing.")
        elif not info.verified:
            badge, colour = "UNVERIFIED", "#a05a00"
            text = (f"UNVERIFIED MODEL: the files in {info.folder} are not the published LocationNet files "
                    "(their md5 sums differ). Its answers are not LocationNet's and cannot be trusted.")
        else:
            self.untrained_label.setVisible(False)
            self.banner.setVisible(False)
            return
        self.untrained_label.setText(badge)
        self.untrained_label.setStyleSheet(f"color: white; background: {colour}; font-weight: bold; padding: 0 6px")
        self.banner.setText(text)
        self.banner.setStyleSheet(f"background: {colour}; color: white; font-weight: bold; padding: 6px")
        self.untrained_label.setVisible(True)
        self.banner.setVisible(True)

    def _model_failed(self, message: str, missing: bool) -> None:
        self.busy.setVisible(False)
        self.model_label.setText("Model: not loaded")
        self.model_label.setToolTip(message)
        self.statusBar().showMessage(message, 15000)
        self.modelFailed.emit(message)
        if missing and self.ask_for_model:
            self.ask_model(message)
        elif not missing:
            show_error(self, "The model could not be loaded", message)

    def ask_model(self, reason: str = "") -> None:
        dialog = ModelDialog(self.tasks, self.model_dir, self, reason)
        dialog.accepted.connect(self.load_model)
        self.model_dialog = dialog
        dialog.open()

    def import_model(self) -> None:
        self.ask_model("")
        self.model_dialog.choose_import()

    def model_info(self) -> None:
        def done(future: Future) -> None:
            text = describe_store(future.result()) if future.exception() is None else str(future.exception())
            if self.engine is not None:
                text += f"\n\nLoaded on {self.engine.info.device}: {self.engine.info.num_classes:,} cells."
            box = QMessageBox(QMessageBox.Icon.Information, "Model information", text, parent=self)
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.open()
            self.info_box = box

        self.tasks.run(store.inspect_folder, done, self.model_dir)

    def set_device(self, spec: str) -> None:
        if spec != self.device:
            self.device = spec
            self.settings.setValue("device", spec)
            self.queue.cancel()
            self.load_model()

    # ----- photos -----------------------------------------------------------------------
    def open_photos(self) -> None:
        patterns = " ".join(f"*{e}" for e in sorted(PHOTO_EXTENSIONS))
        files, _ = QFileDialog.getOpenFileNames(self, "Open photos", self._last_folder(),
                                                f"Photos ({patterns} {patterns.upper()});;All files (*)")
        if files:
            self.settings.setValue("last_folder", str(Path(files[0]).parent))
            self.add_paths(files)

    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of photos", self._last_folder())
        if folder:
            self.settings.setValue("last_folder", folder)
            self.add_paths([folder])

    def _last_folder(self) -> str:
        return str(self.settings.value("last_folder", str(Path.home())))

    def add_paths(self, paths: list[str]) -> None:
        """Files and folders (walked in the background) join the queue, in order."""
        self.tasks.run(list_photos, self._add_listed, [Path(p) for p in paths])

    def _add_listed(self, future: Future) -> None:
        new = [str(p) for p in future.result() if str(p) not in self.results and not self._in_strip(str(p))]
        if not new:
            return
        for path in new:
            item = QListWidgetItem(Path(path).name)
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(path)
            item.setIcon(self._placeholder_icon())
            self.filmstrip.addItem(item)
        self._queued.update(new)
        self.queue.add(new)
        self.select_path(new[0])

    def _in_strip(self, path: str) -> bool:
        return self._strip_row(path) >= 0

    def _strip_row(self, path: str) -> int:
        for row in range(self.filmstrip.count()):
            if self.filmstrip.item(row).data(Qt.ItemDataRole.UserRole) == path:
                return row
        return -1

    def _placeholder_icon(self) -> QIcon:
        pixmap = QPixmap(THUMB, THUMB)
        pixmap.fill(Qt.GlobalColor.lightGray)
        return QIcon(pixmap)

    def select_path(self, path: str) -> None:
        row = self._strip_row(path)
        if row >= 0:
            self.filmstrip.setCurrentRow(row)

    def step(self, delta: int) -> None:
        row = self.filmstrip.currentRow() + delta
        if 0 <= row < self.filmstrip.count():
            self.filmstrip.setCurrentRow(row)

    def _on_filmstrip(self, item, _previous) -> None:
        if item is not None:
            self.show_path(item.data(Qt.ItemDataRole.UserRole))

    def show_path(self, path: str) -> None:
        self.current = path
        result = self.results.get(path)
        if result is None:
            if path not in self._queued:  # its prediction was cancelled: do it now
                self._queued.add(path)
                self.queue.add([path])
            self.photo.title.setText(Path(path).name)
            self.photo.details.setText("waiting for its prediction...")
            self.photo.image.set_image(None, "Predicting...")
            self.guesses.show_result(None)
            self.map.clear()
            return
        preview = self._previews.get(path)
        if preview is None and result.ok:
            self.photo.show_photo(result, None)
            self.tasks.run(lambda: open_photo(path).preview(PREVIEW_SIDE), lambda f: self._preview_ready(path, f))
        else:
            self.photo.show_photo(result, preview)
        self.guesses.show_result(result)
        self.map.show_result(result)
        self.predictionShown.emit(result)

    def _preview_ready(self, path: str, future: Future) -> None:
        if future.exception() is None:
            self._keep_preview(path, qimage_from_array(future.result()))
            if path == self.current:
                self.photo.show_photo(self.results[path], self._previews[path])

    def _keep_preview(self, path: str, image) -> None:
        self._previews[path] = image
        self._previews.move_to_end(path)
        while len(self._previews) > PREVIEWS_KEPT:
            self._previews.popitem(last=False)

    def _on_idle(self) -> None:
        self._queued.clear()  # all done, or the rest cancelled
        self._on_progress(0, 0)

    def _on_result(self, result: PhotoResult) -> None:
        self.results[result.path] = result
        self._queued.discard(result.path)
        row = self._strip_row(result.path)
        if result.preview is not None:
            image = qimage_from_array(result.preview)
            result.preview = None  # the QImage is kept instead, in a bounded cache
            self._keep_preview(result.path, image)
            if row >= 0:
                thumb = image.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation)
                self.filmstrip.item(row).setIcon(QIcon(QPixmap.fromImage(thumb)))
        elif row >= 0 and not result.ok:
            self.filmstrip.item(row).setIcon(self.style().standardIcon(self.style().StandardPixmap.SP_MessageBoxWarning))
            self.filmstrip.item(row).setToolTip(f"{result.path}\n{result.error}")
        if result.path == self.current:
            self.show_path(result.path)

    def _on_progress(self, done: int, total: int) -> None:
        active = total > 0 and self.queue.busy
        self.progress.setVisible(active)
        self.cancel_button.setVisible(active)
        if active:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _on_queue_failed(self, message: str) -> None:
        show_error(self, "Prediction stopped", message)

    # ----- drag and drop (the map hands its drops here too) --------------------------------
    def dragEnterEvent(self, event):  # noqa: N802
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event):  # noqa: N802
        self.dragEnterEvent(event)

    def dropEvent(self, event):  # noqa: N802
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)

    # ----- settings ---------------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 860)
        for key, splitter in (("split", self.split), ("left", self.left)):
            state = self.settings.value(key)
            if state is not None:
                splitter.restoreState(state)

    def closeEvent(self, event):  # noqa: N802
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("split", self.split.saveState())
        self.settings.setValue("left", self.left.saveState())
        self.settings.setValue("device", self.device)
        self.queue.cancel()
        super().closeEvent(event)

    def about(self) -> None:
        QMessageBox.about(
            self, "About GeoGuess",
            "GeoGuess guesses where a photo was taken with LocationNet, an open re-implementation "
            "of Google's PlaNet (Weyand et al., 2016). Its answers are predictions, not "
            "measurements. Map data: Natural Earth, OpenStreetMap contributors.")
