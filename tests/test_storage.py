"""The progress database: round trips, one transaction per attempt, and survival of a kill."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ossdx.core.errors import InputError
from ossdx.teaching.quiz import QuizAnswer
from ossdx.teaching.storage import DEFAULT_PATH, ProgressStore, StorageError, database_url
from ossdx.teaching.trainee import Answer, Attempt, score_answer

from conftest import ROOT

T0 = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)


def make_attempt(case_id: str, choices: tuple[str, ...], truth: str, minutes: int = 0,
                 confidence: float = 0.6) -> Attempt:
    return Attempt(case_id, "0.1.0+abc", choices, confidence, truth, "metastasis",
                   score_answer(Answer(choices, confidence), truth),
                   T0 + timedelta(minutes=minutes))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "progress" / "progress.sqlite3"


@pytest.fixture
def store(db_path: Path):
    opened = ProgressStore(f"sqlite:///{db_path}")
    yield opened
    opened.close()


# ------------------------------------------------------------------ settings
def test_the_database_url_comes_from_the_environment(tmp_path):
    """OSSDX_DATABASE_URL wins; else SQLite at OSSDX_DB; else ~/.ossdx/progress.sqlite3."""
    path = tmp_path / "p.sqlite3"
    assert database_url({"OSSDX_DB": str(path)}) == f"sqlite:///{path}"
    url = "postgresql+psycopg://trainer@db.example/ossdx"
    assert database_url({"OSSDX_DATABASE_URL": url, "OSSDX_DB": str(path)}) == url
    default = database_url({})
    assert default == f"sqlite:///{DEFAULT_PATH.expanduser().resolve()}"
    assert default.endswith("/.ossdx/progress.sqlite3")


def test_sqlite_is_opened_in_wal_mode_with_full_sync(store, db_path):
    """The file is created (with its folder) in WAL mode; connections use synchronous=FULL."""
    assert db_path.is_file()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_an_unusable_database_is_a_clear_error(tmp_path):
    """A URL of an unknown kind of database raises StorageError naming it (no password)."""
    with pytest.raises(StorageError, match=r"nosuchdb://user:\*\*\*@host/x"):
        ProgressStore("nosuchdb://user:secret@host/x")


# ------------------------------------------------------------------ round trips
def test_trainee_names_are_free_text_tidied(store):
    """Spaces are tidied, so ' Ann   Lee ' and 'Ann Lee' are one trainee; empty is refused."""
    first = store.trainee("  Ann   Lee ")
    assert first.name == "Ann Lee"
    assert store.trainee("Ann Lee") == first
    assert store.find_trainee("Bob") is None
    assert [t.name for t in store.trainees()] == ["Ann Lee"]
    with pytest.raises(InputError, match="type a name"):
        store.trainee("   ")


def test_attempts_round_trip_through_a_reopened_file(store, db_path):
    """Attempts (ranked choices, confidence, scores, time) come back equal after reopening."""
    ann = store.trainee("Ann")
    bob = store.trainee("Bob")
    first = store.record_attempt(ann, make_attempt("seed-a", ("metastasis", "schmorl_node"),
                                                   "schmorl_node"))
    second = store.record_attempt(ann, make_attempt("lit-b", ("hemangioma",), "hemangioma", 5,
                                                    confidence=0.9))
    store.record_attempt(bob, make_attempt("seed-a", ("paget",), "schmorl_node"))
    store.close()
    reopened = ProgressStore(f"sqlite:///{db_path}")
    try:
        assert reopened.attempts(reopened.trainee("Ann")) == [first, second]
        assert first.id is not None and second.id is not None
        assert first.score.brier == pytest.approx(0.36)
        assert [a.choices for a in reopened.attempts(bob)] == [("paget",)]
    finally:
        reopened.close()


def test_quiz_answers_round_trip(store):
    """Quiz answers come back in order with what was chosen and whether it was right."""
    ann = store.trainee("Ann")
    saved = [store.record_quiz_answer(ann, QuizAnswer("kb:seed.quiz.sre", "kb", "D", "D",
                                                      True, "0.1.0", T0)),
             store.record_quiz_answer(ann, QuizAnswer("favours:x=y", "favours", "A", "C",
                                                      False, "0.1.0",
                                                      T0 + timedelta(seconds=1)))]
    assert store.quiz_answers(ann) == saved


def test_a_failed_attempt_write_leaves_nothing_behind(store):
    """If writing the choices fails after the attempt row, the whole attempt is rolled back."""
    ann = store.trainee("Ann")
    broken = make_attempt("seed-a", ("metastasis", "schmorl_node"), "schmorl_node")
    broken = Attempt(**{**broken.__dict__, "choices": ("metastasis", None)})  # NOT NULL fails
    with pytest.raises(StorageError, match="could not save the attempt"):
        store.record_attempt(ann, broken)
    assert store.attempts(ann) == []


# ------------------------------------------------------------------ a killed writer
WRITER = """
import sys, time
from datetime import UTC, datetime
from sqlalchemy import event
from ossdx.teaching.storage import ProgressStore, attempts
from ossdx.teaching.trainee import Answer, Attempt, score_answer

store = ProgressStore(sys.argv[1])
trainee = store.trainee("crash test")
pause_at = int(sys.argv[2])
inserted = 0

@event.listens_for(store.engine, "after_execute")
def pause(conn, statement, *args):
    global inserted
    if getattr(statement, "is_insert", False) and getattr(statement, "table", None) is attempts:
        inserted += 1
        if inserted == pause_at:  # the attempt row is written, its choices not yet
            print("MIDWAY", flush=True)
            time.sleep(60)

choices = ("metastasis", "schmorl_node", "degenerative")
while True:
    attempt = Attempt("seed-schmorl-l4", "0.1.0", choices, 0.5, "schmorl_node",
                      "schmorl_node", score_answer(Answer(choices, 0.5), "schmorl_node"),
                      datetime.now(UTC))
    print(store.record_attempt(trainee, attempt).id, flush=True)
"""


def run_writer_and_kill(db_path: Path, pause_at: int, kill_after: int | None) -> list[int]:
    """Start a writer; SIGKILL it mid-transaction (or after ``kill_after`` commits)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, f"sqlite:///{db_path}",
                             str(pause_at)], stdout=subprocess.PIPE, text=True, env=env,
                            cwd=ROOT)
    guard = threading.Timer(60, proc.kill)  # never hang the suite
    guard.start()
    committed: list[int] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "MIDWAY" or (kill_after and len(committed) >= kill_after):
                break
            committed.append(int(line))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        guard.cancel()
    assert proc.returncode == -signal.SIGKILL
    return committed


def check_database(db_path: Path, committed: list[int]) -> None:
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ids = {row[0] for row in db.execute("SELECT id FROM attempts")}
        assert set(committed) <= ids
        partial = db.execute(
            "SELECT a.id FROM attempts a LEFT JOIN attempt_choices c ON c.attempt_id = a.id "
            "GROUP BY a.id HAVING COUNT(c.rank) != MAX(a.choice_count)").fetchall()
        assert partial == []


def test_a_writer_killed_in_the_middle_of_an_attempt_loses_nothing_committed(db_path):
    """SIGKILL between an attempt row and its choices: the file is intact, every reported
    attempt is there, and the half-written one is not."""
    committed = run_writer_and_kill(db_path, pause_at=25, kill_after=None)
    assert len(committed) == 24
    check_database(db_path, committed)
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM attempts").fetchone() == (24,)


def test_a_writer_killed_at_an_arbitrary_moment_keeps_every_committed_attempt(db_path):
    """SIGKILL while writing at full speed: integrity holds and no attempt is partial."""
    committed = run_writer_and_kill(db_path, pause_at=10**9, kill_after=40)
    assert len(committed) == 40
    check_database(db_path, committed)
    store = ProgressStore(f"sqlite:///{db_path}")  # and the database opens and reads again
    try:
        attempts = store.attempts(store.trainee("crash test"))
        assert {a.id for a in attempts} >= set(committed)
        assert all(len(a.choices) == 3 for a in attempts)
    finally:
        store.close()
