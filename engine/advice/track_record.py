"""How often a leader held at a given probability was right on cases held out from the
knowledge: the measured track record shown beside every differential.

A model's probability is a claim; the track record is the check. ``python -m
benchmarks.track_record`` scores published cases that the knowledge was never edited
against (by default the second blind set's calibration part and the third and fourth
sets' validation parts), groups them by the probability their leader was held at, counts
how many leaders were right, and writes the counts to ``track_record.json`` beside the
knowledge base's ``kb.yaml``. This module reads that file and says, for the leader in front
of the user, what happened to leaders held like it: "leaders held at 60% to 80% were right
in 32 of 42 ...: 76% (95% interval 61-87%)".

The same cases also set the **short list** (split-conformal prediction: Vovk, Gammerman and
Shafer 2005; Angelopoulos and Bates 2023): the leader and every diagnosis held at a
threshold or more, the threshold chosen so that such lists held the truth in at least
``coverage`` (say 90 %) of the held-out cases, with the finite-sample correction. For new
cases exchangeable with those, a list drawn this way holds the truth with at least that
probability, whatever the model's own probabilities are worth; the list is short when the
model is sure and long when it is not, which is how it says what it does not know.

The file is a measurement, not knowledge: it is JSON (the loader reads YAML only, so it
does not change the knowledge base's fingerprint) and it names the knowledge-base version it
was measured with. When the knowledge has changed since, the sentence says so. A knowledge
base without the file (an educator's working copy) has no track record, and nothing is
said. A file that is not as described is reported by :func:`load_track_record`'s error and
never half-read.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ossdx.core.errors import InputError, Location, Problem
from ossdx.kb.model import KnowledgeBase
from ossdx.reasoning.diagnosis import Differential, Entry

FILE_NAME = "track_record.json"
Z95 = 1.959964


def wilson_interval(successes: int, n: int, z: float = Z95) -> list[float]:
    """The 95 % Wilson score interval of a proportion (Wilson 1927; Brown, Cai and DasGupta
    2001 recommend it for small n): how far an accuracy on n cases may be from the rate it
    estimates."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


class Band(BaseModel):
    """Cases whose leader was held at ``low`` <= p < ``high`` (the last band includes 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    low: float = Field(ge=0, le=1)
    high: float = Field(gt=0, le=1)
    n: int = Field(ge=0)
    right: int = Field(ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> Band:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.right > self.n:
            raise ValueError(f"right ({self.right}) cannot exceed n ({self.n})")
        return self

    def label(self) -> str:
        if self.low == 0:
            return f"under {self.high:.0%}"
        if self.high == 1:
            return f"{self.low:.0%} or more"
        return f"{self.low:.0%} to {self.high:.0%}"


def conformal_threshold(truth_probabilities: list[float], coverage: float) -> float:
    """The split-conformal threshold for lists of every diagnosis held at it or more.

    With the nonconformity score 1 - P(truth) on n held-out cases, the lists hold the truth
    of a new exchangeable case with probability at least ``coverage`` when the threshold is
    the k-th largest P(truth), k = ceil((n + 1) coverage) (Angelopoulos and Bates 2023,
    section 1). When k > n the cases are too few for that level and the threshold is 0 (the
    whole differential). Rounded down to 4 decimals, which can only lengthen a list."""
    n = len(truth_probabilities)
    k = math.ceil((n + 1) * coverage - 1e-9)
    if n == 0 or k > n:
        return 0.0
    return math.floor(sorted(truth_probabilities, reverse=True)[k - 1] * 1e4) / 1e4


class ShortList(BaseModel):
    """The conformal short list's threshold and how it did on the cases that set it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    coverage: float = Field(gt=0, lt=1, description="the level it was set for, e.g. 0.9")
    threshold: float = Field(ge=0, le=1, description="diagnoses at this or more are listed")
    n: int = Field(ge=1, description="held-out cases that set it")
    covered: int = Field(ge=0, description="of them, cases whose list held the truth")

    @model_validator(mode="after")
    def _consistent(self) -> ShortList:
        if self.covered > self.n:
            raise ValueError(f"covered ({self.covered}) cannot exceed n ({self.n})")
        return self

    def members(self, differential: Differential) -> tuple[Entry, ...]:
        """The leader and every other entry held at the threshold or more, in rank order."""
        return tuple(e for i, e in enumerate(differential.entries)
                     if i == 0 or e.probability >= self.threshold)


class TrackRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    measured: str = Field(min_length=1, description="date of the measurement, YYYY-MM-DD")
    knowledge_base: str = Field(min_length=1, description="version it was measured with")
    cases: str = Field(min_length=1, description="what the cases are: 'published cases ...'")
    source: str = Field(min_length=1, description="which set they are: 'the ... part'")
    bands: tuple[Band, ...] = Field(min_length=1)
    short_list: ShortList | None = None

    @model_validator(mode="after")
    def _covering(self) -> TrackRecord:
        edges = [(b.low, b.high) for b in self.bands]
        if edges[0][0] != 0 or edges[-1][1] != 1 or any(
                a[1] != b[0] for a, b in itertools.pairwise(edges)):
            raise ValueError("the bands must run from 0 to 1 without gaps or overlaps, in order")
        return self

    @property
    def n(self) -> int:
        return sum(b.n for b in self.bands)

    def band_for(self, probability: float) -> Band:
        for band in self.bands:
            if band.low <= probability < band.high:
                return band
        return self.bands[-1]  # probability 1

    def sentence(self, probability: float, kb_version: str) -> str:
        """What happened to leaders held like this one, with the uncertainty of the count:
        'Track record: leaders held at 60% to 80% were right in 12 of 16 <cases>: 75% (95%
        interval 50-90%). Measured on <date> on <source> with knowledge base <version>.'"""
        band = self.band_for(probability)
        if band.n == 0:
            said = f"Track record: none of the {self.n} {self.cases} had a leader held at " \
                   f"{band.label()}."
        else:
            low, high = wilson_interval(band.right, band.n)
            said = (f"Track record: leaders held at {band.label()} were right in {band.right} "
                    f"of {band.n} {self.cases}: {band.right / band.n:.0%} (95% interval "
                    f"{low * 100:.0f}-{high:.0%}).")
        said += (f" Measured on {self.measured} on {self.source} with knowledge base "
                 f"{self.knowledge_base}")
        changed = self._changed(kb_version)
        return said + (f" ({changed})." if changed else ".")

    def _changed(self, kb_version: str) -> str:
        return ("" if kb_version == self.knowledge_base else
                f"this is {kb_version}: the knowledge has changed since")

    def short_list_sentence(self, differential: Differential, kb_version: str) -> str | None:
        """'Short list (90%): A, B and C, every diagnosis at 6.2% or more. Lists drawn this
        way held the truth in 165 of 181 <cases> (91%): on new cases like them, at least 90%
        (split-conformal).' A list of one says 'A alone, the only diagnosis at 6.2% or more'.
        The track-record sentence says where and when it was measured; this one says only
        whether the knowledge has changed since. None without a short list in the file."""
        short = self.short_list
        if short is None:
            return None
        names = [e.name for e in short.members(differential)]
        at = f"at {short.threshold:.1%} or more"
        if short.threshold == 0:
            listed = "the whole differential"
        elif len(names) == 1:
            listed = f"{names[0]} alone, the only diagnosis {at}"
        else:
            listed = f"{', '.join(names[:-1])} and {names[-1]}, every diagnosis {at}"
        said = (f"Short list ({short.coverage:.0%}): {listed}. Lists drawn this way "
                f"held the truth in {short.covered} of {short.n} {self.cases} "
                f"({short.covered / short.n:.0%}): on new cases like them, at least "
                f"{short.coverage:.0%} (split-conformal")
        changed = self._changed(kb_version)
        return said + (f"; {changed})." if changed else ").")


def bands_of(confidences: list[tuple[float, bool]], edges: tuple[float, ...]
             ) -> list[Band]:
    """Count (leader's probability, right?) pairs into bands between ``edges`` (0 ... 1)."""
    bands = []
    for i, (low, high) in enumerate(itertools.pairwise(edges)):
        last = i == len(edges) - 2
        inside = [right for p, right in confidences
                  if low <= p < high or (last and p >= high)]
        bands.append(Band(low=low, high=high, n=len(inside), right=sum(inside)))
    return bands


def load_track_record(kb_root: Path) -> TrackRecord | None:
    """The knowledge base's track record, or None when it has none. Raises :class:`InputError`
    (file and what is wrong) for a file that is there but not a track record. Read once per
    version of the file (every differential the app draws quotes it)."""
    path = Path(kb_root) / FILE_NAME
    try:
        stat = path.stat()
    except OSError:
        return None
    return _read(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read(path: str, mtime_ns: int, size: int) -> TrackRecord:
    """The file at ``path`` as it was at (mtime_ns, size); errors are not cached."""
    try:
        return TrackRecord.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise InputError([Problem(Location(str(path), line),
                               f"not a readable JSON file: {exc}")]) from None
    except ValidationError as exc:
        problems = [Problem(Location(str(path)),
                            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}")
                    for err in exc.errors()]
        raise InputError(problems) from None


def leader_note(kb: KnowledgeBase, differential: Differential) -> str | None:
    """The track-record sentence for the differential's leader; None when there is no single
    leader or the knowledge base has no track record. A broken file is named, not raised:
    the differential is still shown."""
    tied = differential.tied_leaders
    if len(tied) != 1:
        return None
    try:
        record = load_track_record(kb.root)
    except InputError as exc:
        return f"Track record not shown: {exc}"
    return None if record is None else record.sentence(tied[0].probability, kb.version)


def readable_track_record(kb_root: Path) -> TrackRecord | None:
    """The track record, or None when there is none or it is broken (a broken file is named
    by :func:`leader_note` beside the differential and by ``ossdx validate``)."""
    try:
        return load_track_record(kb_root)
    except InputError:
        return None


def _record_with_short_list(kb: KnowledgeBase, differential: Differential
                            ) -> TrackRecord | None:
    """The track record, when it has a short list and the differential a single leader."""
    if len(differential.tied_leaders) != 1:
        return None
    record = readable_track_record(kb.root)
    return record if record is not None and record.short_list is not None else None


def short_list_note(kb: KnowledgeBase, differential: Differential) -> str | None:
    """The conformal short list for this differential, as a sentence; None when there is no
    single leader or the knowledge base's track record has no short list."""
    record = _record_with_short_list(kb, differential)
    return None if record is None else record.short_list_sentence(differential, kb.version)


def short_list_data(kb: KnowledgeBase, differential: Differential) -> dict[str, Any] | None:
    """The short list for JSON: its diagnoses (ids, in rank order), threshold, level, the
    count that set it, and the sentence; None as for :func:`short_list_note`."""
    record = _record_with_short_list(kb, differential)
    if record is None or record.short_list is None:
        return None
    short = record.short_list
    return {"diagnoses": [e.id for e in short.members(differential)],
            "threshold": short.threshold, "coverage": short.coverage, "n": short.n,
            "covered": short.covered, "measured_with": record.knowledge_base,
            "text": record.short_list_sentence(differential, kb.version)}
