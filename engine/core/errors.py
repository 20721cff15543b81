"""Errors and problems that name the place: every message carries file and line.

``OssdxError`` is the root of the project's exceptions and subclasses ``ValueError``. A
``Problem`` is one finding of a check (error or warning) with its location; loaders collect
problems instead of stopping at the first, and raise them together.
"""

from __future__ import annotations

import difflib
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


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """A ' (did you mean 'x'?)' suffix when a close match exists, else ''."""
    if not isinstance(word, str):
        return ""
    matches = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def allowed(choices: Iterable[object], limit: int = 12) -> str:
    """'allowed: a, b, c' (shortened when long)."""
    items = [str(c) for c in choices]
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += f", ... ({len(items)} in all)"
    return f"allowed: {shown}"
