"""Does each diagnosis lead on its own typical picture?

``ossdx typical [--signs K] [--diagnosis ID] [--json]`` builds, for every described
diagnosis, the picture its profile calls typical and ranks it like any case. A diagnosis
that does not lead on its own picture has a base rate that its signs cannot overcome
against some rival, or a rival whose profile leaves those signs unstated (a finding a
profile does not state never counts against it). Either is worth an editor's look: a
textbook case of the diagnosis would then be called something else.

The picture, from the compiled profiles alone (no case): for every finding the diagnosis
states, the value that carries most of its expected evidence, ``P'(v | d) ln(P'(v | d) /
R(v))`` (the value's term of the Kullback-Leibler divergence of the profile from the
reference: a value both common in the diagnosis and telling against the reference mix);
the ``K`` findings with the largest such terms, in that order. A finding comes with the
answers its ``ask_when`` needs (a position in the vertebra with ``region: spine``), and is
skipped when the picture already contradicts them or the case checks refuse it, so the
picture is one a reader could meet. A number is entered as the middle of its bin. No
patient context is given, so the population base rates apply.

With ``--modality`` (repeatable) the picture is one study's: only findings that need no
modality (the region, the number of lesions) or one of those given (with what they
include: PET/CT gives a CT). Single-modality studies are a large part of real work-ups;
a diagnosis that leads on its full picture may not on what a radiograph or a bone scan
alone can show.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ossdx.core.errors import InputError
from ossdx.kb import profiles as prof
from ossdx.kb.model import KnowledgeBase
from ossdx.reasoning.cases import make_case
from ossdx.reasoning.diagnosis import Reasoner
from ossdx.reasoning.scoring import score

DEFAULT_SIGNS = 5


@dataclass(frozen=True)
class TypicalResult:
    """One diagnosis ranked on its own typical picture."""

    diagnosis: str
    picture: dict[str, Any]
    rank: int
    probability: float
    leader: str
    leader_probability: float

    @property
    def leads(self) -> bool:
        return self.rank == 1

    def verdict(self, name: Callable[[str], str] = str) -> str:
        """'leads at 84%', or 'ranks 2 at 17%; <leader> leads at 79%' (``name`` words an id)."""
        if self.leads:
            return f"leads at {self.probability:.0%}"
        return (f"ranks {self.rank} at {self.probability:.0%}; {name(self.leader)} leads at "
                f"{self.leader_probability:.0%}")

    def as_dict(self) -> dict[str, Any]:
        return {"diagnosis": self.diagnosis, "picture": self.picture, "rank": self.rank,
                "probability": round(self.probability, 4), "leader": self.leader,
                "leader_probability": round(self.leader_probability, 4)}


def _answer(kb: KnowledgeBase, finding: str, key: str) -> Any:
    """The answer that enters profile value ``key``: the value, or a number in its bin."""
    spec = kb.vocabulary.findings[finding]
    for vk in prof.value_keys(spec):
        if vk.key != key:
            continue
        low, high = vk.low, vk.high
        if low is None and high is None:
            return key
        if low is None:
            assert high is not None
            return high / 2 if high > 0 else high - 1
        if high is None:
            return low * 1.5 if low > 0 else low + 1
        return (low + high) / 2
    return key


def telling_values(kb: KnowledgeBase, diagnosis: str) -> list[tuple[float, str, str]]:
    """``(term, finding, value)`` for each finding the diagnosis states, its value with
    the largest ``P' ln(P' / R)``, largest first (ties by finding id)."""
    result = []
    for finding, dist in kb.profiles.get(diagnosis, {}).items():
        ref = kb.reference.get(finding)
        if not ref:
            continue
        terms = {k: p * math.log(p / ref[k]) for k, p in dist.items() if ref.get(k)}
        if not terms:
            continue
        best = max(sorted(terms), key=lambda k: terms[k])
        if terms[best] > 0:
            result.append((terms[best], finding, best))
    return sorted(result, key=lambda t: (-t[0], t[1]))


def _prerequisites(kb: KnowledgeBase, diagnosis: str, finding: str,
                   picture: Mapping[str, Any]) -> dict[str, Any] | None:
    """The answers a finding's ``ask_when`` needs that the picture lacks (each the value
    the diagnosis finds likeliest among those allowed; of an ``any:``, its first
    alternative), or None if the picture already contradicts it."""
    needed: dict[str, Any] = {}
    for conjunction in kb.relevance.get(finding, ())[:1]:
        for atom in conjunction:
            if atom.var in picture:
                if not atom.holds(picture, frozenset()):
                    return None
            elif atom.values:
                dist = kb.profiles.get(diagnosis, {}).get(atom.var, {})
                needed[atom.var] = max(sorted(atom.values), key=lambda v: dist.get(v, 0.0))
    return needed


def typical_picture(kb: KnowledgeBase, diagnosis: str, signs: int = DEFAULT_SIGNS,
                    modalities: frozenset[str] | None = None) -> dict[str, Any]:
    """The findings of the diagnosis's typical picture (see the module text): only findings
    that would be asked of it (their ``ask_when`` holds, its answers entered with them),
    so a picture never mixes, say, a spinal sign with a long bone's; with ``modalities``,
    only findings those studies show."""
    shown = kb.vocabulary.expand_modalities(modalities) if modalities is not None else None
    picture: dict[str, Any] = {}
    for _, finding, key in telling_values(kb, diagnosis):
        if finding in picture:
            continue
        needs = kb.vocabulary.findings[finding].needs
        if shown is not None and needs and not shown & set(needs):
            continue
        needed = _prerequisites(kb, diagnosis, finding, picture)
        if needed is None or len(picture) + len(needed) + 1 > signs:
            continue
        trial = {**picture, **needed, finding: _answer(kb, finding, key)}
        try:
            make_case(kb, trial, modalities=modalities)
        except InputError:
            continue  # not enterable together with what is already taken
        picture = trial
    return picture


def check_typical(kb: KnowledgeBase, signs: int = DEFAULT_SIGNS,
                  diagnoses: Sequence[str] | None = None,
                  patient: Mapping[str, Any] | None = None,
                  modalities: frozenset[str] | None = None) -> list[TypicalResult]:
    """Every described diagnosis (or those named) ranked on its own typical picture, with
    no patient context or the one given (checked like a case file's), from every study or
    only those of ``modalities``."""
    reasoner = Reasoner(kb)
    results = []
    for dx in diagnoses or sorted(kb.profiles):
        picture = typical_picture(kb, dx, signs, modalities)
        case = make_case(kb, picture, patient, modalities, name=f"typical {dx}")
        ranked = score(kb, reasoner.trace(case, fast=True))
        order = [s.diagnosis for s in ranked]
        p = {s.diagnosis: s.probability for s in ranked}
        results.append(TypicalResult(dx, picture, order.index(dx) + 1, p[dx], order[0],
                                     p[order[0]]))
    return results


def picture_labels(kb: KnowledgeBase, picture: Mapping[str, Any]) -> list[str]:
    """Each finding of a picture in words: 'Density: Sclerotic (blastic)'."""
    labels = []
    for finding, value in picture.items():
        spec = kb.vocabulary.findings[finding]
        meaning = spec.values.get(value) if isinstance(value, str) else None
        labels.append(f"{spec.name}: {meaning.label if meaning else f'{value:g}'}")
    return labels


def format_typical(kb: KnowledgeBase, results: Sequence[TypicalResult], signs: int,
                   context: str = "") -> str:
    """The text report of ``ossdx typical`` (``context``: the patient context in words)."""
    missed = [r for r in results if not r.leads]
    lines = [f"Each diagnosis ranked on its own typical picture ({signs} most telling "
             f"findings of its profile, {context or 'no patient context'}): "
             f"{len(results) - len(missed)} of {len(results)} lead.", ""]
    for r in results:
        lines.append(f"{r.diagnosis}: {r.verdict()}")
        lines += [f"    {text}" for text in picture_labels(kb, r.picture)]
    if missed:
        lines += ["", "A diagnosis that does not lead on its own picture: its base rate "
                  "outweighs its signs against the leader, or the leader's profile leaves "
                  "those signs unstated (then they never count against it). Compare the two "
                  "with 'ossdx graph --finding NAME' and the diagnose explanation."]
    return "\n".join(lines)


def typical_as_dict(results: Sequence[TypicalResult], signs: int,
                    patient: Mapping[str, Any] | None = None,
                    modalities: frozenset[str] | None = None) -> Mapping[str, Any]:
    return {"signs": signs, "patient": dict(patient or {}),
            "modalities": sorted(modalities) if modalities is not None else None,
            "leading": sum(r.leads for r in results),
            "diagnoses": [r.as_dict() for r in results]}
