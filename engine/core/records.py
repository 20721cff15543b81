"""Record types that several layers share: a trainee, a trainee's answer, its score, a stored
attempt and a stored quiz answer. Plain frozen dataclasses, so that the progress store needs
neither the knowledge base nor the rule engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

FREE_TEXT = "name:"  # identity prefix of a trainee known only by a typed name
SIGNED_IN = "oidc:"  # identity prefix of a trainee known by a sign-in subject


@dataclass(frozen=True)
class Trainee:
    """A trainee as stored: row id, shown name, and who they are.

    ``identity`` is unique: ``name:<the typed name>`` for a free-text name (anyone who types
    it is this trainee), or ``oidc:<issuer>|<subject>`` for someone who signed in (the
    subject of their identity token, which only they can present). ``email`` is kept for
    signed-in trainees, so an educator can recognise them.
    """

    id: int
    name: str
    identity: str = ""
    email: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.identity.startswith(SIGNED_IN)


@dataclass(frozen=True)
class Answer:
    """A trainee's committed answer: ranked diagnosis ids and the first choice's probability."""

    choices: tuple[str, ...]
    confidence: float


@dataclass(frozen=True)
class Score:
    """The score of one attempt (see the module docstring for the definitions)."""

    top1: bool
    top3: bool
    brier: float
    log_score: float
    rank: int | None = None  # position of the first right answer in the trainee's list


@dataclass(frozen=True)
class Attempt:
    """One committed attempt at a case, as stored (case id only: no patient identifiers)."""

    case_id: str
    kb_version: str
    choices: tuple[str, ...]
    confidence: float
    truth: str
    system_leader: str
    score: Score
    at: datetime
    id: int | None = None


@dataclass(frozen=True)
class QuizAnswer:
    """A trainee's answer to one quiz question, as stored."""

    question_id: str
    kind: str
    chosen: str
    answer: str
    correct: bool
    kb_version: str
    at: datetime
    id: int | None = None
