"""The tests' own copy of the tiny stand-in's cells is the official grid's, as synth takes them."""

from helpers import TINY_GRID

from geoguess_app.core.model.standin import TINY_CELLS


def test_the_tiny_grid_in_tests_data_is_the_one_synth_takes_from_the_official_grid(reference_dir):
    official = (reference_dir / "grids.txt").read_text(encoding="ascii").splitlines()
    step = len(official) // TINY_CELLS
    assert TINY_GRID.read_text(encoding="ascii").splitlines() == official[::step][:TINY_CELLS]
