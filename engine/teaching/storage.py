"""Where trainees' progress is kept: one small module over SQLAlchemy Core.

The database is chosen by the environment (:mod:`ossdx.teaching.database`, which also keeps
its schema up to date): ``$OSSDX_DATABASE_URL`` (any SQLAlchemy URL, e.g.
``postgresql+psycopg://user@host/ossdx`` for a department server, with ``pip install
'ossdx[postgres]'``), else SQLite at ``$OSSDX_DB``, else ``~/.ossdx/progress.sqlite3``.

SQLite runs in write-ahead-log mode with ``synchronous=FULL``: a committed attempt is on
disk before the commit returns, and a killed process or a power cut leaves the database
intact. Every write is one transaction (``BEGIN IMMEDIATE`` on SQLite): an attempt row and
its ranked choices are written together or not at all, so a half-written attempt never
appears. Opening an SQLite database creates or migrates its schema; any other database must
have been set up with ``ossdx db upgrade`` (by the role that owns the schema: the app's own
role may only read and write rows), and opening it only checks the revision. A database
whose schema is newer than this code is opened for reading only.

What is stored: trainees (a unique identity: the subject of their sign-in, or a free-text
name that anyone may type; a shown name; an e-mail for signed-in trainees), attempts (case
id, knowledge-base version, time, the ranked choices and confidence, the truth, the system's
leading diagnosis, the scores) and quiz answers. No patient identifier is stored: cases are
referred to by their id only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    select,
)
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ossdx.core.errors import InputError, Location, Problem
from ossdx.core.records import FREE_TEXT, SIGNED_IN, Attempt, QuizAnswer, Score, Trainee
from ossdx.teaching.database import (
    DEFAULT_PATH,
    ENV_PATH,
    ENV_URL,
    Schema,
    StorageError,
    database_setting,
    database_url,
    explain,
    is_sqlite,
    open_engine,
    parse_url,
    schema_of,
    shown_url,
    upgrade_schema,
    write_transaction,
)

__all__ = [
    "DEFAULT_PATH", "ENV_PATH", "ENV_URL", "ProgressStore", "StorageError", "Trainee",
    "clean_name", "database_url", "metadata", "shown_url",
]

MAX_NAME = 80
MAX_IDENTITY = 400
MAX_EMAIL = 320
ID = 200  # longest stored id (case id, question id, option)

# The newest schema (migrations/versions/ build it; tests check that they agree).
metadata = MetaData()

trainees = Table(
    "trainees", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(MAX_NAME), nullable=False),  # shown; not unique
    Column("identity", String(MAX_IDENTITY), nullable=False),  # name:... or oidc:iss|sub
    Column("email", String(MAX_EMAIL), nullable=True),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("identity", name="uq_trainees_identity"),
)

attempts = Table(
    "attempts", metadata,
    Column("id", Integer, primary_key=True),
    Column("trainee_id", Integer, ForeignKey("trainees.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("case_id", String(ID), nullable=False, index=True),
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


def signed_in_identity(issuer: str, subject: str) -> str:
    """The stored identity of a signed-in trainee: ``oidc:<issuer>|<subject>``."""
    if not subject:
        raise StorageError("the sign-in gave no subject ('sub' claim): cannot tell who this is")
    identity = f"{SIGNED_IN}{issuer}|{subject}"
    if len(identity) > MAX_IDENTITY:
        raise StorageError(f"the sign-in issuer and subject are longer than {MAX_IDENTITY} "
                           f"characters together; cannot store them")
    return identity


def _shown(name: str | None, fallback: str) -> str:
    text = re.sub(r"\s+", " ", "".join(c for c in str(name or "") if ord(c) >= 32)).strip()
    return (text or fallback)[:MAX_NAME]


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


def _trainee(row: Any) -> Trainee:
    return Trainee(row.id, row.name, row.identity, row.email)


class ProgressStore:
    """Trainees, their attempts and their quiz answers, in one database.

    ``upgrade`` (default: only for SQLite) creates or migrates the schema on opening;
    otherwise the schema must already be at this code's revision. ``read_only`` holds the
    reason when the schema is newer than this code: then every write raises StorageError.
    """

    def __init__(self, url: str | None = None, *, source: str | None = None,
                 upgrade: bool | None = None):
        setting = database_setting()
        self.url = url or setting.url
        self.source = source or ("the database URL" if url else setting.source)
        parsed = parse_url(self.url, self.source)
        self.is_sqlite = is_sqlite(parsed)
        self.read_only: str | None = None
        self.engine = open_engine(parsed)
        try:
            self.schema = self._open_schema(parsed, self.is_sqlite if upgrade is None
                                            else upgrade)
        except StorageError:
            self.engine.dispose()
            raise
        except (SQLAlchemyError, OSError) as exc:
            self.engine.dispose()
            raise explain(exc, parsed) from None

    def _open_schema(self, parsed: Any, upgrade: bool) -> Schema:
        with self.engine.connect() as conn:
            schema = schema_of(conn)
        where = f"the progress database {self.shown_url}"
        if schema.newer:
            self.read_only = schema.newer_message(where, "progress is read but not saved")
            return schema
        if schema.up_to_date:
            return schema
        if upgrade:
            migrator = open_engine(parsed, foreign_keys=False)
            try:
                upgrade_schema(migrator, parsed)
            finally:
                migrator.dispose()
            with self.engine.connect() as conn:
                return schema_of(conn)
        if schema.current is None:
            raise StorageError(f"{where} has no ossdx tables: run 'ossdx db upgrade --url "
                               f"URL' once, as the role that owns the schema "
                               f"(docs/DEPLOY.md, one-off set-up)")
        raise StorageError(f"{where} has schema revision '{schema.current}', older than this "
                           f"version of ossdx needs ('{schema.head}'): run 'ossdx db upgrade "
                           f"--url URL' as the role that owns the schema")

    @property
    def shown_url(self) -> str:
        return shown_url(self.url)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any error."""
        if self.read_only:
            raise StorageError(self.read_only)
        with write_transaction(self.engine) as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def _failed(self, doing: str, exc: Exception) -> StorageError:
        return explain(exc, self.url, doing)

    # ------------------------------------------------------------------ trainees
    def trainee_by_identity(self, identity: str) -> Trainee | None:
        """The trainee of this identity, if known."""
        try:
            with self._read() as conn:
                row = conn.execute(select(trainees).where(trainees.c.identity == identity)
                                   ).first()
        except SQLAlchemyError as exc:
            raise self._failed("read the trainees of", exc) from exc
        return _trainee(row) if row else None

    def _get_or_add(self, identity: str, name: str, email: str | None) -> Trainee:
        found = self.trainee_by_identity(identity)
        if found is not None and (found.name, found.email) == (name, email):
            return found
        try:
            with self._write() as conn:
                if found is not None:  # the sign-in now gives another name or e-mail
                    conn.execute(trainees.update().where(trainees.c.id == found.id)
                                 .values(name=name, email=email))
                    return replace(found, name=name, email=email)
                result = conn.execute(trainees.insert().values(
                    name=name, identity=identity, email=email,
                    created_at=_utc(datetime.now(UTC))))
                return Trainee(_inserted_id(result), name, identity, email)
        except IntegrityError as exc:  # added meanwhile by another session or server
            again = self.trainee_by_identity(identity)
            if again is None:
                raise self._failed("add the trainee to", exc) from exc
            return again
        except SQLAlchemyError as exc:
            raise self._failed("add the trainee to", exc) from exc

    def find_trainee(self, name: str) -> Trainee | None:
        """The trainee known by this free-text name, if any."""
        return self.trainee_by_identity(FREE_TEXT + clean_name(name))

    def trainee(self, name: str) -> Trainee:
        """The trainee of this free-text name, added if new (unauthenticated)."""
        text = clean_name(name)
        return self._get_or_add(FREE_TEXT + text, text, None)

    def signed_in_trainee(self, issuer: str, subject: str, name: str | None = None,
                          email: str | None = None) -> Trainee:
        """The trainee who signed in with this subject, added if new; their shown name and
        e-mail follow what the sign-in last gave."""
        identity = signed_in_identity(issuer, subject)
        shown_email = email.strip()[:MAX_EMAIL] if email and email.strip() else None
        return self._get_or_add(identity, _shown(name, shown_email or subject), shown_email)

    def trainees(self) -> list[Trainee]:
        """Every trainee, by name."""
        try:
            with self._read() as conn:
                rows = conn.execute(select(trainees).order_by(trainees.c.name, trainees.c.id)
                                    ).all()
        except SQLAlchemyError as exc:
            raise self._failed("read the trainees of", exc) from exc
        return [_trainee(r) for r in rows]

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
            raise self._failed("save the attempt in", exc) from exc
        return replace(attempt, id=attempt_id)

    def _attempts(self, conn: Connection, trainee_id: int | None) -> dict[int, list[Attempt]]:
        """Attempts by trainee id, oldest first (of one trainee, or of everyone)."""
        query = select(attempts).order_by(attempts.c.created_at, attempts.c.id)
        picks = select(attempt_choices).join(attempts).order_by(attempt_choices.c.attempt_id,
                                                                attempt_choices.c.rank)
        if trainee_id is not None:
            query = query.where(attempts.c.trainee_id == trainee_id)
            picks = picks.where(attempts.c.trainee_id == trainee_id)
        rows = conn.execute(query).all()
        choices: dict[int, list[str]] = {}
        for row in conn.execute(picks):
            choices.setdefault(row.attempt_id, []).append(row.diagnosis)
        result: dict[int, list[Attempt]] = {}
        for r in rows:
            result.setdefault(r.trainee_id, []).append(Attempt(
                case_id=r.case_id, kb_version=r.kb_version,
                choices=tuple(choices.get(r.id, ())), confidence=r.confidence, truth=r.truth,
                system_leader=r.system_leader,
                score=Score(bool(r.top1), bool(r.top3), r.brier, r.log_score, r.rank),
                at=_aware(r.created_at), id=r.id))
        return result

    def attempts(self, trainee: Trainee) -> list[Attempt]:
        """The trainee's attempts, oldest first."""
        try:
            with self._read() as conn:
                return self._attempts(conn, trainee.id).get(trainee.id, [])
        except SQLAlchemyError as exc:
            raise self._failed("read the attempts in", exc) from exc

    def cohort(self) -> list[tuple[Trainee, list[Attempt]]]:
        """Every trainee with their attempts (oldest first), trainees by name: for educators."""
        try:
            with self._read() as conn:
                people = conn.execute(select(trainees).order_by(trainees.c.name,
                                                                trainees.c.id)).all()
                by_trainee = self._attempts(conn, None)
        except SQLAlchemyError as exc:
            raise self._failed("read the cohort in", exc) from exc
        return [(_trainee(p), by_trainee.get(p.id, [])) for p in people]

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
            raise self._failed("save the quiz answer in", exc) from exc
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
            raise self._failed("read the quiz answers in", exc) from exc
        return [QuizAnswer(r.question_id, r.kind, r.chosen, r.answer, bool(r.correct),
                           r.kb_version, _aware(r.created_at), r.id) for r in rows]
