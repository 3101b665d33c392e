"""The toolbar's place search: a place name (offline, from GeoNames, accents and typos forgiven) or
typed coordinates; the places found are offered as you type, and the one chosen is announced with
its position (the window then shows it on the map and moves the pin there)."""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget

from ..core.geo.search import FoundPlace, parse_coordinates, shared_search
from .tasks import TaskRunner


class PlaceSearch(QLineEdit):
    placeChosen = Signal(float, float, str)  # lat, lon, what was chosen ("Zürich, ..." or "46.5, 6.6")
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
        self._completer.activated[str].connect(self._activated)
        self.setCompleter(self._completer)
        self.textEdited.connect(self._edited)
        self.returnPressed.connect(self.choose)
        self._asked = 0  # searches started: only the latest one's answer is offered

    def _edited(self, text: str) -> None:
        self._asked += 1
        asked = self._asked
        if parse_coordinates(text) is not None or len(text.strip()) < 2:
            self.found = []
            self._model.setStringList([])
            return
        self._tasks.run(shared_search().search, text, on_success=lambda found: self._offer(found, asked))

    def _offer(self, found: list[FoundPlace], asked: int) -> None:
        if asked != self._asked:
            return  # typed on since
        self.found = found
        self._model.setStringList([p.name for p in found])
        if found and self.hasFocus():
            self._completer.complete()

    def _activated(self, name: str) -> None:
        place = next((p for p in self.found if p.name == name), None)
        if place is not None:
            self.placeChosen.emit(place.lat, place.lon, place.name)

    def choose(self) -> None:
        """Enter: the coordinates typed, else the first place found (searched now if need be)."""
        text = self.text()
        position = parse_coordinates(text)
        if position is not None:
            self.placeChosen.emit(position[0], position[1], f"{position[0]:.6f}, {position[1]:.6f}")
            return
        if self._completer.popup().isVisible():
            return  # the highlighted suggestion is taken by the completer
        chosen = next((p for p in self.found if p.name == text), None)

        def pick(found: list[FoundPlace]) -> None:
            if found:
                self.placeChosen.emit(found[0].lat, found[0].lon, found[0].name)
            else:
                self.notFound.emit(text)

        if chosen is not None:
            pick([chosen])
        else:
            self._tasks.run(shared_search().search, text, on_success=pick)
