"""Errors and problems that name the place: every message carries file and line.

``OssdxError`` is the root of the project's exceptions and subclasses ``ValueError``. A
``Problem`` is one finding of a check (error or warning) with its location; loaders collect
problems instead of stopping at the first, and raise them together.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file: 1-based line (and column when known)."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or suspicious) in an input, with where it is."""

    location: Location
    message: str
    severity: Severity = Severity.ERROR
    code: str = field(default="invalid", compare=False)

    def __str__(self) -> str:
        tag = "" if self.severity is Severity.ERROR else f"{self.severity.value}: "
        return f"{self.location}: {tag}{self.message}"


class OssdxError(ValueError):
    """Root of every error ossdx raises on purpose."""


class InputError(OssdxError):
    """An input file (case, response file, knowledge-base file) is not acceptable.

    Carries every problem found; ``str()`` gives one line per problem.
    """

    def __init__(self, problems: Iterable[Problem]):
        self.problems: tuple[Problem, ...] = tuple(sorted(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)


class KnowledgeBaseError(InputError):
    """The knowledge base has errors; it cannot be compiled."""


_PARTS = re.compile(r"[._\s-]+")
_CUTOFF = 0.6


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """A ' (did you mean 'x'?)' suffix when a close match exists, else ''.

    In order: a choice that holds every part of the word (``kransdorf_1995`` ->
    ``kransdorf_sweet_1995``); a close spelling whose differing part is itself close
    (``metastasis.prior.population`` is not ``metastasis.prior.lobular``) and whose letters
    are close (``nobody_1999`` is not ``cuenod_1996``); the one choice the word abbreviates
    (``refs`` -> ``references``)."""
    if not isinstance(word, str) or not word:
        return ""
    options = sorted({c for c in choices if isinstance(c, str)})
    match = _containing(word, options) or _close(word, options) or _abbreviated(word, options)
    return f" (did you mean '{match}'?)" if match else ""


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def _containing(word: str, options: list[str]) -> str | None:
    """The closest choice whose parts include all of the word's (two parts or more)."""
    parts = [p for p in _PARTS.split(word) if p]
    if len(parts) < 2:
        return None
    found = [o for o in options if o != word and set(parts) <= set(_PARTS.split(o))]
    return max(found, key=lambda o: _ratio(word, o)) if found else None


def _differing(word: str, option: str) -> tuple[str, str]:
    """The two strings without the parts they share at the start and at the end."""
    a, b = _PARTS.split(word), _PARTS.split(option)
    while len(a) > 1 and len(b) > 1 and a[0] == b[0]:
        a, b = a[1:], b[1:]
    while len(a) > 1 and len(b) > 1 and a[-1] == b[-1]:
        a, b = a[:-1], b[:-1]
    return "_".join(a), "_".join(b)


def _letters(text: str) -> str:
    return "".join(c for c in text if c.isalpha())


def _plausible(word: str, option: str) -> bool:
    """Whether a close spelling is a likely typo: the differing parts and the letters of the
    two are also close (a different name with the same year is not)."""
    a, b = _differing(word, option)
    if max(len(a), len(b)) > 2 and _ratio(a, b) < _CUTOFF:  # one or two letters: a typo
        return False
    letters_a, letters_b = _letters(word), _letters(option)
    return not (letters_a and letters_b) or _ratio(letters_a, letters_b) >= _CUTOFF


def _close(word: str, options: list[str]) -> str | None:
    matches = difflib.get_close_matches(word, options, n=5, cutoff=_CUTOFF)
    return next((m for m in matches if _plausible(word, m)), None)


def _abbreviated(word: str, options: list[str]) -> str | None:
    """The only choice that starts with the word (a trailing 's' dropped), of 3+ letters."""
    stem = word[:-1] if word.endswith("s") and len(word) > 3 else word
    if len(stem) < 3:
        return None
    found = [o for o in options if o.startswith(stem) and o != word]
    return found[0] if len(found) == 1 else None


def allowed(choices: Iterable[object], limit: int = 12) -> str:
    """'allowed: a, b, c' (shortened when long)."""
    items = [str(c) for c in choices]
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += f", ... ({len(items)} in all)"
    return f"allowed: {shown}"
