"""Reading the undo journal: each framed line checked, damaged lines named with the photos they
may concern, what still checks out in a damaged write record salvaged (journal_salvage), and a
write whose record is gone rebuilt from its completion mark, which repeats what undo needs."""

from __future__ import annotations

import json
import re
import zlib

from .journal_records import MARKS, WRITE_ID, Contents, Damage, Run, WriteRecord, WriteState
from .journal_salvage import salvage

# The frame's end. One stray byte after it is the line's damaged newline: the record itself is whole.
_CRC = re.compile(rb', "crc32": "([0-9a-f]{8})"}[^{]?$', re.S)
START = b'{"type": "'
_PATH = re.compile(r'"(?:path|given)": "((?:[^"\\]|\\.)*)"')
_ANY_PATH = re.compile(r'"(/(?:[^"\\]|\\.)*)"')  # when the key itself is damaged: absolute paths
_ID = re.compile(r'"(?:id|of)": "([0-9a-z.-]+)"')
LEGACY_SIDECAR = "GeoGuess:SidecarCreated"  # GeoGuess 0.x marked a sidecar it created so


def unframe(line: bytes) -> dict | None:
    """The record of one framed line, or None if the line is torn or damaged."""
    m = _CRC.search(line)
    if m is None or int(m.group(1), 16) != zlib.crc32(line[: m.start()]):
        return None
    try:
        record = json.loads(line[: m.start()].decode("utf-8") + "}")
    except ValueError:  # UnicodeDecodeError included
        return None
    if not isinstance(record, dict) or not isinstance(record.get("type"), str):
        return None
    record.pop("crc32", None)
    return record


def read_contents(data: bytes) -> Contents:
    """Every readable record of a journal's bytes, and every damaged line with the photos it may
    concern."""
    runs: dict[str, Run] = {}
    writes: dict[str, WriteRecord] = {}
    restores: dict[str, dict] = {}
    damaged: list[Damage] = []
    marks: dict[str, list[tuple[int, dict]]] = {}
    broken: list[tuple[int, bytes, Damage]] = []  # damaged pieces, for salvage
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip(b" \t\r\0"):  # empty, or wiped with zeros: nothing left to read
            if line:
                damaged.append(Damage(number, "(a wiped line: zero bytes)"))
            continue
        for piece, record in _records(line):
            if record is None:
                damage = _damage(number, piece)
                if broken and broken[-1][0] == number - 1 and not piece.startswith(START):
                    # a damaged newline cut a record in two: salvage it whole (the damaged byte aside)
                    first, rest = broken.pop(), piece
                    damaged.remove(first[2])
                    damage = _damage(first[0], first[1] + b"\n" + rest)
                    piece, number_of = first[1] + b"\n" + rest, first[0]
                else:
                    number_of = number
                damaged.append(damage)
                broken.append((number_of, piece, damage))
                continue
            try:
                _apply(record, runs, writes, restores, marks, number)
            except (KeyError, TypeError, ValueError):
                damaged.append(_damage(number, piece))
    for number, piece, damage in broken:
        _salvage_into(writes, marks, number, piece, damage)
    for write_id, found in marks.items():  # a write whose record is gone: its done mark
        done = [(n, m) for n, m in found if m["type"] == WriteState.DONE]
        if write_id not in writes and done and WRITE_ID.fullmatch(write_id):
            write = WriteRecord.from_mark(write_id, done[-1][1], done[-1][0])
            if write is not None:
                write.state = WriteState(found[-1][1]["type"])
                writes[write_id] = write
    for write in writes.values():
        if write.origin == "damaged":
            _complete_from_mark(write, marks.get(write.id, []))
    for d in damaged:  # a damaged mark: name the photo of the write it was about
        d.paths += [p for i in d.ids if i in writes for p in writes[i].names() if p and p not in d.paths]
    ordered = sorted(writes.values(), key=lambda w: w.line)
    for w in ordered:
        runs.setdefault(w.run, Run(w.run, w.time, "", "")).writes.append(w)
    last = data.count(b"\n") + 1
    torn = bool(data) and not data.endswith(b"\n") and any(d.line == last for d in damaged)
    return Contents(runs, ordered, damaged, restores, marks, torn)


def _salvage_into(writes: dict, marks: dict, number: int, piece: bytes, damage: Damage) -> None:
    """What checks out in a damaged write record, as a write: under its own id when that is proven
    (or free), else under the id of a done mark that names the same photo or file."""
    salvaged = salvage(piece)
    write = WriteRecord.from_salvage(salvaged, number) if salvaged else None
    if write is None:
        return
    if "id" in write.unproven or not WRITE_ID.fullmatch(write.id) or write.id in writes:
        # its id cannot be trusted: a done mark of the same photo, else its own number where that
        # fits its run, else the one number its run lacks
        write.id = (
            _adopt_id(write, writes, marks)
            or _own_number(write, writes, marks)
            or _missing_number(write, writes, marks)
            or write.id
        )
        if WRITE_ID.fullmatch(write.id):
            write.run = write.id.rsplit(".", 1)[0]
    if write.id in writes:
        return
    writes[write.id] = write
    damage.salvaged = write.id


def _known(run: str, writes: dict, marks: dict) -> set[int]:
    prefix = run + "."
    return {int(i[len(prefix) :]) for i in [*writes, *marks] if i.startswith(prefix) and i[len(prefix) :].isdigit()}


def _own_number(write: WriteRecord, writes: dict, marks: dict) -> str | None:
    """The number its (damaged) id gives, under its proven run, when no other write has it."""
    number = write.id.rsplit(".", 1)[-1]
    if "run" in write.unproven or not number.isdigit():
        return None
    known = _known(write.run, writes, marks)
    n = int(number)
    return f"{write.run}.{n}" if n not in known and 0 < n <= max(known, default=0) + 1 else None


def _missing_number(write: WriteRecord, writes: dict, marks: dict) -> str | None:
    """``RUN.N`` when N is the only number between 1 and the run's highest that no record or mark
    has; None when that is not one number."""
    known = _known(write.run, writes, marks)
    missing = set(range(1, max(known, default=0) + 2)) - known
    if len(missing) == 1 or (len(missing) == 2 and max(known, default=0) + 1 in missing):
        return f"{write.run}.{min(missing)}"
    return None


def _adopt_id(write: WriteRecord, writes: dict, marks: dict) -> str | None:
    sha = write.after.get("sha256")
    for write_id, found in marks.items():
        if write_id in writes:
            continue
        for _, m in found:
            if m["type"] != WriteState.DONE:
                continue
            if (write.path and m.get("path") == write.path) or (sha and (m.get("after") or {}).get("sha256") == sha):
                return write_id
    return None


def _records(line: bytes) -> list[tuple[bytes, dict | None]]:
    """The line's record; or, when it does not verify, its parts split at each record start, each
    with its record or None (damaged)."""
    record = unframe(line) or _legacy(line)
    if record is not None:
        return [(line, record)]
    starts = [m.start() for m in re.finditer(re.escape(START), line)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    pieces = [line[a:b] for a, b in zip(starts, [*starts[1:], len(line)])]
    return [(piece, unframe(piece)) for piece in pieces]


def _legacy(line: bytes) -> dict | None:
    """A record of GeoGuess 0.x's journal (unframed JSON), as a record of this one."""
    try:
        old = json.loads(line.decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(old, dict) or "crc32" in old or "type" in old:
        return None
    if "undone" in old:
        return {"type": "undone", "of": str(old["undone"])}
    if not {"id", "path", "before", "after"} <= set(old):
        return None
    created = bool(old["before"].get(LEGACY_SIDECAR))
    before = {} if created else old["before"]
    return {
        "type": "write",
        "id": str(old["id"]),
        "run": "legacy",
        "time": "",
        "path": old["path"],
        "kind": "sidecar" if created else "photo",
        "before": None if created else {},
        "after": {},
        "tags": {"set": old["after"], "before": before, "added": []},
        "delta": None,
    }


def _apply(
    record: dict,
    runs: dict[str, Run],
    writes: dict[str, WriteRecord],
    restores: dict[str, dict],
    marks: dict[str, list[tuple[int, dict]]],
    line: int,
) -> None:
    kind = record["type"]
    if kind == "run":
        runs[record["run"]] = Run(
            record["run"],
            record.get("time", ""),
            record.get("command", ""),
            record.get("cwd", ""),
            pid=record.get("pid") if isinstance(record.get("pid"), int) else None,
            host=str(record.get("host", "")),
            planned=record.get("photos") if isinstance(record.get("photos"), int) else None,
            folders=[str(f) for f in record.get("folders") or []],
            line=line,
        )
    elif kind == "end":
        run = runs.get(record["run"])
        if run is not None:
            run.end = record
    elif kind == "write":
        write = WriteRecord.from_dict(record)
        write.line = line
        writes[write.id] = write
    elif kind == "restore":
        restores[str(record["of"])] = record
    elif kind in MARKS:
        of = str(record["of"])
        marks.setdefault(of, []).append((line, record))
        written = writes.get(of)
        if written is not None:
            written.state = WriteState(kind)
            written.reason = record.get("reason", "")
    else:
        raise ValueError(f"unknown record type {kind!r}")


def _complete_from_mark(write: WriteRecord, found: list[tuple[int, dict]]) -> None:
    """A damaged record's state from its marks, and the parts it could not prove from its done
    mark, which repeats them."""
    if found:
        write.state = WriteState(found[-1][1]["type"])
        write.reason = found[-1][1].get("reason", "")
    done = next((m for _, m in reversed(found) if m["type"] == WriteState.DONE and "path" in m), None)
    if done is None:
        return
    unproven = set(write.unproven)
    if "path" in unproven:
        write.path, write.given = done["path"], done.get("given")
        unproven -= {"path", "given"}
    if "tags" in unproven and isinstance(done.get("tags"), dict):
        write.tags = {**done["tags"], **({"exif": write.tags["exif"]} if "exif" in write.tags else {})}
        unproven.discard("tags")
    if "kind" in unproven and isinstance(done.get("kind"), str):
        write.kind = done["kind"]
        unproven.discard("kind")
    for part in ("before", "after"):
        lost = {n for n in unproven if n == part or n.startswith(part + ".")}
        if not lost or part not in done:
            continue
        repeated = done[part]
        if repeated is None:  # the mark says: there was no file before (a new sidecar)
            write.before = None
            unproven -= lost
            continue
        if not isinstance(repeated, dict):
            continue
        mine = getattr(write, part)
        if not isinstance(mine, dict):
            mine = {}
            setattr(write, part, mine)
        for key, value in repeated.items():
            if f"{part}.{key}" in lost or part in lost or key not in mine:  # damaged, or its key was
                mine[key] = value
                unproven.discard(f"{part}.{key}")
        unproven.discard(part)
    write.unproven = frozenset(unproven)


def _damage(number: int, piece: bytes) -> Damage:
    text = piece.decode("utf-8", "replace")
    paths = []
    for m in list(_PATH.finditer(text)) or [m for m in _ANY_PATH.finditer(text) if "/.geoguess-" not in m.group(1)]:
        try:
            paths.append(json.loads(f'"{m.group(1)}"'))
        except ValueError:
            paths.append(m.group(1))
    return Damage(number, text[:80], paths, _ID.findall(text))
