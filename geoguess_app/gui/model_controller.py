"""The model as the window sees it: the engine loaded in the background on the chosen device and
runtime, the Device menu (device, runtime, precision) and the Model menu (download, import,
information), and what is wrong with the model (an UNTRAINED or UNVERIFIED badge in the status bar
and a banner over the window)."""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QMenuBar, QMessageBox

from ..core.engine import (
    INSTALL,
    RUNTIME_NAMES,
    RUNTIMES,
    Engine,
    ModelInfo,
    ModelMissing,
    available_runtimes,
    fast_agreement,
    fast_refused,
    inspect_folder,
    open_engine,
)
from ..core.errors import ModelError
from ..core.predict.decoding import THREADS_SCALE_TO
from ..core.system import usable_cpus
from . import settings
from .model_dialog import ModelDialog, describe_store
from .prediction_queue import PredictionQueue
from .qt_helpers import add_action, show_error
from .status_bar import StatusBar
from .tasks import TaskRunner, log_failure

PREVIEW_SIDE = 1280  # pixels of the previews shown: large enough for a full-screen panel, small enough to keep many
DISTRIBUTION_KEPT = 512  # cells of each photo's distribution kept in memory


@dataclass(frozen=True)
class ModelWarning:
    """What to say about a model whose answers cannot be trusted."""

    badge: str  # one word for the status bar
    colour: str
    text: str  # a sentence for the banner


def model_warning(info: ModelInfo) -> ModelWarning | None:
    """UNTRAINED (red) or UNVERIFIED (amber); None for the published LocationNet files."""
    if info.untrained:
        return ModelWarning(
            "UNTRAINED",
            "#b00020",
            "UNTRAINED MODEL: this is a stand-in with random weights. Its predictions are random and mean nothing.",
        )
    if not info.verified:
        return ModelWarning(
            "UNVERIFIED",
            "#a05a00",
            f"UNVERIFIED MODEL: the files in {info.folder} are not the published LocationNet files "
            "(their md5 sums differ). Its answers are not LocationNet's and cannot be trusted.",
        )
    return None


class ModelBanner(QLabel):
    """Over the whole window: what is wrong with the model, in the warning's colour (hidden when
    nothing is)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)  # the text quotes the model's folder
        self.setWordWrap(True)
        self.setVisible(False)

    def show_warning(self, warning: ModelWarning | None) -> None:
        if warning is not None:
            self.setText(warning.text)
            self.setStyleSheet(f"background: {warning.colour}; color: white; font-weight: bold; padding: 6px")
        self.setVisible(warning is not None)


class ModelController(QObject):
    """Loads the engine (again when the device or the model changes) and hands its predictor to the
    prediction queue; owns the Device and Model menus."""

    ready = Signal(object)  # Engine, once its predictor is the queue's
    failed = Signal(str)  # why the model is not loaded

    def __init__(
        self,
        window: QMainWindow,
        tasks: TaskRunner,
        queue: PredictionQueue,
        status: StatusBar,
        banner: ModelBanner,
        model_dir: Path,
        device: str = "auto",
        runtime: str = "auto",
        precision: str = "exact",
        ask_for_model: bool = True,
    ):
        super().__init__(window)
        self._window, self._tasks, self._queue = window, tasks, queue
        self._status, self._banner = status, banner
        self.model_dir = Path(model_dir)
        self.device = device
        self.runtime, self.precision = runtime, precision
        self.agreement: str | None = None  # fast against exact on the window's photos, once measured
        self.photos: Callable[[], list[str]] = lambda: []  # the window's photos: the fast precision is checked on them
        self._checking = False
        self.ask_for_model = ask_for_model  # offer the download dialog when no model is installed
        self.engine: Engine | None = None
        self.dialog: ModelDialog | None = None  # the last download / import dialog opened
        self.info_box: QMessageBox | None = None
        self.device_menu: QMenu | None = None  # made by add_menus
        self.device_group = QActionGroup(window)
        self.runtime_group = QActionGroup(window)
        self.fast_action: QAction | None = None
        self._loads = 0  # loads started: only the latest one's engine is used

    def add_menus(self, menus: QMenuBar) -> None:
        self.device_menu = menus.addMenu("&Device")
        self._populate_devices(0)
        model_menu = menus.addMenu("&Model")
        add_action(self._window, "&Download...", lambda: self.ask_model(""), None, model_menu)
        add_action(self._window, "&Import folder...", self.import_model, None, model_menu)
        add_action(self._window, "Model &information...", self.show_info, None, model_menu)

    def _populate_devices(self, gpus: int) -> None:
        menu = self.device_menu
        assert menu is not None  # add_menus made it, with the window, before any model loads
        menu.clear()
        for action in self.device_group.actions():
            self.device_group.removeAction(action)
        choices = [("auto", "&Auto (GPU if available)"), ("cpu", "&CPU")]
        choices += [(f"gpu:{i}", f"&GPU {i}") for i in range(gpus)]
        for spec, label in choices:
            action = QAction(label, self._window, checkable=True)
            action.setData(spec)
            action.setChecked(spec == self.device)
            action.triggered.connect(lambda _=False, s=spec: self.set_device(s))
            self.device_group.addAction(action)
            menu.addAction(action)
        self._add_gpu_status(menu)
        self._add_runtimes(menu)

    def _add_gpu_status(self, menu: QMenu) -> None:
        """What was found for NVIDIA GPUs, and why not (greyed: information, not a choice)."""
        found = self.engine.gpu if self.engine is not None else None
        if found is None:
            return
        text = found.summary if len(found.summary) < 90 else found.summary[:87] + "..."
        status = QAction(text, self._window)
        status.setEnabled(False)
        status.setToolTip("\n".join([*found.lines, *([found.why_not] if found.why_not else [])]))
        menu.addAction(status)

    def _add_runtimes(self, menu: QMenu) -> None:
        """The runtime (each not installed is greyed, with what installs it) and the precision."""
        menu.addSection("Runtime")
        installed = available_runtimes()
        for action in self.runtime_group.actions():
            self.runtime_group.removeAction(action)
        for name in ("auto", *RUNTIMES):
            label = "A&uto (the fastest exact one)" if name == "auto" else RUNTIME_NAMES[name]
            action = QAction(label, self._window, checkable=True)
            action.setData(name)
            action.setChecked(name == self.runtime)
            if name != "auto" and name not in installed:
                action.setEnabled(False)
                action.setText(f"{label} (not installed)")
                action.setToolTip(f"Not installed: {INSTALL[name]}")
            action.triggered.connect(lambda _=False, n=name: self.set_runtime(n))
            self.runtime_group.addAction(action)
            menu.addAction(action)
        menu.setToolTipsVisible(True)
        menu.addSeparator()
        fast = QAction("&Fast precision (reduced decode; bfloat16 or TF32 where there is one)", self._window)
        fast.setCheckable(True)
        fast.setChecked(self.precision == "fast")
        refused = fast_refused(self.runtime)
        fast.setEnabled(refused is None or self.precision == "fast")  # one already chosen can be unchosen
        fast.setToolTip(
            refused
            or "Opt-in: JPEGs decoded at a reduced scale, and bfloat16 on a CPU with AMX (OpenVINO) or TF32 on an "
            "NVIDIA GPU: several times faster. GeoGuess says how often it agrees with the exact precision on your "
            "photos, and every answer says Precision: fast"
        )
        fast.toggled.connect(lambda on: self.set_precision("fast" if on else "exact"))
        menu.addAction(fast)
        self.fast_action = fast

    # ----- loading ---------------------------------------------------------------------------
    def load(self) -> None:
        self.engine = None
        self._queue.set_predictor(None)
        self._status.show_loading()
        try:  # the folder is checked at once; the model loads on its runtime's thread
            engine = open_engine(self.model_dir, self.device, True, self.runtime, self.precision)
        except ModelMissing:
            self._failed(f"No model installed in {self.model_dir}.", missing=True)
            return
        except ModelError as e:  # a runtime or precision this machine does not have
            self._failed(str(e), missing=False)
            return
        self._loads += 1
        load = self._loads
        self._tasks.run(
            engine.result,
            on_success=lambda engine: self._loaded(engine, load),
            on_failure=lambda error: self._load_failed(error, load),
        )

    def _loaded(self, engine: Engine, load: int) -> None:
        if load != self._loads:
            return  # the device or the model changed meanwhile: a newer load is on its way
        self.engine = engine
        self._populate_devices(engine.gpus)
        self._status.show_model(engine.info)
        self.show_warning(engine.info)
        # photos decoded on every core but one: the window's own thread keeps a core (with every
        # core decoding, a 2-core machine showed 50-200 ms pauses while a folder was predicted);
        # in threads only (at most 4): a pool of processes would be started again for each photo
        # dropped, a second before the first answer
        workers = max(1, min(THREADS_SCALE_TO, usable_cpus() - 1))
        predictor = engine.predictor(top_k=5, preview_size=PREVIEW_SIDE, keep=DISTRIBUTION_KEPT, decode_workers=workers)
        self._queue.set_predictor(predictor)
        # The objects loaded so far (MXNet's modules, the model, the place names) live as long as
        # the program: keep them out of Python's full garbage collections, which otherwise walk
        # them all on the GUI thread (measured: 47 ms pauses while photos are predicted).
        gc.freeze()
        self.ready.emit(engine)
        self.check_fast()

    def check_fast(self) -> None:
        """With the fast precision: how often it agrees with the exact one on up to 50 of the window's
        photos (measured once per model, then remembered), in the status bar and Model information."""
        engine, photos = self.engine, list(self.photos())
        if engine is None or engine.info.precision == "exact" or not photos or self.agreement or self._checking:
            return
        self._checking = True

        def show(text: str | None) -> None:
            self._checking = False
            if text and engine is self.engine:
                self.agreement = text[0].upper() + text[1:]
                self._status.showMessage(self.agreement, 20_000)

        def failed(error: BaseException) -> None:
            self._checking = False
            log_failure("fast precision check", error)

        self._tasks.run(fast_agreement, engine, photos, on_success=show, on_failure=failed)

    def _load_failed(self, error: BaseException, load: int) -> None:
        log_failure("model load failed", error)
        if load != self._loads:
            return
        self._failed(str(error), missing=False)

    def _failed(self, message: str, missing: bool) -> None:
        self._status.show_not_loaded(message)
        self.failed.emit(message)
        if missing and self.ask_for_model:
            self.ask_model(message)
        elif not missing:
            show_error(self._window, "The model could not be loaded", message)

    def show_warning(self, info: ModelInfo) -> None:
        """The badge in the status bar and the banner over the window, in the warning's colour."""
        warning = model_warning(info)
        self._status.show_badge(warning.badge if warning else None, warning.colour if warning else "")
        self._banner.show_warning(warning)

    def set_device(self, spec: str) -> None:
        if spec != self.device:
            self.device = spec
            settings.DEVICE.set(spec)
            self._queue.cancel()
            self.load()

    def set_runtime(self, name: str) -> None:
        if name != self.runtime:
            self.runtime = name
            settings.RUNTIME.set(name)
            if name not in ("auto", "openvino") and self.precision == "fast":  # fast is OpenVINO's only
                self.precision, self.agreement = "exact", None
                settings.PRECISION.set("exact")
            self._queue.cancel()
            self.load()

    def set_precision(self, precision: str) -> None:
        if precision != self.precision:
            self.precision, self.agreement = precision, None
            settings.PRECISION.set(precision)
            self._queue.cancel()
            self.load()

    # ----- getting a model, and what it is -----------------------------------------------------
    def ask_model(self, reason: str = "") -> None:
        """The download / import dialog; the model is loaded again once it succeeds."""
        dialog = ModelDialog(self._tasks, self.model_dir, self._window, reason)
        dialog.accepted.connect(self.load)
        self.dialog = dialog
        dialog.open()

    def import_model(self) -> None:
        self.ask_model("")
        dialog = self.dialog
        assert dialog is not None  # ask_model has just opened it
        dialog.choose_import(close_if_cancelled=True)

    def show_info(self) -> None:
        """The model folder's files, their md5 sums and verdict, and where the model is loaded."""

        def show(text: str) -> None:
            if self.engine is not None:
                info = self.engine.info
                text += f"\n\nLoaded on {info.device} by {RUNTIME_NAMES.get(info.runtime, info.runtime)}"
                text += f", {info.precision} precision: {info.num_classes:,} cells."
                if self.agreement:
                    text += f"\n{self.agreement}."
            box = QMessageBox(QMessageBox.Icon.Information, "Model information", text, parent=self._window)
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.open()
            self.info_box = box

        def failed(error: BaseException) -> None:  # the folder cannot be read: say so in the same box
            log_failure("model information", error)
            show(str(error))

        self._tasks.run(
            inspect_folder,
            self.model_dir,
            on_success=lambda report: show(describe_store(report)),
            on_failure=failed,
        )
