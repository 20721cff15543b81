"""The progress database on SQLite: round trips, one transaction per attempt, survival of a
kill, migrations from the first released schema, `ossdx db`, backups, and clear errors.

The helpers at the top are shared with tests/test_postgres.py, which runs the same checks
against a PostgreSQL server.
"""

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
    create_engine,
    text,
)

from ossdx.cli.main import main
from ossdx.core.errors import InputError
from ossdx.teaching.database import (
    DEFAULT_PATH,
    VERSION_TABLE,
    backup_database,
    database_setting,
    head_revision,
    parse_url,
    upgrade_database,
)
from ossdx.teaching.quiz import QuizAnswer
from ossdx.teaching.storage import ProgressStore, StorageError, database_url, metadata
from ossdx.teaching.trainee import Answer, Attempt, score_answer

from conftest import ROOT

T0 = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)


def make_attempt(case_id: str, choices: tuple[str, ...], truth: str, minutes: int = 0,
                 confidence: float = 0.6) -> Attempt:
    return Attempt(case_id, "0.1.0+abc", choices, confidence, truth, "metastasis",
                   score_answer(Answer(choices, confidence), truth),
                   T0 + timedelta(minutes=minutes))


def ossdx(*argv: str) -> tuple[int, str, str]:
    """Run the ossdx command in a new process: exit code, stdout, stderr."""
    done = subprocess.run([sys.executable, "-c", "import sys; from ossdx.cli import main; "
                           "sys.exit(main(sys.argv[1:]))", *argv],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    return done.returncode, done.stdout, done.stderr


# ------------------------------------------------------------------ the first released schema
# A frozen copy of the tables the first release (commit bf01dc2) created with create_all and
# no version table: the starting point every migration test upgrades from.
FIRST = MetaData()
Table("trainees", FIRST,
      Column("id", Integer, primary_key=True),
      Column("name", String(80), nullable=False, unique=True),
      Column("created_at", DateTime, nullable=False))
Table("attempts", FIRST,
      Column("id", Integer, primary_key=True),
      Column("trainee_id", Integer, ForeignKey("trainees.id", ondelete="CASCADE"),
             nullable=False, index=True),
      Column("case_id", String(200), nullable=False),
      Column("kb_version", String(64), nullable=False),
      Column("created_at", DateTime, nullable=False),
      Column("confidence", Float, nullable=False),
      Column("choice_count", Integer, nullable=False),
      Column("truth", String(64), nullable=False),
      Column("system_leader", String(64), nullable=False),
      Column("top1", Boolean, nullable=False),
      Column("top3", Boolean, nullable=False),
      Column("brier", Float, nullable=False),
      Column("log_score", Float, nullable=False),
      Column("rank", Integer, nullable=True))
Table("attempt_choices", FIRST,
      Column("attempt_id", Integer, ForeignKey("attempts.id", ondelete="CASCADE"),
             primary_key=True),
      Column("rank", Integer, primary_key=True),
      Column("diagnosis", String(64), nullable=False))
Table("quiz_answers", FIRST,
      Column("id", Integer, primary_key=True),
      Column("trainee_id", Integer, ForeignKey("trainees.id", ondelete="CASCADE"),
             nullable=False, index=True),
      Column("question_id", String(200), nullable=False),
      Column("kind", String(32), nullable=False),
      Column("chosen", String(200), nullable=False),
      Column("answer", String(200), nullable=False),
      Column("correct", Boolean, nullable=False),
      Column("kb_version", String(64), nullable=False),
      Column("created_at", DateTime, nullable=False))

NAMES = ["Ann Lee", "Zoë Ó'Brien", "trainee 3"]
CASES = [("seed-schmorl-l4", ("metastasis", "schmorl_node"), "schmorl_node"),
         ("lit-hemangioma-t7", ("hemangioma",), "hemangioma"),
         ("seed-enchondroma", ("chondrosarcoma", "enchondroma", "bone_island"), "enchondroma")]


def fill_first_release(url: str) -> dict[str, list[Attempt]]:
    """Create the first release's tables at ``url`` and fill them as that release did: three
    trainees with attempts (each with its ranked choices) and quiz answers. Returns the
    attempts each trainee should have afterwards."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed)
    tables = FIRST.tables
    expected: dict[str, list[Attempt]] = {}
    try:
        FIRST.create_all(engine)
        with engine.begin() as conn:
            for number, name in enumerate(NAMES, 1):
                t_id = conn.execute(tables["trainees"].insert().values(
                    name=name, created_at=T0.replace(tzinfo=None))).inserted_primary_key[0]
                expected[name] = []
                for n, (case_id, choices, truth) in enumerate(CASES[:number]):
                    attempt = make_attempt(case_id, choices, truth, minutes=10 * number + n)
                    score = attempt.score
                    a_id = conn.execute(tables["attempts"].insert().values(
                        trainee_id=t_id, case_id=case_id, kb_version="0.1.0",
                        created_at=attempt.at.replace(tzinfo=None), confidence=0.6,
                        choice_count=len(choices), truth=truth, system_leader="metastasis",
                        top1=score.top1, top3=score.top3, brier=score.brier,
                        log_score=score.log_score, rank=score.rank)).inserted_primary_key[0]
                    conn.execute(tables["attempt_choices"].insert(), [
                        {"attempt_id": a_id, "rank": r, "diagnosis": d}
                        for r, d in enumerate(choices, 1)])
                    expected[name].append(Attempt(case_id, "0.1.0", choices, 0.6, truth,
                                                  "metastasis", score, attempt.at, a_id))
                conn.execute(tables["quiz_answers"].insert().values(
                    trainee_id=t_id, question_id="kb:seed.quiz.sre", kind="kb", chosen="D",
                    answer="D", correct=True, kb_version="0.1.0",
                    created_at=T0.replace(tzinfo=None)))
    finally:
        engine.dispose()
    return expected


def check_every_row_is_found(store: ProgressStore, expected: dict[str, list[Attempt]]) -> None:
    """Every first-release trainee is found by their name, with every attempt and choice."""
    assert sorted(t.name for t in store.trainees()) == sorted(NAMES)
    for name, attempts in expected.items():
        trainee = store.find_trainee(name)
        assert trainee is not None, name
        assert store.attempts(trainee) == attempts
        assert [(q.question_id, q.correct) for q in store.quiz_answers(trainee)] == \
            [("kb:seed.quiz.sre", True)]


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


def run_writer_and_kill(url: str, pause_at: int, kill_after: int | None) -> list[int]:
    """Start a writer; SIGKILL it mid-transaction (or after ``kill_after`` commits)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, url, str(pause_at)],
                            stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
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


def stored_attempts(url: str) -> tuple[set[int], list[int]]:
    """The attempt ids in the database, and those whose choices are not all there."""
    engine = create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            ids = {row[0] for row in conn.execute(text("SELECT id FROM attempts"))}
            partial = [row[0] for row in conn.execute(text(
                "SELECT a.id FROM attempts a LEFT JOIN attempt_choices c ON c.attempt_id = a.id "
                "GROUP BY a.id HAVING COUNT(c.rank) != MAX(a.choice_count)"))]
    finally:
        engine.dispose()
    return ids, partial


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "progress" / "progress.sqlite3"


@pytest.fixture
def db_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


@pytest.fixture
def store(db_url: str):
    opened = ProgressStore(db_url)
    yield opened
    opened.close()


# ------------------------------------------------------------------ settings
def test_the_database_url_comes_from_the_environment(tmp_path):
    """OSSDX_DATABASE_URL wins; else SQLite at OSSDX_DB; else ~/.ossdx/progress.sqlite3;
    each with where it came from."""
    path = tmp_path / "p.sqlite3"
    assert database_url({"OSSDX_DB": str(path)}) == f"sqlite:///{path}"
    url = "postgresql+psycopg://trainer@db.example/ossdx"
    assert database_setting({"OSSDX_DATABASE_URL": url, "OSSDX_DB": str(path)}).source == \
        "$OSSDX_DATABASE_URL"
    assert database_url({"OSSDX_DATABASE_URL": url, "OSSDX_DB": str(path)}) == url
    default = database_url({})
    assert default == f"sqlite:///{DEFAULT_PATH.expanduser().resolve()}"
    assert default.endswith("/.ossdx/progress.sqlite3")


def test_a_bare_postgresql_url_means_the_psycopg_driver():
    """postgresql:// and postgres:// use psycopg 3 (the postgres extra's driver)."""
    for given in ("postgresql://u@db/ossdx", "postgres://u@db/ossdx"):
        assert parse_url(given).drivername == "postgresql+psycopg"
    assert parse_url("postgresql+psycopg2://u@db/x").drivername == "postgresql+psycopg2"


def test_sqlite_is_opened_in_wal_mode_with_full_sync(store, db_path):
    """The file is created (with its folder) in WAL mode; connections use synchronous=FULL."""
    assert db_path.is_file()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


# ------------------------------------------------------------------ bad URLs, no server, no driver
def test_an_unknown_kind_of_database_is_a_clear_error():
    """A URL of an unknown kind of database raises StorageError naming it (no password)."""
    with pytest.raises(StorageError, match=r"nosuchdb://user:\*\*\*@host/x.*unknown kind"):
        ProgressStore("nosuchdb://user:secret@host/x")


def test_a_malformed_url_is_one_line_and_exit_2():
    """`ossdx db upgrade --url` with a malformed URL: one line naming --url and what a URL
    looks like, no password echoed, exit 2."""
    code, out, err = ossdx("db", "upgrade", "--url", "ann:secret@nowhere")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "--url: not a database URL" in err and "postgresql+psycopg://" in err
    assert "secret" not in err


def test_an_unreachable_server_is_one_line_and_exit_2():
    """A PostgreSQL URL whose server does not answer: one line naming the database and the
    fix, exit 2; the password is never shown."""
    with socket_closed() as port:
        code, _, err = ossdx("db", "upgrade", "--url",
                             f"postgresql://ann:secret@127.0.0.1:{port}/ossdx")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"cannot connect to the progress database postgresql+psycopg://ann:***@127.0.0.1:" \
           f"{port}/ossdx" in err
    assert "check that the server is running" in err and "secret" not in err


def test_a_missing_driver_names_the_extra_to_install(tmp_path):
    """Without psycopg installed, a PostgreSQL URL says: pip install 'ossdx[postgres]'."""
    script = ("import sys; sys.modules['psycopg'] = None\n"  # as if it were not installed
              "from ossdx.cli.main import main\n"
              "sys.exit(main(['db', 'upgrade', '--url', 'postgresql://u@db.example/ossdx']))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "driver 'psycopg' is not installed; pip install 'ossdx[postgres]'" in done.stderr


class socket_closed:
    """A local TCP port nothing listens on (bound, then closed)."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        return None


# ------------------------------------------------------------------ round trips
def test_trainee_names_are_free_text_tidied(store):
    """Spaces are tidied, so ' Ann   Lee ' and 'Ann Lee' are one trainee; empty is refused."""
    first = store.trainee("  Ann   Lee ")
    assert first.name == "Ann Lee" and not first.signed_in
    assert store.trainee("Ann Lee") == first
    assert store.find_trainee("Bob") is None
    assert [t.name for t in store.trainees()] == ["Ann Lee"]
    with pytest.raises(InputError, match="type a name"):
        store.trainee("   ")


def test_signed_in_trainees_are_their_subject_not_their_name(store):
    """A signed-in trainee is found again by issuer and subject (their name and e-mail
    follow the sign-in); two people with one name stay apart; typing a signed-in trainee's
    name or e-mail as a free-text name gives someone else."""
    ann = store.signed_in_trainee("https://idp", "sub-ann", "Ann Lee", "ann@example.org")
    again = store.signed_in_trainee("https://idp", "sub-ann", "Ann Lee-Smith", "ann@example.org")
    assert again.id == ann.id and again.name == "Ann Lee-Smith" and again.signed_in
    other = store.signed_in_trainee("https://idp", "sub-other", "Ann Lee-Smith", None)
    assert other.id != ann.id
    store.record_attempt(ann, make_attempt("seed-a", ("paget",), "paget"))
    for typed in ("Ann Lee-Smith", "ann@example.org", "sub-ann"):
        assert store.attempts(store.trainee(typed)) == []
    assert len(store.attempts(again)) == 1


def test_attempts_round_trip_through_a_reopened_file(store, db_url):
    """Attempts (ranked choices, confidence, scores, time) come back equal after reopening."""
    ann = store.trainee("Ann")
    bob = store.trainee("Bob")
    first = store.record_attempt(ann, make_attempt("seed-a", ("metastasis", "schmorl_node"),
                                                   "schmorl_node"))
    second = store.record_attempt(ann, make_attempt("lit-b", ("hemangioma",), "hemangioma", 5,
                                                    confidence=0.9))
    store.record_attempt(bob, make_attempt("seed-a", ("paget",), "schmorl_node"))
    store.close()
    reopened = ProgressStore(db_url)
    try:
        assert reopened.attempts(reopened.trainee("Ann")) == [first, second]
        assert first.id is not None and second.id is not None
        assert first.score.brier == pytest.approx(0.36)
        assert [a.choices for a in reopened.attempts(bob)] == [("paget",)]
        cohort = {t.name: [a.id for a in items] for t, items in reopened.cohort()}
        assert cohort["Ann"] == [first.id, second.id] and len(cohort["Bob"]) == 1
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
    with pytest.raises(StorageError, match="cannot save the attempt in the progress database"):
        store.record_attempt(ann, broken)
    assert store.attempts(ann) == []


# ------------------------------------------------------------------ killed writers
def test_a_writer_killed_in_the_middle_of_an_attempt_loses_nothing_committed(db_path, db_url):
    """SIGKILL between an attempt row and its choices: the file is intact, every reported
    attempt is there, and the half-written one is not."""
    committed = run_writer_and_kill(db_url, pause_at=25, kill_after=None)
    assert len(committed) == 24
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    ids, partial = stored_attempts(db_url)
    assert ids == set(committed) and partial == []


def test_a_writer_killed_at_an_arbitrary_moment_keeps_every_committed_attempt(db_path, db_url):
    """SIGKILL while writing at full speed: integrity holds and no attempt is partial."""
    committed = run_writer_and_kill(db_url, pause_at=10**9, kill_after=40)
    assert len(committed) == 40
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    ids, partial = stored_attempts(db_url)
    assert ids >= set(committed) and partial == []
    store = ProgressStore(db_url)  # and the database opens and reads again
    try:
        attempts = store.attempts(store.trainee("crash test"))
        assert {a.id for a in attempts} >= set(committed)
        assert all(len(a.choices) == 3 for a in attempts)
    finally:
        store.close()


# ------------------------------------------------------------------ migrations
def test_the_first_released_schema_is_migrated_with_every_row(db_url, db_path):
    """A database made by the first release (no version table) and holding data: the app's
    first open migrates it, and every trainee, attempt, choice and quiz answer is found;
    no row points nowhere."""
    expected = fill_first_release(db_url)
    store = ProgressStore(db_url)
    try:
        assert store.schema.current == head_revision()
        check_every_row_is_found(store, expected)
        newcomer = store.trainee("Ann Lee (2)")  # and new trainees can be added
        store.record_attempt(newcomer, make_attempt("seed-a", ("paget",), "paget"))
    finally:
        store.close()
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_db_upgrade_migrates_the_first_release_and_is_idempotent(db_url):
    """`ossdx db upgrade` names what it did; run again, it changes nothing."""
    expected = fill_first_release(db_url)
    code, out, err = ossdx("db", "upgrade", "--url", db_url)
    assert code == 0, err
    assert f"upgraded from revision 0001 to revision {head_revision()}" in out
    code, out, _ = ossdx("db", "upgrade", "--url", db_url)
    assert code == 0 and "nothing to do" in out
    store = ProgressStore(db_url, upgrade=False)
    try:
        check_every_row_is_found(store, expected)
    finally:
        store.close()


def test_db_upgrade_twice_on_an_empty_database_succeeds(db_url):
    """On a new file the first upgrade creates the schema, the second finds nothing to do."""
    assert main(["db", "upgrade", "--url", db_url]) == 0
    assert main(["db", "upgrade", "--url", db_url]) == 0
    assert upgrade_database(db_url) == (head_revision(), head_revision())


def test_the_migrations_build_exactly_the_tables_the_code_uses(db_url):
    """Upgrading an empty database gives the tables, columns, indexes and constraints of
    storage.metadata (Alembic's autogenerate comparison finds no difference)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    upgrade_database(db_url)
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_a_schema_newer_than_the_code_is_read_but_never_written(store, db_url):
    """A database migrated by a later version: it opens and reads, every write is refused
    saying so, and `ossdx db upgrade` leaves it alone (exit 2)."""
    ann = store.trainee("Ann")
    saved = store.record_attempt(ann, make_attempt("seed-a", ("paget",), "paget"))
    with store.engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9001'"))
    store.close()
    later = ProgressStore(db_url)
    try:
        assert later.read_only and "newer than this version of ossdx knows" in later.read_only
        assert later.attempts(later.trainee("Ann")) == [saved]  # an existing trainee: read
        with pytest.raises(StorageError, match=r"revision .9001., newer .* not saved"):
            later.record_attempt(ann, make_attempt("seed-b", ("paget",), "paget"))
        with pytest.raises(StorageError, match="newer"):
            later.trainee("Someone new")
    finally:
        later.close()
    code, _, err = ossdx("db", "upgrade", "--url", db_url)
    assert code == 2 and "revision '9001', newer" in err and "it was not changed" in err


# ------------------------------------------------------------------ backups
def test_backup_and_restore_round_trip(store, db_url, tmp_path):
    """`ossdx db backup` copies a live WAL database; attempts added afterwards are gone after
    `ossdx db restore --replace`, and the backed-up ones are back; without --replace a
    database holding attempts is refused, and a backup never overwrites a file."""
    ann = store.trainee("Ann")
    kept = [store.record_attempt(ann, make_attempt(f"seed-{i}", ("paget",), "paget", i))
            for i in range(3)]
    backup = tmp_path / "backup.sqlite3"
    code, out, err = ossdx("db", "backup", str(backup), "--url", db_url)
    assert code == 0, err
    assert "VACUUM INTO" in out and backup.is_file()
    store.record_attempt(ann, make_attempt("seed-later", ("paget",), "paget", 9))

    code, _, err = ossdx("db", "restore", str(backup), "--url", db_url)
    assert code == 2 and "holds 4 attempt(s)" in err and "--replace" in err
    code, _, err = ossdx("db", "backup", str(backup), "--url", db_url)
    assert code == 2 and "already exists" in err

    code, out, err = ossdx("db", "restore", str(backup), "--url", db_url, "--replace")
    assert code == 0, err
    assert store.attempts(ann) == kept  # the running store sees the restored content
    fresh = f"sqlite:///{tmp_path / 'elsewhere' / 'new.sqlite3'}"
    assert main(["db", "restore", str(backup), "--url", fresh]) == 0
    other = ProgressStore(fresh)
    try:
        assert other.attempts(other.trainee("Ann")) == kept
    finally:
        other.close()


def test_a_backup_of_the_first_release_restores_into_the_new_schema(tmp_path):
    """An old backup (first-release schema) is migrated as it is restored."""
    old = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    expected = fill_first_release(old)
    backup = tmp_path / "old-backup.sqlite3"
    backup_database(old, backup)
    target = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    code, out, err = ossdx("db", "restore", str(backup), "--url", target)
    assert code == 0, err
    assert f"migrated from 0001 to {head_revision()}" in out
    store = ProgressStore(target)
    try:
        check_every_row_is_found(store, expected)
    finally:
        store.close()


def test_restoring_something_that_is_not_a_backup_is_refused(store, db_url, tmp_path):
    """A file that is not an SQLite database, or not an ossdx one, is refused in one line."""
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database\n" * 100)
    code, _, err = ossdx("db", "restore", str(junk), "--url", db_url)
    assert code == 2 and err.count("\n") == 1 and "not an SQLite database" in err
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    code, _, err = ossdx("db", "restore", str(other), "--url", db_url)
    assert code == 2 and "not an ossdx progress database" in err
