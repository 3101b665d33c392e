"""A photo's guesses in the window: rows in the table and markers on the map, each weighted by its
probability, selected together, labelled where they do not crowd each other, and copied as text."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from window_helpers import HEIC, HOPPER, WAIT, click_at, markers, shown

from geoguess_app.gui.map_view import result_payload


def test_photo_rows_and_markers(qtbot, window, corpus_dir):
    photo = corpus_dir / HEIC
    result = shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))
    assert result.ok
    rows = window.guesses.rows()
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["place"] for r in rows] == [g.place for g in result.predictions]
    assert rows[0]["probability"] == pytest.approx(result.predictions[0].probability)
    assert window.photo.title.text() == "IMG_5195.HEIC"
    assert "2566 x 3313 pixels" in window.photo.details.text() and "iPhone 11 Pro Max" in window.photo.details.text()
    found = markers(qtbot, window, 7)  # 5 guesses, the photo's own GPS, the write-position pin
    guesses = [m for m in found if m["kind"] == "guess"]
    exif = [m for m in found if m["kind"] == "exif"]
    for m, g in zip(guesses, result.predictions):
        assert (m["rank"], m["lat"], m["lon"]) == (g.rank, pytest.approx(g.lat), pytest.approx(g.lon))
    radii = [m["radius"] for m in guesses]
    assert radii == sorted(radii, reverse=True) and radii[0] > radii[-1]  # weighted by probability
    assert exif[0]["lat"] == pytest.approx(39.0513444, abs=1e-5) and exif[0]["radius"] != guesses[0]["radius"]
    assert window.banner.isVisible() and window.status.badge.isVisible()  # the stand-in says so
    assert_distance_label_clear_of_guesses(exif[0], guesses)


def assert_distance_label_clear_of_guesses(exif: dict, guesses: list[dict]) -> None:
    """The distance label covers no guess's circle (nor, so, its rank)."""
    box = exif["distance_label"]
    assert box["text"].endswith("km")
    for g in guesses:
        dx = max(box["left"] - g["x"], 0, g["x"] - box["right"])
        dy = max(box["top"] - g["y"], 0, g["y"] - box["bottom"])
        assert dx * dx + dy * dy > g["radius"] ** 2, (box, g)


def test_the_distance_label_never_covers_guess_1(qtbot, window, corpus_dir, monkeypatch):
    import geoguess_app.gui.map_view as map_view

    photo = corpus_dir / HEIC
    result = shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))
    first = result.predictions[0]

    def near_guess_1(r):  # the photo's own GPS a few kilometres from guess 1: a short line
        payload = result_payload(r)
        payload["exif"] = {"lat": first.lat + 0.02, "lon": first.lon + 0.03}
        return payload

    monkeypatch.setattr(map_view, "result_payload", near_guess_1)
    window.map.show_result(result)  # fitted to all five guesses: the line is short at that zoom
    qtbot.waitUntil(
        lambda: any(
            m["kind"] == "exif" and m["lat"] == pytest.approx(first.lat + 0.02) for m in markers(qtbot, window, 7)
        ),
        timeout=WAIT,
    )
    found = markers(qtbot, window, 7)
    exif = next(m for m in found if m["kind"] == "exif")
    guess = next(m for m in found if m.get("rank") == 1)
    assert abs(exif["x"] - guess["x"]) + abs(exif["y"] - guess["y"]) < 120  # the line is short here
    assert_distance_label_clear_of_guesses(exif, [m for m in found if m["kind"] == "guess"])


def test_row_and_marker_selection_follow_each_other(qtbot, window, corpus_dir):
    photo = corpus_dir / HOPPER
    shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))
    window.guesses.table.selectRow(2)
    qtbot.waitUntil(lambda: any(m["selected"] and m.get("rank") == 3 for m in markers(qtbot, window, 6)), timeout=WAIT)
    target = next(m for m in markers(qtbot, window, 6) if m.get("rank") == 5)
    click_at(qtbot, window, target["x"], target["y"])
    qtbot.waitUntil(lambda: window.guesses.selected_rank() == 5, timeout=10_000)


def test_a_guess_close_to_a_better_one_hides_its_rank_label_until_zoomed_in(qtbot, window, corpus_dir):
    photo = corpus_dir / HOPPER
    result = shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))
    payload = result_payload(result)
    best = payload["guesses"][0]
    corner = best["corners"][0]  # #5 goes half-way to a corner of #1's cell, and at least 2 km away
    near = tuple(
        c + max(abs(k - c) / 2, 0.02) * (1 if k >= c else -1)
        for c, k in ((best["lat"], corner[0]), (best["lon"], corner[1]))
    )
    payload["guesses"][4].update(lat=near[0], lon=near[1])
    window.map._run(f"geoguess.show({json.dumps(payload)})")
    qtbot.waitUntil(
        lambda: next(m for m in markers(qtbot, window, 6) if m.get("rank") == 5)["lat"] == pytest.approx(near[0]),
        timeout=WAIT,
    )
    labels = {m["rank"]: m["label"] for m in markers(qtbot, window, 6) if m["kind"] == "guess"}
    assert labels[1] and not labels[5]  # (others may also be hidden: the stand-in's guesses cluster)
    # double-clicking guess #1's row fits the map to its cell: both labels show again
    table, no = window.guesses.table, Qt.KeyboardModifier.NoModifier
    cell = table.visualRect(table.model().index(0, 2)).center()
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, no, cell)  # a double click's first press
    QTest.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, no, cell)
    qtbot.waitUntil(lambda: all(m["label"] for m in markers(qtbot, window, 6) if m.get("rank") in (1, 5)), timeout=WAIT)


def test_copy_selected_place(qtbot, window, corpus_dir):
    photo = corpus_dir / HOPPER
    result = shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))
    window.guesses.table.selectRow(1)
    QTest.keyClick(window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    g = result.predictions[1]
    text = QGuiApplication.clipboard().text()
    assert text.startswith(f"{g.lat:.6f}, {g.lon:.6f}") and g.place in text
