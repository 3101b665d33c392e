"""Fusion: each source alone and together, on the real grid (grids.txt) with hand-made distributions."""

from __future__ import annotations

import datetime
import sys

import numpy as np
import pytest
from helpers import ROOT

from geoguess_app.core.errors import GeoGuessError
from geoguess_app.core.fusion.fuse import FusionOptions, fuse
from geoguess_app.core.fusion.geometry import GridGeometry
from geoguess_app.core.fusion.inputs import BadLine, FusionPhoto
from geoguess_app.core.fusion.region import RegionEvidence, parse_region
from geoguess_app.core.fusion.timezone import TimezoneEvidence
from geoguess_app.core.fusion.tracks import AnchorEvidence
from geoguess_app.core.geo.cells import CellGrid, great_circle_km

PLACES = {
    "paris": (48.857, 2.35),
    "rome": (41.9, 12.5),
    "new_york": (40.71, -74.0),
    "tokyo": (35.68, 139.76),
    "berlin": (52.52, 13.4),
    "london": (51.5, -0.12),
    "sydney": (-33.87, 151.21),
    "anchorage": (61.2, -149.9),
    "kamchatka": (53.0, 158.65),
}
T0 = datetime.datetime(2023, 1, 14, 10, 0)


@pytest.fixture(scope="module")
def geo(reference_dir) -> GridGeometry:
    return GridGeometry(CellGrid.from_file(reference_dir / "grids.txt"))


@pytest.fixture(scope="module")
def tz(geo) -> TimezoneEvidence:
    return TimezoneEvidence(geo)


def cell(geo, place: str) -> int:
    return int(geo.nearest(*PLACES[place])[0])


def photo(geo, index, ranked, time=None, offset=None, gps=None) -> FusionPhoto:
    """A photo whose model ranks the places given as (place, probability), highest first."""
    classes = np.array([cell(geo, name) for name, _ in ranked], np.int64)
    return FusionPhoto(
        index=index,
        path=f"IMG_{index:04d}.jpg",
        time=time,
        offset=None if offset is None else datetime.timedelta(hours=offset),
        gps=gps,
        classes=classes,
        probabilities=np.array([p for _, p in ranked], np.float64),
    )


def km_from(answer, place: str) -> float:
    return great_circle_km(*answer.position, *PLACES[place])


def test_a_photo_alone_keeps_its_own_guess(geo, tz):
    alone = photo(geo, 0, [("paris", 0.4), ("rome", 0.3)], T0, offset=1)  # +01:00: both agree, nothing moves
    no_time = photo(geo, 1, [("tokyo", 0.5), ("paris", 0.2)])
    answers = fuse([alone, no_time], geo, FusionOptions(sources=[tz]))
    assert km_from(answers[0], "paris") < 1 and answers[0].source == "model" and answers[0].evidence == []
    assert answers[0].probability == pytest.approx(0.4)  # the model's own, untempered
    assert answers[0].radius_km > 1000  # 70% in two cells 1,100 km apart: 90% is not reached near Paris
    assert km_from(answers[1], "tokyo") < 1 and answers[1].source == "model" and answers[1].evidence == []
    assert answers[1].single[2] == pytest.approx(0.5) and answers[1].radius_km > 0


def test_neighbours_outvote_a_wrong_photo(geo):
    burst = [photo(geo, i, [("paris", 0.5), ("sydney", 0.1)], T0 + datetime.timedelta(minutes=3 * i)) for i in range(4)]
    wrong = photo(geo, 4, [("sydney", 0.45), ("paris", 0.3)], T0 + datetime.timedelta(minutes=7))
    answers = fuse([*burst, wrong], geo)
    assert km_from(answers[4], "paris") < 1, answers[4]
    assert answers[4].source == "fused" and "4 photos within 2 h" in answers[4].evidence
    assert answers[4].single[:2] == pytest.approx(PLACES["sydney"], abs=0.5)
    alone = fuse([*burst, wrong], geo, FusionOptions(neighbours=False))
    assert km_from(alone[4], "sydney") < 1 and alone[4].source == "model"


def test_no_fusion_across_a_long_gap_or_without_times(geo):
    first = photo(geo, 0, [("paris", 0.6), ("sydney", 0.1)], T0)
    later = photo(geo, 1, [("sydney", 0.5), ("paris", 0.1)], T0 + datetime.timedelta(days=2))
    untimed = [photo(geo, 2 + i, [("sydney", 0.5), ("paris", 0.1)]) for i in range(2)]
    answers = fuse([first, later, *untimed], geo)
    assert km_from(answers[0], "paris") < 1 and all(km_from(a, "sydney") < 1 for a in answers[1:])
    assert all(a.source == "model" and a.evidence == [] for a in answers)
    album = fuse([first, later, *untimed], geo, FusionOptions(album=True))
    assert all(km_from(a, "sydney") < 1 for a in album)  # three of four photos say Sydney, strongly
    assert "album of 4 photos (one place)" in album[0].evidence


def test_time_zone_moves_a_photo_to_cells_with_its_offset(geo, tz):
    p = photo(geo, 0, [("new_york", 0.5), ("tokyo", 0.3)], T0, offset=9)
    assert km_from(fuse([p], geo, FusionOptions(sources=[tz]))[0], "tokyo") < 1
    assert km_from(fuse([p], geo, FusionOptions())[0], "new_york") < 1  # --no-timezone
    nowhere = photo(geo, 0, [("new_york", 0.5), ("tokyo", 0.3)], T0, offset=4)  # no candidate has +04:00
    assert km_from(fuse([nowhere], geo, FusionOptions(sources=[tz]))[0], "new_york") < 1  # lowered, never zero


def test_time_zone_knows_daylight_saving_time(geo, tz):
    july = datetime.datetime(2023, 7, 14, 12, 0)
    # +01:00 in July is London (BST), not Berlin (CEST, +02:00); in January it is Berlin.
    summer = photo(geo, 0, [("berlin", 0.5), ("london", 0.3)], july, offset=1)
    winter = photo(geo, 1, [("berlin", 0.5), ("london", 0.3)], T0, offset=1)
    answers = fuse([summer, winter], geo, FusionOptions(sources=[tz], neighbours=False))
    assert km_from(answers[0], "london") < 1 and km_from(answers[1], "berlin") < 1
    # the night of the change, 26 March 2023: +01:00 is Berlin before 02:00 (London is still on
    # +00:00) and London after it (Berlin has moved on to +02:00)
    night = datetime.datetime(2023, 3, 26, 0, 30)
    before = photo(geo, 2, [("london", 0.5), ("berlin", 0.3)], night, offset=1)
    after = photo(geo, 3, [("berlin", 0.5), ("london", 0.3)], night + datetime.timedelta(hours=4), offset=1)
    answers = fuse([before, after], geo, FusionOptions(sources=[tz], neighbours=False))
    assert km_from(answers[0], "berlin") < 1 and km_from(answers[1], "london") < 1


def test_time_zone_in_the_hour_the_clocks_go_back(geo, tz):
    # 5 November 2023, 01:30 in New York happened twice: at -04:00, then at -05:00
    repeated = datetime.datetime(2023, 11, 5, 1, 30)
    for offset in (-4, -5):
        p = photo(geo, 0, [("london", 0.5), ("new_york", 0.3)], repeated, offset=offset)
        assert km_from(fuse([p], geo, FusionOptions(sources=[tz]))[0], "new_york") < 1, offset


def test_time_zone_across_the_date_line(geo, tz):
    east = photo(geo, 0, [("anchorage", 0.5), ("kamchatka", 0.3)], T0, offset=12)
    west = photo(geo, 1, [("kamchatka", 0.5), ("anchorage", 0.3)], T0, offset=-9)
    answers = fuse([east, west], geo, FusionOptions(sources=[tz], neighbours=False))
    assert answers[0].cell == cell(geo, "kamchatka") and answers[1].cell == cell(geo, "anchorage")


def test_region_by_country_box_and_circle(geo):
    p = photo(geo, 0, [("paris", 0.5), ("rome", 0.3), ("tokyo", 0.1)])
    for text in ("Italy", "it", "de,IT", "36,6,47,19", "41.9,12.5,50"):
        answer = fuse([p], geo, FusionOptions(sources=[RegionEvidence(parse_region(text), geo)]))[0]
        assert km_from(answer, "rome") < 1, text
        assert answer.source == "fused" and answer.evidence[0].startswith("region ")
    japan = fuse([p], geo, FusionOptions(sources=[RegionEvidence(parse_region("Japan"), geo)]))[0]
    assert km_from(japan, "tokyo") < 1 and japan.evidence == ["region Japan"]
    nowhere_there = photo(geo, 1, [("paris", 0.5), ("rome", 0.3)])  # the model ranks no cell in Japan
    japan_evidence = RegionEvidence(parse_region("JP"), geo)
    placed = fuse([nowhere_there], geo, FusionOptions(sources=[japan_evidence]))[0]
    assert japan_evidence.inside[placed.cell] and placed.evidence == ["region Japan"]
    assert placed.probability < 0.2 and placed.radius_km > 100  # somewhere in Japan, and it says how unsure
    for small in ("NR", "TV", "-20.5,-175.5,-20.0,-175.0"):  # Nauru, Tuvalu, a box in Tonga: one cell each at least
        assert RegionEvidence(parse_region(small), geo).inside.any(), small
    with pytest.raises(GeoGuessError, match="did you mean Italy"):
        parse_region("Itly")
    with pytest.raises(GeoGuessError, match="MIN_LAT"):
        parse_region("50,0,40,10")


def test_gps_anchor_places_the_photos_around_it(geo):
    anchor = photo(geo, 0, [("sydney", 0.4)], T0, offset=1, gps=(48.8606, 2.3376))  # the Louvre
    later = photo(geo, 1, [("tokyo", 0.4), ("paris", 0.1)], T0 + datetime.timedelta(minutes=4), offset=1)
    hours_later = photo(geo, 2, [("tokyo", 0.3), ("paris", 0.25)], T0 + datetime.timedelta(hours=2), offset=1)
    answers = fuse([anchor, later, hours_later], geo, FusionOptions(sources=[AnchorEvidence()]))
    assert answers[0].source == "gps" and answers[0].position == (48.8606, 2.3376)
    assert answers[0].evidence == ["its own GPS position (a measurement, not a prediction)"]
    assert answers[1].source == "near_gps" and answers[1].evidence == ["anchor IMG_0000.jpg 4 min earlier"]
    assert great_circle_km(*answers[1].position, 48.8606, 2.3376) < 0.01 and answers[1].radius_km < 3
    # two hours on: beyond interpolation, but the anchor still pulls it through the travel model
    assert answers[2].source == "fused" and km_from(answers[2], "paris") < 5
    assert "anchor IMG_0000.jpg 2 h earlier" in answers[2].evidence


def test_the_anchor_rule_is_symmetric_in_time(geo):
    """An iPhone's GPS photo has sub-seconds (.835) where another camera's photos have none: a photo
    30 min before it and one 30 min after it (as their EXIF times say) are both placed at it, and
    at 31 min neither is. Times are compared to the second, as EXIF shows them."""
    louvre = (48.8606, 2.3376)
    for minutes, reached in ((30, True), (31, False)):
        anchor = photo(geo, 0, [("sydney", 0.4)], T0 + datetime.timedelta(milliseconds=835), offset=1, gps=louvre)
        before = photo(geo, 1, [("tokyo", 0.3), ("sydney", 0.3)], T0 - datetime.timedelta(minutes=minutes), offset=1)
        after = photo(geo, 2, [("tokyo", 0.3), ("sydney", 0.3)], T0 + datetime.timedelta(minutes=minutes), offset=1)
        answers = fuse([anchor, before, after], geo, FusionOptions(sources=[AnchorEvidence()]))
        assert answers[1].source == answers[2].source == ("near_gps" if reached else "fused"), minutes
        if reached:
            assert answers[1].position == answers[2].position == louvre
            assert answers[1].radius_km == pytest.approx(answers[2].radius_km, abs=0.05)
            assert answers[1].evidence == [f"anchor IMG_0000.jpg {minutes} min later"]
            assert answers[2].evidence == [f"anchor IMG_0000.jpg {minutes} min earlier"]


def test_a_photo_beyond_the_gps_photos_is_not_said_to_be_between_them(geo):
    from types import SimpleNamespace

    from geoguess_app.core.geotag.position import GeoTag

    louvre, orsay = (48.8606, 2.3376), (48.8600, 2.3266)
    minutes = lambda m: T0 + datetime.timedelta(minutes=m)  # noqa: E731
    photos = [
        photo(geo, 0, [("sydney", 0.4)], minutes(0), offset=1, gps=louvre),
        photo(geo, 1, [("sydney", 0.4)], minutes(10), offset=1, gps=orsay),
        photo(geo, 2, [("tokyo", 0.4)], minutes(5), offset=1),  # between the two
        photo(geo, 3, [("tokyo", 0.4)], minutes(25), offset=1),  # after the last
        photo(geo, 4, [("tokyo", 0.4)], minutes(-20), offset=1),  # before the first
    ]
    between, after, before = fuse(photos, geo, FusionOptions(sources=[AnchorEvidence()]))[2:]
    assert between.source == "interpolated"
    assert between.evidence == ["anchor IMG_0000.jpg 5 min earlier; anchor IMG_0001.jpg 5 min later"]
    assert after.source == "near_gps" and after.position == orsay
    assert after.evidence == ["anchor IMG_0001.jpg 15 min earlier"]
    assert before.source == "near_gps" and before.position == louvre
    assert before.evidence == ["anchor IMG_0000.jpg 20 min later"]
    model = SimpleNamespace(name="LocationNet", untrained=False, verified=True)
    methods = {a.source: GeoTag.from_answer(a, model, "").processing_method for a in (between, after)}
    assert methods["interpolated"] == "GeoGuess, between GPS positions of other photos: not a prediction"
    assert methods["near_gps"] == "GeoGuess, from the GPS position of a photo taken close in time: not a prediction"


def test_gps_written_by_geoguess_is_not_an_anchor(geo):
    line = {
        "path": "a.jpg",
        "taken": {"time": "2023-01-14T10:00:00", "offset": None},
        "exif_gps": {"lat": 1.0, "lon": 2.0, "predicted": True},
        "distribution": [[cell(geo, "paris"), 0.5]],
        "error": None,
    }
    assert FusionPhoto.from_json(line, 0, geo.num_cells).gps is None
    line["exif_gps"]["predicted"] = False
    assert FusionPhoto.from_json(line, 0, geo.num_cells).gps == (1.0, 2.0)


@pytest.mark.parametrize(
    "line, reason",
    [
        ([1, 2], "no 'path'"),
        ({"path": "a.jpg", "distribution": "x"}, "not a list"),
        ({"path": "a.jpg", "distribution": [[99999, 0.5]]}, "outside 0-15526"),
        ({"path": "a.jpg", "distribution": [[1, 0.5], [1, 0.2]]}, "names a class twice"),
        ({"path": "a.jpg", "distribution": [[1, 1.5]]}, "between 0 and 1"),
        ({"path": "a.jpg", "taken": {"time": "yesterday"}, "distribution": [[1, 0.5]]}, "YYYY-MM-DD"),
        ({"path": "a.jpg", "taken": {"offset": "9h"}, "distribution": [[1, 0.5]]}, r"\+HH:MM"),
        ({"path": "a.jpg", "taken": {"time": 123}, "distribution": [[1, 0.5]]}, "YYYY-MM-DD"),
        ({"path": "a.jpg", "taken": {"offset": 5}, "distribution": [[1, 0.5]]}, r"\+HH:MM"),
        ({"path": "a.jpg", "model": {"num_classes": 48}, "distribution": [[1, 0.5]]}, "a model of 48 cells"),
        ({"path": "a.jpg", "distribution": [[True, 0.5]]}, "class true is not a whole number"),
        ({"path": "a.jpg", "distribution": [[12.7, 0.5]]}, "class 12.7 is not a whole number"),
        ({"path": "a.jpg", "distribution": [[1, "0.5"]]}, 'probability "0.5" is not a number'),
        ({"path": "a.jpg", "distribution": [[1, False]]}, "probability false is not a number"),
        ({"path": "a.jpg", "distribution": [[1, 0.0], [2, 0]]}, "add up to 0"),
        ({"path": "a.jpg", "distribution": [[1, 0.5, 7]]}, "not a list of \\[class, probability\\]"),
        ({"path": "a.jpg", "taken": {"offset": "+99:99"}, "distribution": [[1, 0.5]]}, "not an offset from UTC"),
        ({"path": "a.jpg", "taken": {"offset": "+14:30"}, "distribution": [[1, 0.5]]}, "not an offset from UTC"),
        (
            {"path": "a.jpg", "taken": {"time": "0001-01-01T00:00:00", "offset": "+14:00"}, "distribution": [[1, 0.5]]},
            "cannot be put in UTC",
        ),
        (
            {"path": "a.jpg", "taken": {"time": "9999-12-31T23:59:59", "offset": "-12:00"}, "distribution": [[1, 0.5]]},
            "cannot be put in UTC",
        ),
        ({"path": "a.jpg", "taken": {"time": "9999-12-31T20:00:00"}, "distribution": [[1, 0.5]]}, "within 14 h"),
    ],
)
def test_lines_that_cannot_be_read_say_why(geo, line, reason):
    with pytest.raises(BadLine, match=reason):
        FusionPhoto.from_json(line, 0, geo.num_cells)


def test_radius_holds_the_fused_probability(geo):
    sure = photo(geo, 0, [("paris", 0.95)])
    unsure = photo(geo, 1, [("paris", 0.3), ("tokyo", 0.29), ("sydney", 0.28)])
    answers = fuse([sure, unsure], geo, FusionOptions(neighbours=False))
    assert answers[0].radius_km < 50
    assert answers[1].radius_km > 15000  # Paris to Sydney: the three candidates hold 87%


def test_on_simulated_trips_fusion_beats_single_photos(geo, tz):
    """SIMULATED distributions (bench/fusion_simulator.py), calibrated to the published figures."""
    sys.path.insert(0, str(ROOT / "bench"))
    from fusion_simulator import PUBLISHED, SimConfig, Simulator

    sims = Simulator(geo, SimConfig(trips=25, seed=11)).run()
    truth = [(s.lat, s.lon) for s in sims]

    def share_within(positions, km):
        return np.mean([great_circle_km(*p, *t) <= km for p, t in zip(positions, truth)])

    single = [(geo.lats[s.photo.classes[0]], geo.lons[s.photo.classes[0]]) for s in sims]
    for km, published in PUBLISHED:
        assert share_within(single, km) == pytest.approx(published, abs=0.04), km
    fused = [a.position for a in fuse([s.photo for s in sims], geo, FusionOptions(sources=[tz]))]
    assert share_within(fused, 25) > 3 * share_within(single, 25)
    assert share_within(fused, 2500) > 1.4 * share_within(single, 2500)
