"""Likelihood profiles: from stated P(value | diagnosis) to likelihood-ratio rules.

The stated model (also in kb.yaml ``profile_model`` and README "How the ranking works"):

* A diagnosis's ``profile`` states, for a finding, the probability of each of its values
  among lesions of that diagnosis in which the finding was assessed: ``P(v | d)``. A number
  finding is stated over its bins (``size_cm`` with bins [1, 2, 5]: ``<1``, ``1-2``, ``2-5``,
  ``>=5``). With ``complete: no`` only some values are given and the others share the
  remainder equally.
* The **reference** for a finding is its declared ``population`` distribution (the finding's
  distribution among bone lesions of this population in general) when the finding declares
  one; otherwise the mixture of the diagnoses that state it, weighted by their base rates:
  ``R(v) = sum_d p0(d) P(v | d) / sum_d p0(d)``. A diagnosis that does not state a finding
  is assumed to follow the reference, so the finding does not move it. (Without a declared
  population, a finding that only one diagnosis states is therefore uninformative.)
* **Shrinkage**: a figure from a study of ``n`` lesions (an expert estimate counts as
  ``settings.expert_n``) is pulled towards the reference with ``a`` pseudo-observations
  (``settings.profile_pseudo_count``): ``P'(v | d) = (n P(v | d) + a R(v)) / (n + a)``. Small
  studies and estimates cannot give extreme ratios; a large cited study can. A figure
  stated by definition (``basis: definition``: the values follow from how the knowledge
  base defines the diagnosis, with a stated remainder for mislabelled lesions) is not
  shrunk, ``P' = P``.
* The evidence of value ``v`` for ``d`` is the likelihood ratio ``LR = P'(v | d) / R(v)``,
  compiled as an ordinary evidence rule ``<d>.profile.<finding>.<value>`` that fires when
  the finding has that value. Ratios within ``settings.uninformative_band`` of 1 are not
  compiled (they would not change any ranking noticeably).
* **Site-dependent figures**: an entry with ``given: {region: [rib, skull]}`` states
  ``P(v | d, region in those sites)``; the diagnosis's plain entry of the finding then states
  the other sites. Each distinct site set of a finding is a *cell*; the rest of the sites is
  one more cell. In a cell, a diagnosis follows its entry for that cell if it has one, else
  its plain entry, and the cell's reference is the mixture weighted by ``p0(d) P(cell | d)``
  (``P(cell | d)`` from the diagnosis's region profile, or the region's reference). With the
  region not given, a diagnosis follows its site-weighted marginal against the marginal
  reference. One rule per value and situation; exactly one situation holds for a case.
* A value may declare what it **implies** (``implies: {region: spine}`` on a compression
  fracture): ``P(v | d)`` already holds ``P(implied | d)``, so the implied value's rule
  does not fire while the implying value is given (the pair is counted once, as ``v``).

Nothing here knows about bones: it is arithmetic over whatever the YAML states.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ossdx.kb import schema

COMPLETE_TOLERANCE = 0.02  # a complete profile must sum to 1 within this


@dataclass(frozen=True)
class ValueKey:
    """One answer a profile can state: a choice value, or a bin of a number finding."""

    key: str  # as written in YAML: 'lytic', '<1', '1-2', '>=5'
    slug: str  # as used in rule ids: 'lytic', 'lt1', '1_2', 'ge5'
    low: float | None = None
    high: float | None = None


def _num(x: float) -> str:
    return f"{x:g}"


def _slug(x: float) -> str:
    return _num(x).replace("-", "m").replace(".", "p")


def value_keys(spec: schema.Variable) -> list[ValueKey]:
    """The answers of ``spec`` a profile states: its values, or its bins' intervals."""
    if spec.type in ("number", "integer"):
        edges = list(spec.bins)
        if not edges:
            return []
        keys = [ValueKey(f"<{_num(edges[0])}", f"lt{_slug(edges[0])}", None, edges[0])]
        for low, high in itertools.pairwise(edges):
            keys.append(ValueKey(f"{_num(low)}-{_num(high)}", f"{_slug(low)}_{_slug(high)}",
                                 low, high))
        keys.append(ValueKey(f">={_num(edges[-1])}", f"ge{_slug(edges[-1])}", edges[-1], None))
        return keys
    if spec.type == "choice":
        return [ValueKey(v, v) for v in spec.values]
    return []


def completed(stated: Mapping[str, float], keys: Sequence[str], complete: bool
              ) -> dict[str, float]:
    """A full distribution over ``keys``: as stated, or the remainder shared equally."""
    if complete:
        total = sum(stated.values())
        return {k: stated[k] / total for k in keys}
    rest = [k for k in keys if k not in stated]
    remainder = max(0.0, 1.0 - sum(stated.values()))
    share = remainder / len(rest) if rest else 0.0
    full = {k: stated.get(k, share) for k in keys}
    total = sum(full.values())
    return {k: v / total for k, v in full.items()}


def reference(distributions: Mapping[str, Mapping[str, float]],
              weights: Mapping[str, float]) -> dict[str, float]:
    """The base-rate-weighted mixture of the diagnoses' distributions of one finding."""
    total = sum(weights[d] for d in distributions)
    keys = next(iter(distributions.values())).keys()
    return {k: sum(weights[d] * dist[k] for d, dist in distributions.items()) / total
            for k in keys}


@dataclass(frozen=True)
class Situation:
    """Where the figures of a site-dependent finding apply: the site not given (``cell``
    None: the marginal), in one ``given`` cell, or elsewhere (``cell`` empty: the other
    sites, i.e. none of the cells)."""

    cell: frozenset[str] | None
    site: str = ""  # the finding the cells are values of ('region')
    others: frozenset[str] = frozenset()  # elsewhere: the values of all the cells

    @property
    def slug(self) -> str:
        if self.cell is None:
            return ""
        return f"at_{'_'.join(sorted(self.cell))}" if self.cell else "elsewhere"


def situated(plain: Mapping[str, Mapping[str, float]],
             given: Mapping[tuple[str, frozenset[str]], Mapping[str, float]],
             share: Mapping[str, Mapping[str, float]], weights: Mapping[str, float],
             cells: Sequence[frozenset[str]], site: str,
             ) -> dict[Situation, tuple[dict[str, dict[str, float]], dict[str, float]]]:
    """Each situation's per-diagnosis distributions and reference, for a finding that some
    diagnoses state per site (module text). ``plain``: diagnosis -> its plain distribution;
    ``given``: (diagnosis, cell) -> its distribution in that cell; ``share``: diagnosis ->
    site -> P(site | diagnosis)."""
    union = frozenset().union(*cells)
    result: dict[Situation, tuple[dict[str, dict[str, float]], dict[str, float]]] = {}
    masses: list[tuple[dict[str, float], dict[str, dict[str, float]]]] = []
    for cell in [*cells, frozenset()]:
        dists = {d: dict(given.get((d, cell), dist)) for d, dist in plain.items()}
        inside = {d: sum(share[d][s] for s in (cell or union)) for d in plain}
        mass = inside if cell else {d: 1.0 - m for d, m in inside.items()}
        masses.append((mass, dists))
        result[Situation(cell, site, frozenset() if cell else union)] = (
            dists, reference(dists, {d: weights[d] * mass[d] for d in plain}))
    marginal = {d: {k: sum(mass[d] * dists[d][k] for mass, dists in masses) for k in dist}
                for d, dist in plain.items()}
    result[Situation(None, site)] = (marginal, reference(marginal, weights))
    return result


def shrunk(p: float, ref: float, n: float, pseudo: float) -> float:
    """``P'`` of the module text: ``(n p + a r) / (n + a)``."""
    return (n * p + pseudo * ref) / (n + pseudo)


def informative(lr: float, band: float) -> bool:
    return abs(math.log(lr)) > math.log1p(band)
