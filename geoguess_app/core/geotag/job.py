"""Geotag a set of photos: the one service behind ``geoguess tag``, the window's folder review and
``geoguess batch write``.

A ``GeotagJob`` is made from a ``TagPolicy`` (write or rehearse, threshold, consent, how files are
treated) and a ``FusionSettings`` (which evidence places the photos besides their own pixels). It
chooses the sources of evidence (fusion/settings.py), predicts, fuses, decides each photo and
writes it, or says what a write would do. Its callers only parse what a person chose, show the
outcomes and call it:

- the command line runs it once with the person's policy (``run``);
- the window plans with a dry run that accepts every guess (``plan``: the person ticks photos by
  the threshold and by hand), then writes the ticked photos from the plan without predicting
  again (``write_planned``);
- ``geoguess batch write`` decides photos fused on a cluster (``decide``).

Each job that writes is one run of the undo journal, ended by ``finish``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ..fusion.fuse import FusedAnswer
from ..fusion.inputs import FusionPhoto
from ..fusion.settings import FusionSettings, PreparedFusion
from ..predict.pipeline import Predictor
from ..predict.results import PhotoResult
from .journal import Journal
from .outcome import SKIPPED, STOPPED, TagOutcome
from .policy import TagPolicy
from .tagging import apply, decide_fused, tag_photos, with_twin
from .writer import GeoTag, PhotoWriter


@dataclass
class Planned:
    """One photo of a plan that may be written: its decision, and the fused answer it came from."""

    outcome: TagOutcome
    answer: FusedAnswer | None = None


class GeotagJob:
    def __init__(
        self,
        policy: TagPolicy,
        fusion: FusionSettings | PreparedFusion | None = FusionSettings(),
        journal: Journal | None = None,
        command: str = "",
    ):
        """``fusion`` None: each photo from its own prediction only. The fusion settings are checked
        here unless prepared already (tracks read, region parsed): GeoGuessError says what is wrong
        before any work."""
        self.policy = policy
        self.fusion: PreparedFusion | None = fusion.prepare() if isinstance(fusion, FusionSettings) else fusion
        self.journal = journal
        self.command = command
        self.writer: PhotoWriter | None = self._writer() if policy.write else None

    def _writer(self) -> PhotoWriter:
        """The one writer built from the policy: where each file is written, and what it keeps."""
        p = self.policy
        return PhotoWriter(
            self.journal,
            self.command,
            keep_mtime=p.keep_mtime,
            backup=p.backup,
            hardlinks=p.hardlinks,
            sidecar_name=p.sidecar_name,
            raw_in_file=p.raw_in_file,
        )

    @property
    def run_id(self) -> str | None:
        """The undo journal's id of the writes (``geoguess undo --run``)."""
        return self.writer.run if self.writer is not None else None

    def notices(self) -> list[str]:
        """What the person should be told besides each photo (taken: said once)."""
        if self.writer is None:
            return []
        said, self.writer.notices[:] = list(self.writer.notices), []
        return said

    # ----- one pass: predict, fuse, decide, write or rehearse ---------------------------------
    def run(
        self,
        paths: list[str] | list[Path],
        predictor: Predictor,
        cancel: threading.Event | None = None,
        stop: threading.Event | None = None,
        on_predicted: Callable[[PhotoResult], None] | None = None,
        on_fusing: Callable[[int], None] | None = None,
        on_fused: Callable[[list[FusionPhoto], list[FusedAnswer]], None] | None = None,
    ) -> Iterator[TagOutcome]:
        """One outcome per photo (see tagging.tag_photos for the order and for ``cancel``/``stop``)."""
        if self.writer is not None:
            self.writer.prepare_folders(paths)
        yield from tag_photos(
            paths,
            predictor,
            self.policy,
            writer=self.writer,
            fusion=self.fusion,
            cancel=cancel,
            stop=stop,
            on_predicted=on_predicted,
            on_fusing=on_fusing,
            on_fused=on_fused,
        )

    def decide(self, result: PhotoResult, answer: FusedAnswer, twin: str | None = None) -> TagOutcome:
        """One photo fused elsewhere (``geoguess batch fuse``), decided and written or rehearsed;
        ``twin``: its RAW twin, given the same position (``outcome.twin``)."""
        outcome = decide_fused(result, answer, self.policy, self.writer)
        return outcome if twin is None else with_twin(outcome, {outcome.path: twin}, self.policy, self.writer)

    # ----- the window: plan, review, then write the photos ticked ------------------------------
    @classmethod
    def planner(cls, fusion: FusionSettings | PreparedFusion | None, policy: TagPolicy = TagPolicy()) -> GeotagJob:
        """A dry run that plans every guess whatever its probability (the person ticks photos by the
        threshold and by hand); ``writing`` then writes what the person accepted."""
        return cls(replace(policy, write=False, min_probability=0.0), fusion)

    def writing(self, journal: Journal | None, command: str) -> GeotagJob:
        """The job that writes what this plan accepted: the same policy, for real."""
        return GeotagJob(replace(self.policy, write=True), self.fusion, journal, command)

    def write_planned(self, planned: Iterable[Planned], cancel: threading.Event | None = None) -> Iterator[TagOutcome]:
        """Write each planned photo as planned, without predicting again; ``cancel``: the rest are
        reported as not written."""
        assert self.writer is not None, "a job that writes (writing())"
        planned = list(planned)
        self.writer.prepare_folders([p.outcome.path for p in planned])  # the run records its photos
        for p in planned:
            if cancel is not None and cancel.is_set():
                yield TagOutcome(p.outcome.path, SKIPPED, STOPPED)
                continue
            o = p.outcome
            tag = o.tag  # what the plan rehearsed (a RAW twin: its JPEG's position)
            if tag is None and p.answer is not None:
                tag = GeoTag.from_answer(p.answer, o.model, o.guess.token if o.guess else "")
            if tag is None and o.guess is not None and o.model is not None:
                tag = GeoTag.from_guess(o.guess, o.model)
            if tag is None:
                yield TagOutcome(o.path, SKIPPED, "nothing planned to write")
                continue
            yield apply(self.policy, self.writer, o.path, tag, "")

    def finish(self) -> None:
        """The run is over: the journal records its end (see journal_check)."""
        if self.writer is not None:
            self.writer.finish()
