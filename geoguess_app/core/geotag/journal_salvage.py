"""What can still be proven of a damaged write record of the undo journal.

Each write record carries ``sums``: the CRC-32 of each of its parts (each top-level member, and
each member of ``before`` and ``after``), so that damage in one part (a flipped bit, a zeroed
range) loses only that part. Each sum starts from the CRC-32 of the record's id, so that a part of
another record (two records run together where a stretch of zeros wiped the line between them)
is never proven as this one's; a damaged id is found again among the ids one bit away, or the
numbers of its run. A damaged line is read member by member (each from its own start,
whatever is broken before it), and a part counts as proven when its CRC-32 is the one recorded.
What undo needs and cannot prove here may still be proven otherwise: by the write's completion
mark (which repeats the photo's name, hashes and tags), and the delta by the SHA-256 of what it
rebuilds.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field

#: The members of a write record, in the order they are written.
WRITE_MEMBERS = (
    "id", "run", "time", "kind", "path", "given", "before", "after", "tags", "delta", "in_place", "tmp", "times"
)  # fmt: skip
NESTED = ("before", "after")  # dicts whose members are proven one by one
_DECODER = json.JSONDecoder()


def canonical(value) -> bytes:
    return json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":")).encode("ascii")


def crc(value, write_id: str) -> str:
    """The sum of one part of the write ``write_id``."""
    return f"{zlib.crc32(canonical(value), zlib.crc32(write_id.encode('utf-8', 'replace'))):08x}"


def _seed(values: dict, sums: dict) -> str | None:
    """The id the sums were made with: the id as read, or one bit away from it, or a number of the
    run as read, when its own sum proves it; None when none does."""
    read, run = values.get("id"), values.get("run")
    proof = sums.get("id")
    candidates: list[str] = []
    if isinstance(read, str):
        candidates.append(read)
        raw = read.encode("utf-8", "replace")
        candidates += [
            (raw[:i] + bytes([raw[i] ^ (1 << b)]) + raw[i + 1 :]).decode("utf-8", "replace")
            for i in range(len(raw))
            for b in range(8)
        ]
    for c in candidates:
        if crc(c, c) == proof:
            return c
    if isinstance(run, str) and isinstance(proof, str):
        return next((f"{run}.{n}" for n in range(1, 100_001) if crc(f"{run}.{n}", f"{run}.{n}") == proof), None)
    return None


def parts(record: dict) -> dict[str, object]:
    """A write record's parts, as they are summed: ``before.sha256``, ``path``, ``tags``..."""
    out: dict[str, object] = {}
    for key in WRITE_MEMBERS:
        if key not in record:
            continue
        value = record[key]
        if key in NESTED and isinstance(value, dict):
            out.update({f"{key}.{sub}": v for sub, v in value.items()})
        else:
            out[key] = value
    return out


def with_sums(record: dict) -> dict:
    """The record with its parts' sums added (``sums`` goes last, before the frame's CRC)."""
    out = {k: v for k, v in record.items() if k != "sums"}
    out["sums"] = {name: crc(value, str(out["id"])) for name, value in parts(out).items()}
    return out


@dataclass
class Salvaged:
    """What a damaged write record still holds: its members as read, and which of them are proven."""

    record: dict  # nested like a write record; parts that could not be read are absent
    proven: set[str] = field(default_factory=set)
    found: set[str] = field(default_factory=set)

    @property
    def unproven(self) -> set[str]:
        return self.found - self.proven


def _value_at(text: str, key: str, start: int = 0, end: int | None = None) -> tuple[object, int, int] | None:
    """The JSON value of the first ``"key": `` member in text[start:end]: (value, where its key
    starts, where the value ends); None when it is not there or does not parse."""
    m = re.compile(r'[{,] ?"' + re.escape(key) + r'": ').search(text, start, end if end is not None else len(text))
    if m is None:
        return None
    try:
        value, stop = _DECODER.raw_decode(text, m.end())
    except ValueError:
        return (_UNREADABLE, m.start(), m.end())
    if end is not None and stop > end:
        return None
    return value, m.start(), stop


_UNREADABLE = object()


def salvage(piece: bytes) -> Salvaged | None:
    """The provable parts of a damaged line that was a write record, or None when it was not one
    (or too little of it is left to tell)."""
    text = piece.decode("utf-8", "replace")
    if '"kind": ' not in text and '"delta": ' not in text and '"after": ' not in text:
        return None
    got = _value_at(text, "sums")
    sums = got[0] if got is not None and isinstance(got[0], dict) else {}
    starts: dict[str, int] = {}
    values: dict[str, object] = {}
    for key in WRITE_MEMBERS:
        found = _value_at(text, key)
        if found is not None:
            values[key], starts[key] = found[0], found[1]
    out = Salvaged({})
    ordered = sorted(starts.values()) + [len(text)]
    for key, value in values.items():
        if key in NESTED and not isinstance(value, dict) and value is not None:
            # the dict itself is broken: read its members one by one within its own span
            start = starts[key]
            end = next(p for p in ordered if p > start)
            subs = {name.split(".", 1)[1] for name in sums if name.startswith(key + ".")}
            inner: dict = {}
            for sub in subs or {"sha256", "size", "mtime_ns", "atime_ns"}:
                got = _value_at(text, sub, start, end)
                if got is not None and got[0] is not _UNREADABLE:
                    inner[sub] = got[0]
            value = inner
        if value is _UNREADABLE:
            out.found.add(key)
            continue
        out.record[key] = value
    seed = _seed(out.record, sums)
    if seed is not None and out.record.get("id") != seed:
        out.record["id"] = seed  # its own, as its sum proves
        out.found.add("id")
    for name, value in parts(out.record).items():
        out.found.add(name)
        if seed is not None and sums.get(name) == crc(value, seed):
            out.proven.add(name)
    if "id" not in out.record and not out.found & {"path", "after.sha256", "delta"}:
        return None
    return out
