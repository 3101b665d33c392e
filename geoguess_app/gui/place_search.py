"""The toolbar's place search: a place name (offline, from GeoNames, accents and typos forgiven) or
typed coordinates; the places found are offered as you type, the best match first and highlighted,
and the one chosen is announced with its position and how it was given (the window then shows it
on the map and moves the pin there).

Enter takes the highlighted place: the best match unless the person moved the highlight (Up, Down).
Qt's completer would highlight the first name that starts with the text instead ("Münchenstein"
for "München", scrolled past the best match), so Enter in the popup is handled here.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QStringListModel, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QCompleter, QLineEdit, QWidget

from ..core.geo.search import FoundPlace, parse_coordinates, shared_search
from .tasks import TaskRunner


class PlaceSearch(QLineEdit):
    # lat, lon, what was chosen ("Zürich, ..." or "46.500000, 6.600000"), how: "searched" or "typed"
    placeChosen = Signal(float, float, str, str)
    notFound = Signal(str)  # the text, when it is neither a place nor coordinates

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self._tasks = tasks
        self.setPlaceholderText("Find a place, or type coordinates")
        self.setClearButtonEnabled(True)
        self.setMinimumWidth(260)
        self.setMaximumWidth(380)
        self.setToolTip(
            "A place name (accents and small typos are fine; add the region or country after a comma: "
            "'Paris, Texas'), or coordinates: 46.5197, 6.6323 / 46.5197 N 6.6323 E / 46°31'11\"N 6°37'56\"E"
        )
        self.found: list[FoundPlace] = []
        self._model = QStringListModel(self)
        self._completer = QCompleter(self._model, self)
        self._completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        # PySide6's stubs give SignalInstance no __getitem__: the overload by signature is untyped
        self._completer.activated[str].connect(self._activated)  # type: ignore[index]
        self.setCompleter(self._completer)
        self._popup().installEventFilter(self)  # after the completer's own: Enter comes here first
        self._found_for = ""  # the text the places found answer
        self.textEdited.connect(self._edited)
        self.returnPressed.connect(self.choose)
        self._asked = 0  # searches started: only the latest one's answer is offered

    def _popup(self) -> QAbstractItemView:
        popup = self._completer.popup()
        assert popup is not None  # QCompleter makes its default popup when none was set
        return popup

    def _edited(self, text: str) -> None:
        self._asked += 1
        asked = self._asked
        if parse_coordinates(text) is not None or len(text.strip()) < 2:
            self.found = []
            self._found_for = text
            self._model.setStringList([])
            return
        self._tasks.run(shared_search().search, text, on_success=lambda found: self._offer(found, text, asked))

    def _offer(self, found: list[FoundPlace], text: str, asked: int) -> None:
        if asked != self._asked:
            return  # typed on since
        self.found = found
        self._found_for = text
        self._model.setStringList([p.name for p in found])
        if found and self.hasFocus():
            self._completer.complete()
            popup = self._popup()
            self._completer.blockSignals(True)  # highlighted, not yet typed into the field
            popup.setCurrentIndex(popup.model().index(0, 0))  # the best match, highlighted: Enter takes it
            self._completer.blockSignals(False)
            popup.scrollToTop()

    def _activated(self, name: str) -> None:  # a click on a place offered (or Tab)
        place = next((p for p in self.found if p.name == name), None)
        if place is not None:
            self._take(place)

    def _take(self, place: FoundPlace) -> None:
        self.setText(place.name)
        self.placeChosen.emit(place.lat, place.lon, place.name, "searched")

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Enter in the popup: the place highlighted, from the places found for the text as it is now."""
        popup = self._popup()
        if (
            obj is popup
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            row = popup.currentIndex().row()
            popup.hide()
            if self._found_for == self.text() and 0 <= row < len(self.found):
                self._take(self.found[row])
            else:  # the places offered answer an earlier text: search this one
                self.choose()
            return True
        return super().eventFilter(obj, event)

    def choose(self) -> None:
        """Enter: the coordinates typed, else the first place found (searched now if need be)."""
        text = self.text()
        position = parse_coordinates(text)
        if position is not None:
            self.placeChosen.emit(position[0], position[1], f"{position[0]:.6f}, {position[1]:.6f}", "typed")
            return
        if self._popup().isVisible():
            return  # Enter went to the popup (eventFilter)
        chosen = next((p for p in self.found if p.name == text), None)

        def pick(found: list[FoundPlace]) -> None:
            if found:
                self._take(found[0])
            else:
                self.notFound.emit(text)

        if chosen is not None:
            pick([chosen])
        else:
            self._tasks.run(shared_search().search, text, on_success=pick)
