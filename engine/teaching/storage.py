"""Where trainees' progress is kept: one small module over SQLAlchemy Core.

The database is chosen by the environment:

* ``OSSDX_DATABASE_URL``: any SQLAlchemy database URL, e.g.
  ``postgresql+psycopg://user:password@host/ossdx`` for a department server (install its
  driver, e.g. ``pip install 'psycopg[binary]'``);
* otherwise ``OSSDX_DB``: the path of an SQLite file;
* otherwise ``~/.ossdx/progress.sqlite3`` (in the home folder, so the progress does not
  depend on the folder the app was started from). The folder is created when needed.

SQLite runs in write-ahead-log mode with ``synchronous=FULL``: a committed attempt is on
disk before the commit returns, and a killed process or a power cut leaves the database
intact. Every write is one transaction (``BEGIN IMMEDIATE`` on SQLite): an attempt row and
its ranked choices are written together or not at all, so a half-written attempt never
appears.

What is stored: trainees (a free-text name, no password: anyone who types a name sees and
adds to that name's progress), attempts (case id, knowledge-base version, time, the ranked
choices and confidence, the truth, the system's leading diagnosis, the scores) and quiz
answers. No patient identifier is stored: cases are referred to by their id only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Connection, CursorResult, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError

from ossdx.core.errors import InputError, Location, OssdxError, Problem
from ossdx.core.records import Attempt, QuizAnswer, Score

ENV_URL = "OSSDX_DATABASE_URL"
ENV_PATH = "OSSDX_DB"
DEFAULT_PATH = Path("~") / ".ossdx" / "progress.sqlite3"
MAX_NAME = 80
ID = 200  # longest stored id (case id, question id, option)

metadata = MetaData()

trainees = Table(
    "trainees", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(MAX_NAME), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
)

attempts = Table(
    "attempts", metadata,
    Column("id", Integer, primary_key=True),
    Column("trainee_id", Integer, ForeignKey("trainees.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("case_id", String(ID), nullable=False),
    Column("kb_version", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("choice_count", Integer, nullable=False),  # rows expected in attempt_choices
    Column("truth", String(64), nullable=False),
    Column("system_leader", String(64), nullable=False),
    Column("top1", Boolean, nullable=False),
    Column("top3", Boolean, nullable=False),
    Column("brier", Float, nullable=False),
    Column("log_score", Float, nullable=False),
    Column("rank", Integer, nullable=True),
)

attempt_choices = Table(
    "attempt_choices", metadata,
    Column("attempt_id", Integer, ForeignKey("attempts.id", ondelete="CASCADE"),
           primary_key=True),
    Column("rank", Integer, primary_key=True),
    Column("diagnosis", String(64), nullable=False),
)

quiz_answers = Table(
    "quiz_answers", metadata,
    Column("id", Integer, primary_key=True),
    Column("trainee_id", Integer, ForeignKey("trainees.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("question_id", String(ID), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("chosen", String(ID), nullable=False),
    Column("answer", String(ID), nullable=False),
    Column("correct", Boolean, nullable=False),
    Column("kb_version", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
)


class StorageError(OssdxError):
    """The progress database could not be opened, read or written."""


@dataclass(frozen=True)
class Trainee:
    """A trainee: a free-text name (no authentication) and its row id."""

    id: int
    name: str


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """The database URL: ``$OSSDX_DATABASE_URL``, else SQLite at ``$OSSDX_DB`` or the default."""
    env = os.environ if environ is None else environ
    url = env.get(ENV_URL, "").strip()
    if url:
        return url
    path = Path(env.get(ENV_PATH, "").strip() or DEFAULT_PATH).expanduser()
    return f"sqlite:///{path.resolve()}"


def shown_url(url: str) -> str:
    """The URL with any password hidden, for messages and the page."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


def clean_name(name: str) -> str:
    """A trainee name with its spaces tidied; raises InputError when empty or too long."""
    text = re.sub(r"\s+", " ", str(name or "")).strip()
    problem = None
    if not text:
        problem = "type a name (any free text; there are no passwords)"
    elif len(text) > MAX_NAME:
        problem = f"a name has at most {MAX_NAME} characters, got {len(text)}"
    elif any(ord(c) < 32 for c in text):
        problem = "a name cannot contain control characters"
    if problem:
        raise InputError([Problem(Location("trainee name"), problem)])
    return text


def _utc(moment: datetime) -> datetime:
    """A naive UTC time for the database (aware times are converted)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _inserted_id(result: CursorResult[Any]) -> int:
    """The integer primary key of the row a single-row INSERT just added."""
    key = result.inserted_primary_key
    if key is None:  # only for multi-row inserts, which none of the callers make
        raise TypeError("the INSERT reported no primary key")
    return int(key[0])


def _prepare_sqlite(engine: Engine) -> None:
    """WAL, synchronous=FULL, foreign keys; transactions begun explicitly (one per write)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below decide
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("ossdx_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class ProgressStore:
    """Trainees, their attempts and their quiz answers, in one database."""

    def __init__(self, url: str | None = None):
        self.url = url or database_url()
        try:
            parsed = make_url(self.url)
            self.is_sqlite = parsed.get_backend_name() == "sqlite"
            if self.is_sqlite and parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(self.url)
            if self.is_sqlite:
                _prepare_sqlite(self.engine)
            with self._write() as conn:
                metadata.create_all(conn)
        except (SQLAlchemyError, OSError, ArgumentError, ValueError) as exc:
            raise StorageError(f"cannot open the progress database {shown_url(self.url)}: "
                               f"{exc.__class__.__name__}: {exc}") from exc

    @property
    def shown_url(self) -> str:
        return shown_url(self.url)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any error."""
        with self.engine.connect() as conn:
            conn.execution_options(ossdx_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def _failed(self, doing: str, exc: Exception) -> StorageError:
        return StorageError(f"could not {doing} in {self.shown_url}: "
                            f"{exc.__class__.__name__}: {exc}")

    # ------------------------------------------------------------------ trainees
    def find_trainee(self, name: str) -> Trainee | None:
        """The trainee of this name, if known."""
        text = clean_name(name)
        try:
            with self._read() as conn:
                row = conn.execute(select(trainees.c.id, trainees.c.name)
                                   .where(trainees.c.name == text)).first()
        except SQLAlchemyError as exc:
            raise self._failed("read the trainees", exc) from exc
        return Trainee(row.id, row.name) if row else None

    def trainee(self, name: str) -> Trainee:
        """The trainee of this name, created if new (names are free text, unauthenticated)."""
        text = clean_name(name)
        found = self.find_trainee(text)
        if found is not None:
            return found
        try:
            with self._write() as conn:
                result = conn.execute(trainees.insert().values(
                    name=text, created_at=_utc(datetime.now(UTC))))
                return Trainee(_inserted_id(result), text)
        except IntegrityError:  # created meanwhile by another session
            found = self.find_trainee(text)
            if found is None:
                raise
            return found
        except SQLAlchemyError as exc:
            raise self._failed("add the trainee", exc) from exc

    def trainees(self) -> list[Trainee]:
        """Every trainee, by name."""
        try:
            with self._read() as conn:
                rows = conn.execute(select(trainees.c.id, trainees.c.name)
                                    .order_by(trainees.c.name)).all()
        except SQLAlchemyError as exc:
            raise self._failed("read the trainees", exc) from exc
        return [Trainee(r.id, r.name) for r in rows]

    # ------------------------------------------------------------------ attempts
    def record_attempt(self, trainee: Trainee, attempt: Attempt) -> Attempt:
        """Store one committed attempt (its row and its choices in ONE transaction)."""
        score = attempt.score
        try:
            with self._write() as conn:
                result = conn.execute(attempts.insert().values(
                    trainee_id=trainee.id, case_id=attempt.case_id[:ID],
                    kb_version=attempt.kb_version[:64], created_at=_utc(attempt.at),
                    confidence=attempt.confidence, choice_count=len(attempt.choices),
                    truth=attempt.truth, system_leader=attempt.system_leader,
                    top1=score.top1, top3=score.top3, brier=score.brier,
                    log_score=score.log_score, rank=score.rank))
                attempt_id = _inserted_id(result)
                conn.execute(attempt_choices.insert(), [
                    {"attempt_id": attempt_id, "rank": rank, "diagnosis": diagnosis}
                    for rank, diagnosis in enumerate(attempt.choices, 1)])
        except SQLAlchemyError as exc:
            raise self._failed("save the attempt", exc) from exc
        return replace(attempt, id=attempt_id)

    def attempts(self, trainee: Trainee) -> list[Attempt]:
        """The trainee's attempts, oldest first."""
        try:
            with self._read() as conn:
                rows = conn.execute(select(attempts).where(attempts.c.trainee_id == trainee.id)
                                    .order_by(attempts.c.created_at, attempts.c.id)).all()
                choices: dict[int, list[str]] = {}
                for row in conn.execute(
                        select(attempt_choices).join(attempts)
                        .where(attempts.c.trainee_id == trainee.id)
                        .order_by(attempt_choices.c.attempt_id, attempt_choices.c.rank)):
                    choices.setdefault(row.attempt_id, []).append(row.diagnosis)
        except SQLAlchemyError as exc:
            raise self._failed("read the attempts", exc) from exc
        return [Attempt(case_id=r.case_id, kb_version=r.kb_version,
                        choices=tuple(choices.get(r.id, ())), confidence=r.confidence,
                        truth=r.truth, system_leader=r.system_leader,
                        score=Score(bool(r.top1), bool(r.top3), r.brier, r.log_score, r.rank),
                        at=_aware(r.created_at), id=r.id)
                for r in rows]

    # ------------------------------------------------------------------ quizzes
    def record_quiz_answer(self, trainee: Trainee, answer: QuizAnswer) -> QuizAnswer:
        """Store one answer to a quiz question (one transaction)."""
        try:
            with self._write() as conn:
                result = conn.execute(quiz_answers.insert().values(
                    trainee_id=trainee.id, question_id=answer.question_id[:ID],
                    kind=answer.kind[:32], chosen=answer.chosen[:ID],
                    answer=answer.answer[:ID], correct=answer.correct,
                    kb_version=answer.kb_version[:64], created_at=_utc(answer.at)))
        except SQLAlchemyError as exc:
            raise self._failed("save the quiz answer", exc) from exc
        return replace(answer, id=_inserted_id(result))

    def quiz_answers(self, trainee: Trainee) -> list[QuizAnswer]:
        """The trainee's quiz answers, oldest first."""
        try:
            with self._read() as conn:
                rows = conn.execute(select(quiz_answers)
                                    .where(quiz_answers.c.trainee_id == trainee.id)
                                    .order_by(quiz_answers.c.created_at, quiz_answers.c.id)
                                    ).all()
        except SQLAlchemyError as exc:
            raise self._failed("read the quiz answers", exc) from exc
        return [QuizAnswer(r.question_id, r.kind, r.chosen, r.answer, bool(r.correct),
                           r.kb_version, _aware(r.created_at), r.id) for r in rows]
