"""The window's batch review of a fused folder, driven with pytest-qt: threshold, counts after each
key, filter, confirmation, the fused track read back from the map, refused rows losing their tick."""

from __future__ import annotations

import logging

from helpers import copy_photo, walk_with_gps
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from window_helpers import WAIT, markers, open_dialog, rows_by_name, shown

from geoguess_app.gui.batch_table import EVIDENCE, EXISTING, PHOTO, PROBABILITY, SORT_ROLE, SOURCE, STATUS, TAKEN, WRITE


def ticked(table, row) -> bool:
    return table.item(row, WRITE).checkState() == Qt.CheckState.Checked


def test_batch_review_of_a_fused_folder(qtbot, window, corpus_dir, tmp_path, exiftool_cli):
    from geoguess_app.core.geotag.metadata import read_metadata

    folder = tmp_path / "trip"
    walk_with_gps(corpus_dir, folder, exiftool_cli, ["DSCN0010.jpg", "DSCN0012.jpg", "DSCN0021.jpg"], ["DSCN0012.jpg"])
    copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / "a.jpg")
    copy_photo(corpus_dir / "exiv2/test/data/exiv2-bug884a.jpg", folder / "b.jpg")
    (folder / "d-broken.jpg").write_bytes(b"\xff\xd8 nothing")
    originals = {p.name: p.read_bytes() for p in folder.iterdir()}
    dialog = open_dialog(qtbot, window, folder, tmp_path)
    table = dialog.table
    rows = rows_by_name(table)
    assert table.rowCount() == 6
    between = rows["DSCN0012.jpg"]
    assert table.item(between, SOURCE).text() == "between GPS photos" and ticked(table, between)  # GPS data: ticked
    assert table.item(between, PROBABILITY).text() == "GPS"
    evidence = table.item(between, EVIDENCE)
    assert evidence.text().startswith("anchor DSCN0010.jpg 1 min earlier") and evidence.toolTip() == evidence.text()
    assert table.item(rows["DSCN0010.jpg"], STATUS).text() == "has its own GPS: kept"
    assert table.item(rows["DSCN0010.jpg"], TAKEN).text() == "2008-10-22 16:28:39"
    # nothing is ticked below the threshold (50% to begin with)
    above = 0
    for name in ("a.jpg", "b.jpg"):
        probability = dialog.outcomes[str(folder / name)].guess.probability
        assert ticked(table, rows[name]) == (probability >= 0.5)
        above += probability >= 0.5
    assert f"{1 + above} of 3 ready accepted for writing" in dialog.header.text()
    assert "UNTRAINED MODEL" in dialog.model_warning.text()  # above the counts, in red

    # the header counts follow every key
    table.setFocus()
    for name in ("a.jpg", "b.jpg"):
        table.setCurrentCell(rows[name], PHOTO)
        QTest.keyClick(table, Qt.Key.Key_R)
    assert "1 of 3 ready accepted for writing" in dialog.header.text()
    table.setCurrentCell(rows["a.jpg"], PHOTO)
    QTest.keyClick(table, Qt.Key.Key_A)
    assert "2 of 3 ready accepted for writing" in dialog.header.text()
    table.setCurrentCell(rows["a.jpg"], PHOTO)
    QTest.keyClick(table, Qt.Key.Key_Space)
    assert "1 of 3 ready accepted for writing" in dialog.header.text()
    dialog.threshold.setValue(0)
    dialog.accept_above.click()
    assert "3 of 3 ready accepted for writing" in dialog.header.text()
    table.setCurrentCell(rows["b.jpg"], PHOTO)
    QTest.keyClick(table, Qt.Key.Key_R)
    assert "2 of 3 ready accepted" in dialog.header.text() and not ticked(table, rows["b.jpg"])
    table.setCurrentCell(rows["DSCN0021.jpg"], PHOTO)
    QTest.keyClick(table, Qt.Key.Key_A)  # a photo with its own GPS cannot be ticked
    assert not ticked(table, rows["DSCN0021.jpg"])

    # sorting and filtering
    table.sortItems(PROBABILITY, Qt.SortOrder.DescendingOrder)
    probabilities = [table.item(r, PROBABILITY).data(SORT_ROLE) for r in range(table.rowCount())]
    assert probabilities == sorted(probabilities, reverse=True) and table.item(0, PHOTO).text() == "DSCN0012.jpg"
    dialog.filter.setCurrentText("Placed by GPS data")
    visible = [table.item(r, PHOTO).text() for r in range(table.rowCount()) if not table.isRowHidden(r)]
    assert visible == ["DSCN0012.jpg"]
    dialog.filter.setCurrentText("All photos")

    # the map: every placed photo and every GPS photo, and the walk as one line in time order (the
    # photos of other years are not joined to it)
    placed = [o for o in dialog.outcomes.values() if o.guess is not None]
    moved = [o for o in placed if dialog.answers[o.path][1].single[:2] != (o.guess.lat, o.guess.lon)]
    assert len(placed) == 3 and len(moved) >= 1  # DSCN0012 is placed away from its own guess
    shown = markers(qtbot, dialog, len(placed) + 2 + len(moved) + 1)  # answers, GPS photos, faint guesses, track
    track = next(m for m in shown if m["kind"] == "track")
    walk = [dialog.answers[str(folder / f"DSCN00{n}.jpg")][1].position for n in ("10", "12", "21")]
    assert track["segments"] == [[list(p) for p in walk]]
    assert all(m["opacity"] < 0.5 for m in shown if m["kind"] == "single")  # each photo's own guess, faint

    # writing asks first; a photo that became read-only is refused and loses its tick
    dialog.write_button.click()
    assert dialog.confirmation.isVisible() and "into 2 photos" in dialog.confirmation.text()
    assert "UNTRAINED MODEL" in dialog.confirmation.text()
    dialog.confirmation.button(QMessageBox.StandardButton.Cancel).click()
    assert dialog.writer is None and {p.name: p.read_bytes() for p in folder.iterdir()} == originals
    (folder / "a.jpg").chmod(0o444)
    dialog.write_button.click()
    with qtbot.waitSignal(dialog.finished, timeout=WAIT):
        dialog.confirmation.button(QMessageBox.StandardButton.Yes).click()
    assert dialog.header.text().startswith("1 written, 1 refused, 1 failed.")
    rows = rows_by_name(table)
    assert not ticked(table, rows["a.jpg"]) and "read-only" in table.item(rows["a.jpg"], STATUS).toolTip()
    assert read_metadata(folder / "DSCN0012.jpg")["XMP-geoguess:Source"] == "interpolated"
    for name in ("a.jpg", "b.jpg", "DSCN0010.jpg", "DSCN0021.jpg", "d-broken.jpg"):
        assert (folder / name).read_bytes() == originals[name]
    assert table.item(rows["DSCN0010.jpg"], EXISTING).text().startswith("43.46")
    dialog.close()


def test_batch_dialog_says_why_planning_or_writing_stopped(qtbot, window, corpus_dir, tmp_path, monkeypatch, caplog):
    from geoguess_app.gui import batch_dialog

    folder = tmp_path / "trip"
    folder.mkdir()
    for name in ("a.jpg", "b.jpg"):
        copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / name)
    real_plan = batch_dialog.GeotagJob.run

    def plan_breaks_after_one(*args, **kwargs):  # the model breaks half-way through the folder
        outcomes = real_plan(*args, **kwargs)
        yield next(outcomes)
        outcomes.close()
        raise RuntimeError("the model broke")

    def write_breaks(*args, **kwargs):
        raise RuntimeError("the disk went away")
        yield

    monkeypatch.setattr(batch_dialog.GeotagJob, "run", plan_breaks_after_one)
    monkeypatch.setattr(batch_dialog.GeotagJob, "write_planned", write_breaks)
    with caplog.at_level(logging.INFO):
        dialog = open_dialog(qtbot, window, folder, tmp_path)
        assert dialog.header.text().startswith("Stopped: the model broke\n1 photos: ")
        dialog.threshold.setValue(0)
        dialog.accept_above.click()
        assert dialog.table.rowCount() == 1 and dialog.write_button.isEnabled()  # what was planned can be written
        dialog.write_button.click()
        with qtbot.waitSignal(dialog.finished, timeout=WAIT):
            dialog.confirmation.button(QMessageBox.StandardButton.Yes).click()
    text = dialog.header.text()
    assert text.startswith("0 written, 0 refused, 0 failed.") and "writing stopped: the disk went away" in text
    logged = {r.getMessage(): r for r in caplog.records if r.levelno == logging.ERROR}
    assert any("the model broke" in m for m in logged) and any("the disk went away" in m for m in logged)
    dialog.close()


def test_the_whole_distribution_as_a_heat_layer(qtbot, window, corpus_dir, tmp_path):
    photo = tmp_path / "d90.jpg"
    copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", photo)
    result = shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))
    plain = markers(qtbot, window, 6)  # five guesses and the pin, no heat
    assert not any(m["kind"] == "heat" for m in plain)
    window.heat_action.trigger()  # View > Whole distribution on the map
    on = markers(qtbot, window, 7)
    heat = next(m for m in on if m["kind"] == "heat")
    assert heat["cells"] == len(result.distribution.classes) == 48  # the tiny model's every cell
    assert abs(heat["max"] - result.predictions[0].probability) < 1e-6
    window.heat_action.trigger()
    assert not any(m["kind"] == "heat" for m in markers(qtbot, window, 6))
    # the status bar says what runs the network
    from geoguess_app.core.engine import RUNTIME_NAMES

    info = window.model.engine.info
    assert window.status.device_label.text() == f"Device: {info.device} ({RUNTIME_NAMES[info.runtime]})"


def test_every_column_header_keeps_its_name_beside_the_sort_arrow(qtbot, window, corpus_dir, tmp_path):
    from geoguess_app.gui.batch_table import COLUMNS

    folder = tmp_path / "few"
    folder.mkdir()
    copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / "a.jpg")
    dialog = open_dialog(qtbot, window, folder, tmp_path)
    header = dialog.table.horizontalHeader()
    dialog.table.sortItems(COLUMNS.index("Probability"))
    for column, name in enumerate(COLUMNS[:-1]):  # the last stretches
        assert header.sectionSize(column) >= header.fontMetrics().horizontalAdvance(name) + 30, name


def _taken(path, when: str, offset: str = "+02:00"):
    from PIL import Image

    exif = Image.Exif()
    exif.get_ifd(0x8769).update({0x9003: when, 0x9011: offset})
    Image.new("RGB", (96, 64), (90, 120, 150)).save(path, exif=exif)


GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
<trkpt lat="45.0" lon="7.0"><time>2024-05-01T07:00:00Z</time></trkpt>
<trkpt lat="45.1" lon="7.1"><time>2024-05-01T07:30:00Z</time></trkpt>
<trkpt lat="46.0" lon="8.0"><time>2024-05-01T08:00:00Z</time></trkpt>
<trkpt lat="46.1" lon="8.1"><time>2024-05-01T08:30:00Z</time></trkpt>
</trkseg></trk></gpx>
"""


def test_folder_review_takes_a_track_a_clock_offset_and_the_other_fusion_options(qtbot, window, tmp_path):
    """File > Geotag a folder asks what else places the photos: a GPX track with the camera's clock
    an hour fast puts each photo where the track was an hour before its EXIF time; the track is
    drawn on the map; region, album and the longest gap reach the plan; a region that cannot be
    read is said in the dialog, which stays open."""
    folder = tmp_path / "trip"
    folder.mkdir()
    _taken(folder / "a.jpg", "2024:05:01 10:00:00")  # 08:00 UTC by the camera, 07:00 in truth
    _taken(folder / "b.jpg", "2024:05:01 10:30:00")
    track = tmp_path / "walk.gpx"
    track.write_text(GPX)

    def configure(options):
        options.region.setText("nowhere-land")
        options.plan_button.click()
        assert options.isVisible() and "nowhere-land" in options.error.text()  # said; nothing started
        assert window.geotag.batch_dialog is None
        options.region.setText("it,fr,ch")
        options.add_track(str(track))
        options.clock.setValue(60)
        options.max_gap.setValue(3)
        options.album.setChecked(True)

    dialog = open_dialog(qtbot, window, folder, tmp_path, configure)
    settings = dialog.plan.fusion.settings
    assert (settings.region, settings.album, settings.max_gap_h, settings.clock_offset_min) == ("it,fr,ch", True, 3, 60)
    placed = {p.split("/")[-1]: a for p, (_, a) in dialog.answers.items()}
    assert placed["a.jpg"].source == "track" and placed["b.jpg"].source == "track"
    assert abs(placed["a.jpg"].position[0] - 45.0) < 0.01 and abs(placed["a.jpg"].position[1] - 7.0) < 0.01
    assert abs(placed["b.jpg"].position[0] - 45.1) < 0.01 and abs(placed["b.jpg"].position[1] - 7.1) < 0.01
    rows = rows_by_name(dialog.table)
    assert dialog.table.item(rows["a.jpg"], SOURCE).text() != "" and ticked(dialog.table, rows["a.jpg"])
    drawn = []
    qtbot.waitUntil(lambda: dialog.map.markers(drawn.append) or any(
        m["kind"] == "gps_track" for shown in drawn for m in shown), timeout=WAIT)  # fmt: skip
    line = next(m for shown in drawn for m in shown if m["kind"] == "gps_track")["segments"][0]
    assert [tuple(p) for p in line] == [(45.0, 7.0), (45.1, 7.1), (46.0, 8.0), (46.1, 8.1)]
    dialog.close()
