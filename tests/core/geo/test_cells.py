"""grids.txt parsing and validation, S2 cell geometry, great-circle distances."""

from __future__ import annotations

import pytest
import s2sphere

from geoguess_app.core.errors import ModelError
from geoguess_app.core.geo.cells import CellGrid, great_circle_km


@pytest.fixture(scope="module")
def grid(reference_dir) -> CellGrid:
    return CellGrid.from_file(reference_dir / "grids.txt")


def test_real_grid_has_15527_classes_in_file_order(grid, reference_dir):
    assert len(grid) == 15527
    first = (reference_dir / "grids.txt").read_text().splitlines()[0].split("\t")
    assert grid.tokens[0] == first[0] and grid.lats[0] == float(first[1]) and grid.lons[0] == float(first[2])


def test_every_centre_of_mass_lies_in_its_own_cell(grid):
    assert grid.centres_outside_cells() == []


def test_cell_info_from_s2(grid):
    info = grid.info(0)  # 8644b594: a level-13 cell in Austin, Texas
    assert info.token == "8644b594" and info.level == 13
    assert 0.5 < info.size_km < 2.0
    lats = [c[0] for c in info.corners]
    lons = [c[1] for c in info.corners]
    assert min(lats) <= info.lat <= max(lats) and min(lons) <= info.lon <= max(lons)
    # the corners are those of the S2 cell itself
    vertex = s2sphere.LatLng.from_point(s2sphere.Cell(s2sphere.CellId.from_token("8644b594")).get_vertex(0))
    assert info.corners[0] == pytest.approx((vertex.lat().degrees, vertex.lng().degrees))


def test_cell_sizes_follow_levels(grid):
    sizes = {}
    for i in range(0, len(grid), 97):
        info = grid.info(i)
        sizes.setdefault(info.level, []).append(info.size_km)
    levels = sorted(sizes)
    means = [sum(sizes[lv]) / len(sizes[lv]) for lv in levels]
    assert all(a > b for a, b in zip(means, means[1:]))  # each level down is smaller


def test_great_circle_distances():
    assert great_circle_km(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(343.5, abs=1.0)  # London-Paris
    assert great_circle_km(0, 0, 0, 180) == pytest.approx(20015.1, abs=1.0)  # half the equator
    assert great_circle_km(10, 20, 10, 20) == 0


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("8644b594\t30.28\n", "line 1: expected 'token lat lon'"),
        ("8644b594\tnorth\t-97.7\n", "not numbers"),
        ("8644b594\t95\t-97.7\n", "outside the Earth's range"),
        ("zz44b594\t30.28\t-97.7\n", "not a valid S2 cell token"),
        ("8644b5940\t30.28\t-97.7\n", "not a valid S2 cell token"),  # trailing zero: not canonical
        ("8644b594\t30.28\t-97.7\n8644b594\t30.28\t-97.7\n", "line 2: cell 8644b594 is listed twice"),
        ("8644b594\t30.28\t-97.7\n\n5485df\t49.1\t-123.0\n", "line 2"),
        ("", "holds no cells"),
    ],
)
def test_malformed_grids_are_clear_errors(text, fragment):
    with pytest.raises(ModelError, match=None) as err:
        CellGrid.parse(text, source="grids.txt")
    assert fragment in str(err.value)


def test_binary_file_is_not_a_grid(tmp_path):
    (tmp_path / "grids.txt").write_bytes(b"\x00\xff\xfe" * 100)
    with pytest.raises(ModelError, match="not a LocationNet cell list"):
        CellGrid.from_file(tmp_path / "grids.txt")
