"""One position written into several photos at once (the photos selected in the filmstrip): the
shown photo's chosen guess, or the position the person set (the pin dragged, a searched place,
typed coordinates: written as set by a person). One confirmation lists what will happen to each photo; the writes are one run of the
undo journal, so one Edit > Undo puts them all back.

A photo that already has a GPS position keeps it (the writer refuses it, with that reason): replacing
a position is asked photo by photo, in the single-photo write. The confirmation says so before, so
such a photo is said afterwards as kept, not as a failure; only real failures are errors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from ..core.errors import GeoGuessError
from ..core.geotag.journal import Journal
from ..core.geotag.metadata import REPLACING_NEEDS
from ..core.geotag.outcome import REFUSED, WRITTEN, TagOutcome, write_one
from ..core.geotag.staged_write import HARDLINKS_CHOICE, check_writable
from ..core.geotag.writer import GeoTag, PhotoWriter
from ..core.names import display_path
from ..core.predict.results import PhotoResult
from .write_choices import write_choices


def plan_text(
    paths: list[str], results: Callable[[str], PhotoResult | None], written: dict[str, str], what: str
) -> str:
    """The confirmation: the position, and what will happen to each photo."""
    lines = []
    for path in paths:
        name = display_path(Path(path).name)
        result = results(path)
        if path in written:
            lines.append(f"  {name}: keeps the position GeoGuess wrote into it ({written[path]})")
        elif result is not None and result.exif_gps is not None:
            gps = result.exif_gps
            lines.append(f"  {name}: keeps its own GPS position ({gps.lat:.6f}, {gps.lon:.6f})")
        else:
            try:  # what the write will find first (a stat, no reading): read-only, gone, hard links
                check_writable(path)
                lines.append(f"  {name}: gets the position")
            except GeoGuessError as e:
                lines.append(f"  {name}: will be refused: {in_window(str(e))}")
    return f"Write {what} into {len(paths)} photos?\n\n" + "\n".join(lines)


def group_tag(tag: GeoTag, shown_name: str, count: int) -> GeoTag:
    """The tag each photo of the group gets: the shown photo's position, with where it came from. A
    position the person set stays one (typed, searched, the pin); a guess of the shown photo given
    to others is recorded as moved there by a person (Adjusted)."""
    if tag.by_person:
        note = f"set by a person while {shown_name} was shown, given to {count} photos at once"
        return dataclasses.replace(tag, evidence=(*tag.evidence, note))
    note = f"the position chosen for {shown_name}, given by hand to {count} photos at once"
    return dataclasses.replace(tag, adjusted=True, evidence=(*tag.evidence, note))


def write_group(journal: Journal, paths: list[str], tags: dict[str, GeoTag], what: str) -> tuple[str, list[TagOutcome]]:
    """Write each photo's tag (background thread), never replacing a GPS position; one journal run."""
    writer = PhotoWriter(journal, command=f"GeoGuess window: Write {what} to {len(paths)} photos", **write_choices())
    writer.prepare_folders(paths)  # the run records its photos, and then its end (journal_check)
    try:
        return writer.run, [write_one(writer, path, tags[path]) for path in paths]
    finally:
        writer.finish()


def in_window(reason: str) -> str:
    """A refusal said as the window offers the choice, not with the command line's options."""
    reason = reason.replace(REPLACING_NEEDS, "; kept (to replace it, write to that photo on its own)")
    return reason.replace(HARDLINKS_CHOICE, "Write to that photo on its own to choose what happens to its other names.")


def kept(outcome: TagOutcome) -> bool:
    """The photo kept the GPS position it had (its own, or one GeoGuess wrote), as the confirmation
    said it would: refused only because a position is never replaced in a group write."""
    return outcome.status == REFUSED and outcome.message.endswith(REPLACING_NEEDS)


def said(outcome: TagOutcome) -> str:
    """What happened to the photo, in the window's words ('kept: it already has a GPS position ...')."""
    if kept(outcome):
        return "kept: " + outcome.message.removesuffix(REPLACING_NEEDS)
    return in_window(outcome.summary)


def summary(outcomes: list[TagOutcome]) -> tuple[str, list[str]]:
    """'3 written, 1 kept its own GPS position, 1 not written', and a line per photo that was not
    written for a reason the person was not told to expect (the failures)."""
    written = sum(o.status == WRITTEN for o in outcomes)
    keeping = sum(kept(o) for o in outcomes)
    failed = [f"{display_path(Path(o.path).name)}: {said(o)}" for o in outcomes if o.status != WRITTEN and not kept(o)]
    parts = [f"{written} written"]
    if keeping:
        parts.append(
            f"{keeping} kept its own GPS position" if keeping == 1 else f"{keeping} kept their own GPS positions"
        )
    if failed or not keeping:
        parts.append(f"{len(failed)} not written")
    return ", ".join(parts), failed
