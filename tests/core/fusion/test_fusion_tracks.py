"""Tracks (GPX, KML, GeoJSON) and GPS anchors: photos placed by time, as ExifTool's geotag does."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pytest
from helpers import finishes_or_unblock

from geoguess_app.core.errors import GeoGuessError
from geoguess_app.core.fusion.fuse import FusionOptions, fuse
from geoguess_app.core.fusion.geometry import GridGeometry
from geoguess_app.core.fusion.inputs import FusionPhoto
from geoguess_app.core.fusion.tracks import TrackEvidence, read_track
from geoguess_app.core.geo.cells import CellGrid, great_circle_km

T0 = datetime.datetime(2023, 6, 1, 9, 0)  # UTC


@pytest.fixture(scope="module")
def geo(reference_dir) -> GridGeometry:
    return GridGeometry(CellGrid.from_file(reference_dir / "grids.txt"))


def gpx(points) -> str:
    rows = "".join(f'<trkpt lat="{lat}" lon="{lon}"><time>{t.isoformat()}Z</time></trkpt>' for t, lat, lon in points)
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><name>day</name><trkseg>{rows}</trkseg></trk></gpx>"
    )


def taken(geo, index, local, offset_hours=None) -> FusionPhoto:
    """A photo the model puts in Sydney, taken at ``local`` camera time."""
    return FusionPhoto(
        index=index,
        path=f"P{index}.jpg",
        time=local,
        offset=None if offset_hours is None else datetime.timedelta(hours=offset_hours),
        classes=np.array([int(geo.nearest(-33.87, 151.21)[0])]),
        probabilities=np.array([0.5]),
    )


def test_gpx_places_photos_between_points_and_not_across_a_long_gap(tmp_path, geo):
    # Vienna to Bratislava (55 km) in 40 minutes ... then nothing for two hours, then Budapest
    track = tmp_path / "trip.gpx"
    track.write_text(
        gpx(
            [
                (T0, 48.2082, 16.3738),
                (T0 + datetime.timedelta(minutes=20), 48.1486, 17.1077),
                (T0 + datetime.timedelta(hours=3), 47.4979, 19.0402),
            ]
        )
    )
    photos = [
        taken(geo, 0, T0 + datetime.timedelta(hours=2, minutes=10), offset_hours=2),  # 09:10 UTC
        taken(geo, 1, T0 + datetime.timedelta(hours=3, minutes=30), offset_hours=2),  # 10:30 UTC: in the gap
        taken(geo, 2, T0 + datetime.timedelta(hours=5, minutes=20), offset_hours=2),  # 12:20 UTC: 20 min after the end
    ]
    answers = fuse(photos, geo, FusionOptions(sources=[TrackEvidence([read_track(track)])]))
    mid_lat, mid_lon = answers[0].position
    assert answers[0].source == "track" and answers[0].evidence == ["track trip.gpx, 10 min from a track point"]
    assert great_circle_km(mid_lat, mid_lon, 48.2082, 16.3738) == pytest.approx(
        great_circle_km(mid_lat, mid_lon, 48.1486, 17.1077), abs=0.5
    )
    assert 4 < answers[0].radius_km < 6  # ten minutes from a point: the radius grows with it
    # not interpolated across 2 h 40 min; the photos on the track before and after it still pull it there
    assert answers[1].source == "fused" and great_circle_km(*answers[1].position, 48.1486, 17.1077) < 250
    assert answers[2].source == "track" and great_circle_km(*answers[2].position, 47.4979, 19.0402) < 0.01


def test_a_track_across_the_date_line(tmp_path, geo):
    track = tmp_path / "pacific.gpx"
    track.write_text(gpx([(T0, -16.0, 179.9), (T0 + datetime.timedelta(minutes=10), -16.0, -179.9)]))
    photo = taken(geo, 0, T0 + datetime.timedelta(minutes=5, hours=12), offset_hours=12)
    answer = fuse([photo], geo, FusionOptions(sources=[TrackEvidence([read_track(track)])]))[0]
    assert answer.source == "track" and abs(abs(answer.position[1]) - 180) < 0.01


def test_a_photo_without_offset_takes_the_one_the_track_agrees_with(tmp_path, geo):
    # A Vienna track at 09:00-09:20 UTC; the camera says 11:10 (summer: +02:00) and no offset.
    track = tmp_path / "vienna.gpx"
    track.write_text(gpx([(T0, 48.20, 16.37), (T0 + datetime.timedelta(minutes=20), 48.22, 16.40)]))
    answer = fuse(
        [taken(geo, 0, T0 + datetime.timedelta(hours=2, minutes=10))],
        geo,
        FusionOptions(sources=[TrackEvidence([read_track(track)])]),
    )[0]
    assert answer.source == "track" and great_circle_km(*answer.position, 48.21, 16.385) < 1.5


def test_kml_and_geojson_tracks(tmp_path, geo):
    kml = tmp_path / "walk.kml"
    kml.write_text(
        '<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"><Document>'
        "<Placemark><gx:Track><when>2023-06-01T09:00:00Z</when><when>2023-06-01T09:10:00Z</when>"
        "<gx:coord>2.29 48.85 0</gx:coord><gx:coord>2.35 48.86 0</gx:coord></gx:Track></Placemark></Document></kml>"
    )
    geojson = tmp_path / "walk.geojson"
    geojson.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "LineString", "coordinates": [[2.29, 48.85], [2.35, 48.86]]},
                        "properties": {"coordTimes": ["2023-06-01T09:00:00Z", "2023-06-01T09:10:00Z"]},
                    }
                ],
            }
        )
    )
    for path in (kml, geojson):
        track = read_track(path)
        assert len(track) == 2
        photo = taken(geo, 0, T0 + datetime.timedelta(hours=2, minutes=5), offset_hours=2)
        answer = fuse([photo], geo, FusionOptions(sources=[TrackEvidence([track])]))[0]
        assert answer.source == "track" and great_circle_km(*answer.position, 48.855, 2.32) < 1


@pytest.mark.parametrize(
    "name, text, reason",
    [
        ("bad.gpx", "<gpx><trk><trkseg><trkpt lat=", "cannot be read"),
        ("empty.gpx", gpx([]), "no positions with times"),
        (
            "notimes.gpx",
            '<gpx version="1.1"><trk><trkseg><trkpt lat="1" lon="2"/></trkseg></trk></gpx>',
            "no positions with times",
        ),
        ("track.txt", "1,2", "reads .gpx, .kml and .geojson"),
        ("bad.geojson", "{", "cannot be read"),
    ],
)
def test_bad_tracks_say_why(tmp_path, name, text, reason):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(GeoGuessError, match=reason):
        read_track(path)


def test_a_missing_track_says_so(tmp_path):
    with pytest.raises(GeoGuessError, match="cannot read track"):
        read_track(tmp_path / "nowhere.gpx")


@pytest.mark.parametrize("suffix", [".gpx", ".kml", ".geojson"])
def test_a_track_too_large_to_read_is_refused_with_its_size(tmp_path, suffix):
    """A 10-million-point GeoJSON track took 4.5 GB: a track file over the stated size is refused
    before it is read (a sparse file here: nothing is written to the disk)."""
    from geoguess_app.core.fusion.tracks import MAX_TRACK_BYTES

    assert MAX_TRACK_BYTES == 32_000_000  # what docs/fusion.md says
    path = tmp_path / f"year{suffix}"
    with open(path, "wb") as f:
        f.truncate(MAX_TRACK_BYTES + 1_000_000)
    with pytest.raises(GeoGuessError) as refused:
        read_track(path)
    assert str(refused.value) == (
        f"track year{suffix} is 33.0 MB, more than the 32 MB GeoGuess reads (about 300,000 points): "
        "split it, or keep only the days of the photos"
    )


def test_the_command_line_refuses_a_track_too_large_before_any_photo(reference_dir, tmp_path):
    from helpers import run

    from geoguess_app.core.fusion.tracks import MAX_TRACK_BYTES

    path = tmp_path / "year.geojson"
    with open(path, "wb") as f:
        f.truncate(10 * MAX_TRACK_BYTES)
    predictions = tmp_path / "p.jsonl"
    predictions.write_text('{"path": "a.jpg", "distribution": [[1, 0.5]]}\n')
    out = run("fuse", predictions, "--model-dir", reference_dir, "--track", path, timeout=120)
    assert (
        out.returncode == 2 and "track year.geojson is 320.0 MB, more than the 32 MB" in out.stderr and not out.stdout
    )


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="this system has no FIFOs (os.mkfifo)")
def test_a_track_that_is_a_fifo_is_refused_not_waited_on(tmp_path):
    import os

    os.mkfifo(tmp_path / "live.gpx")
    said = []

    def read():
        try:
            read_track(tmp_path / "live.gpx")
        except GeoGuessError as e:
            said.append(str(e))

    finishes_or_unblock(read, tmp_path / "live.gpx", 30, "reading a FIFO as a track waits forever")
    assert (
        len(said) == 1
        and said[0] == f"cannot read track {tmp_path / 'live.gpx'}: not a regular file: a FIFO (named pipe)"
    )
