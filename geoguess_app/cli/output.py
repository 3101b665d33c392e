"""What the command line prints: exit codes, progress bars, a prediction for reading."""

from __future__ import annotations

import sys

EXIT_OK, EXIT_PHOTO_FAILED, EXIT_ERROR = 0, 1, 2


def warn_about_model(info, warned: bool) -> bool:
    """Say once per run what is wrong with the model (untrained, unverified)."""
    if not warned and info is not None and info.warning:
        print(f"WARNING: {info.warning}.", file=sys.stderr)
        return True
    return warned


def progress_bar(total: int, disabled: bool, unit: str = "photo"):
    if disabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True)


def human(result) -> str:
    from ..core.geo.cells import format_km
    from ..core.names import display_path

    lines = [display_path(result.path)]
    if result.error:
        lines[0] += f"\n  error: {result.error}"
        return lines[0]
    about = result.about()
    if about:
        lines[0] += "  (" + ", ".join(about) + ")"
    gps = result.exif_gps
    if gps:
        lines.append(f"  EXIF GPS in the photo: {gps.lat:.5f}, {gps.lon:.5f}")
    if result.model.untrained:
        lines.append("  UNTRAINED MODEL: these guesses are random and mean nothing")
    elif not result.model.verified:
        lines.append("  UNVERIFIED MODEL: not the published LocationNet files; these guesses are not LocationNet's")
    if result.model.precision != "exact":
        lines.append(
            f"  Precision: {result.model.precision} ({result.model.arithmetic} and a reduced decode, "
            "not the exact float32 answers)"
        )
    header = f"  {'#':>2}  {'prob':>6}  {'latitude':>9}  {'longitude':>10}  {'cell':>8}  place"
    if gps:
        header += "  (distance from EXIF GPS)"
    lines.append(header)
    for g in result.predictions:
        line = (
            f"  {g.rank:>2}  {g.probability * 100:5.1f}%  {g.lat:9.4f}  {g.lon:10.4f}  "
            f"{format_km(g.cell_size_km):>8}  {g.place}"
        )
        if g.distance_km is not None:
            line += f"  ({format_km(g.distance_km)})"
        lines.append(line)
    return "\n".join(lines)
