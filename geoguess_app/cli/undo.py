"""``geoguess undo``: put photos back as they were before GeoGuess wrote into them."""

from __future__ import annotations

import sys
from pathlib import Path

from .output import EXIT_ERROR, EXIT_OK, EXIT_PHOTO_FAILED


def add_parser(sub) -> None:
    u = sub.add_parser(
        "undo",
        help="put photos back as they were before 'geoguess tag --write'",
        description="Restore photos exactly as they were before GeoGuess wrote into them. Say "
        "what to undo: photos, folders (everything under them), --run ID, --last or "
        "--all; --list shows the runs that can be undone.",
    )
    u.add_argument("paths", nargs="*", metavar="PHOTO_OR_FOLDER", help="undo GeoGuess's writes into these")
    scope = u.add_mutually_exclusive_group()
    scope.add_argument("--run", metavar="ID", help="undo one run (see --list)")
    scope.add_argument("--last", action="store_true", help="undo the last run that wrote something")
    scope.add_argument("--all", action="store_true", help="undo every write in the journal")
    scope.add_argument("--list", action="store_true", help="show what can be undone, by run")
    u.add_argument("--journal", metavar="FILE", help="undo journal (default: in the user data folder)")
    u.set_defaults(handler=cmd_undo)


def cmd_undo(args) -> int:
    from ..core.errors import GeoGuessError
    from ..core.geotag.journal import Journal
    from ..core.geotag.outcome import RESTORED
    from ..core.geotag.undo import UndoScope, undo
    from ..core.geotag.undo_listing import list_runs
    from ..core.names import display_path

    journal = Journal(args.journal)
    if args.list or not (args.paths or args.run or args.last or args.all):
        runs, notes = list_runs(journal)
        _print_runs(runs, notes, display_path)
        if args.list:
            return EXIT_PHOTO_FAILED if any(n.serious for n in notes) else EXIT_OK
        print("geoguess: say what to undo: PHOTO or FOLDER, --run ID, --last or --all", file=sys.stderr)
        return EXIT_ERROR
    if args.paths and (args.run or args.last or args.all):
        raise GeoGuessError("give photos or folders, or one of --run, --last, --all, not both")
    scope = UndoScope(paths=[Path(p) for p in args.paths], run=args.run, last=args.last, everything=args.all)
    notices: list[str] = []
    outcomes = []
    for o in undo(journal, scope, notices):
        for note in notices:
            print(f"geoguess: {note}", file=sys.stderr)
        notices.clear()
        outcomes.append(o)
        print(f"{o.status:>11}  {display_path(o.path)}: {o.message}", flush=True)
    for note in notices:
        print(f"geoguess: {note}", file=sys.stderr)
    failed = [o for o in outcomes if o.failed]
    if not outcomes:
        print(f"geoguess: nothing to undo for {scope.describe()}", file=sys.stderr)
    elif failed:
        print(f"geoguess: {len(failed)} photo(s) NOT restored:", file=sys.stderr)
        for o in failed:
            print(f"  {display_path(o.path)}: {o.message}", file=sys.stderr)
    else:
        print(f"geoguess: {sum(o.status == RESTORED for o in outcomes)} restored", file=sys.stderr)
    return EXIT_PHOTO_FAILED if failed else EXIT_OK


def _print_runs(runs, notes, display_path) -> None:
    if not runs:
        print("Nothing was written by GeoGuess (the undo journal is empty).")
    for s in runs:
        left = (
            f"{s.undoable} of {s.written} photo(s) can be undone" if s.undoable else f"{s.written} photo(s), all undone"
        )
        command = s.run.command or ("written by GeoGuess 0.1" if s.run.id == "legacy" else "")
        print(f"{s.run.id}  {s.run.time[:19].replace('T', ' ')}  {left}")
        if command:
            print(f"    {display_path(command)}")
        for folder in s.folders[:5]:
            print(f"    in {display_path(folder)}")
        if len(s.folders) > 5:
            print(f"    and {len(s.folders) - 5} more folders")
    for note in notes:
        print(f"{'WARNING' if note.serious else 'note'}: {display_path(note.describe())}")
