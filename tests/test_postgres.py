"""The progress database on a real PostgreSQL server (marker ``postgres``).

The server is the one ``OSSDX_TEST_DATABASE_URL`` points at (``.ci/run`` starts a throw-away
one and always sets it); without it these tests are skipped, saying so. Its role must be
allowed to create databases and roles: each test gets a database of its own, dropped
afterwards. ``OSSDX_TEST_DATABASE_RESTART``, when set, is a shell command that restarts the
server (``.ci/run`` sets it to an immediate shutdown, as after a crash, and a start with
crash recovery); without it the restart test ends every connection to the test database
from the server's side, which is what a restart does to a running app.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from test_storage import (
    T0,
    check_every_row_is_found,
    fill_first_release,
    make_attempt,
    ossdx,
    run_writer_and_kill,
    stored_attempts,
)

from ossdx.teaching.database import (
    VERSION_TABLE,
    head_revision,
    parse_url,
    upgrade_database,
)
from ossdx.teaching.quiz import QuizAnswer
from ossdx.teaching.storage import ProgressStore, StorageError, metadata

from conftest import ROOT

ADMIN_URL = os.environ.get("OSSDX_TEST_DATABASE_URL", "").strip()
RESTART = os.environ.get("OSSDX_TEST_DATABASE_RESTART", "").strip()

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ADMIN_URL, reason="OSSDX_TEST_DATABASE_URL is not set (.ci/run "
                                             "starts a PostgreSQL server and sets it)"),
]


def _admin() -> URL:
    return parse_url(ADMIN_URL, "$OSSDX_TEST_DATABASE_URL")


def _as_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def run_admin(*statements: str, database: str | None = None) -> list[tuple[object, ...]]:
    """Run statements as the test server's role, outside a transaction; the last one's rows."""
    url = _admin() if database is None else _admin().set(database=database)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    rows: list[tuple[object, ...]] = []
    try:
        with engine.connect() as conn:
            for statement in statements:
                result = conn.execute(text(statement))
                rows = [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()
    return rows


@pytest.fixture(autouse=True)
def _one_test_at_a_time(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The tests share one server and one of them restarts it: with the suite on several
    cores (pytest-xdist), each holds a lock in the workers' common temporary folder."""
    lock = tmp_path_factory.getbasetemp().parent / "ossdx-postgres.lock"
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture
def database() -> Iterator[str]:
    """A new, empty database on the test server (its name), dropped afterwards."""
    name = f"ossdx_test_{uuid.uuid4().hex[:12]}"
    run_admin(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        run_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(database: str) -> str:
    """The URL of a new, empty database (the test server's role owns it)."""
    return _as_text(_admin().set(database=database))


@pytest.fixture
def store(pg_url: str) -> Iterator[ProgressStore]:
    upgrade_database(pg_url)
    opened = ProgressStore(pg_url)
    yield opened
    opened.close()


# ------------------------------------------------------------------ the schema
def test_db_upgrade_twice_on_an_empty_database(pg_url):
    """`ossdx db upgrade --url` creates the schema on an empty database, and a second run
    changes nothing; `ossdx db status` then says it is up to date."""
    code, out, err = ossdx("db", "upgrade", "--url", pg_url)
    assert code == 0, err
    assert f"upgraded from an empty database to revision {head_revision()}" in out
    code, out, err = ossdx("db", "upgrade", "--url", pg_url)
    assert code == 0, err
    assert f"schema already at revision {head_revision()}; nothing to do" in out
    code, out, _ = ossdx("db", "status", "--url", pg_url)
    assert code == 0 and "up to date" in out


def test_the_migrations_build_exactly_the_tables_the_code_uses(pg_url):
    """On PostgreSQL too, the migrated schema equals storage.metadata (no autogenerate diff)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    upgrade_database(pg_url)
    engine = create_engine(parse_url(pg_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_the_first_released_schema_is_migrated_with_every_row(pg_url):
    """A PostgreSQL database made by the first release and holding data: `ossdx db upgrade`
    migrates it, and every trainee, attempt, choice and quiz answer is found."""
    expected = fill_first_release(pg_url)
    code, out, err = ossdx("db", "upgrade", "--url", pg_url)
    assert code == 0, err
    assert f"upgraded from revision 0001 to revision {head_revision()}" in out
    store = ProgressStore(pg_url)
    try:
        check_every_row_is_found(store, expected)
        store.record_attempt(store.trainee("someone new"), make_attempt("x", ("paget",), "paget"))
    finally:
        store.close()


def test_the_app_does_not_migrate_a_server_database_and_says_what_to_do(pg_url):
    """Opening an empty or first-release PostgreSQL database from the app is refused with
    the command to run (the app's role may not own the schema)."""
    with pytest.raises(StorageError, match=r"has no ossdx tables: run 'ossdx db upgrade"):
        ProgressStore(pg_url)
    fill_first_release(pg_url)
    with pytest.raises(StorageError, match=r"revision '0001', older .* run 'ossdx db upgrade"):
        ProgressStore(pg_url)


def test_a_schema_newer_than_the_code_is_read_but_never_written(store, pg_url):
    """A PostgreSQL database migrated by a later version: reads work, writes are refused
    saying why, and `ossdx db upgrade` exits 2 without touching it."""
    ann = store.trainee("Ann")
    saved = store.record_attempt(ann, make_attempt("seed-a", ("paget",), "paget"))
    run_admin(f"UPDATE {VERSION_TABLE} SET version_num = '9001'",
              database=parse_url(pg_url).database)
    later = ProgressStore(pg_url)
    try:
        assert later.attempts(ann) == [saved]
        with pytest.raises(StorageError, match=r"revision '9001', newer .* not saved"):
            later.record_attempt(ann, make_attempt("seed-b", ("paget",), "paget"))
    finally:
        later.close()
    code, _, err = ossdx("db", "upgrade", "--url", pg_url)
    assert code == 2 and "newer than this version of ossdx" in err


# ------------------------------------------------------------------ round trips, concurrency
def test_round_trip(store, pg_url):
    """Free-text and signed-in trainees, attempts (to the microsecond) and quiz answers come
    back equal through a second store (another engine)."""
    ann = store.trainee("Ann")
    bob = store.signed_in_trainee("https://idp.example", "bob-sub", "Bob", "bob@example.org")
    first = store.record_attempt(ann, make_attempt("seed-a", ("metastasis", "schmorl_node"),
                                                   "schmorl_node"))
    second = store.record_attempt(bob, make_attempt("lit-b", ("hemangioma",), "hemangioma", 5,
                                                    confidence=0.9))
    quiz = store.record_quiz_answer(ann, QuizAnswer("kb:seed.quiz.sre", "kb", "A", "D", False,
                                                    "0.1.0", T0))
    other = ProgressStore(pg_url)
    try:
        assert other.attempts(other.trainee("Ann")) == [first]
        again = other.signed_in_trainee("https://idp.example", "bob-sub", "Bob",
                                        "bob@example.org")
        assert again == bob and other.attempts(again) == [second]
        assert other.quiz_answers(ann) == [quiz]
        assert first.at == T0 and second.score.top1
    finally:
        other.close()


def test_concurrent_attempts_from_threads_are_neither_lost_nor_duplicated(store, pg_url):
    """Eight threads over two engines save 25 attempts each and all sign in as one trainee
    at once: 200 attempts, each once with all its choices, and one trainee row."""
    second = ProgressStore(pg_url)
    errors: list[BaseException] = []
    shared_ids: set[int] = set()
    start = threading.Barrier(8)

    def work(n: int) -> None:
        try:
            mine = (store, second)[n % 2]
            start.wait()
            shared_ids.add(mine.signed_in_trainee("https://idp", "same-person", "Same").id)
            trainee = mine.trainee(f"thread {n}")
            for i in range(25):
                mine.record_attempt(trainee, make_attempt(f"t{n}-{i}", ("paget", "metastasis"),
                                                          "paget", i))
        except BaseException as exc:  # reported below, with the thread's number
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        second.close()
    assert errors == []
    assert len(shared_ids) == 1
    cohort = store.cohort()
    cases = sorted(a.case_id for _, attempts in cohort for a in attempts)
    assert cases == sorted(f"t{n}-{i}" for n in range(8) for i in range(25))
    ids, partial = stored_attempts(pg_url)
    assert len(ids) == 200 and partial == []
    assert sum(t.identity == "oidc:https://idp|same-person" for t, _ in cohort) == 1


@pytest.mark.parametrize(("pause_at", "kill_after"), [(25, None), (10**9, 40)],
                         ids=["between-row-and-choices", "at-full-speed"])
def test_a_writer_killed_mid_transaction_leaves_no_partial_attempt(store, pg_url, pause_at,
                                                                   kill_after):
    """SIGKILL of a writing process (between an attempt row and its choices, or at an
    arbitrary moment): every attempt it reported is there, none is partial."""
    committed = run_writer_and_kill(pg_url, pause_at=pause_at, kill_after=kill_after)
    assert len(committed) == (24 if kill_after is None else kill_after)
    ids, partial = stored_attempts(pg_url)
    assert partial == []
    if kill_after is None:
        assert ids == set(committed)  # the half-written 25th is not there
    else:
        assert ids >= set(committed)


# ------------------------------------------------------------------ restarts
def _restart(database: str) -> None:
    if RESTART:
        subprocess.run(RESTART, shell=True, check=True, timeout=120,
                       stdout=subprocess.DEVNULL)
        return
    run_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
              "WHERE datname = current_database() AND pid <> pg_backend_pid()",
              database=database)


def test_the_app_recovers_when_the_database_restarts(store, database):
    """The server restarts under a running store (in CI abruptly, recovering from its log):
    the pooled connection is dead, yet the next save and read succeed (pre-ping replaces
    it), and the attempt committed before the restart is still there."""
    ann = store.trainee("Ann")
    before = store.record_attempt(ann, make_attempt("seed-a", ("paget",), "paget"))
    with store.engine.connect() as conn:
        old_backend = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    _restart(database)
    after = store.record_attempt(ann, make_attempt("seed-b", ("paget",), "paget", 1))
    assert store.attempts(ann) == [before, after]
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != old_backend


# ------------------------------------------------------------------ two app servers
SERVER = r"""
import json, sys
from streamlit.testing.v1 import AppTest

at = AppTest.from_file(sys.argv[1], default_timeout=60)
at.run()

def run():
    at.run()
    if at.exception:
        raise RuntimeError([e.value for e in at.exception])

def page(path, name):
    at.switch_page(path)
    run()
    box = at.text_input(key=f"learner.name.{path.rsplit('/', 1)[1][:-3]}")
    box.set_value(name)
    run()

for line in sys.stdin:
    command = json.loads(line)
    try:
        if command["do"] == "commit":
            page("ui/screens/trainee.py", command["name"])
            at.selectbox(key="trainee.pick").set_value(command["case"])
            run()
            at.selectbox(key="trainee.choice.1").set_value(command["choice"])
            run()
            at.button(key="trainee.commit").click()
            run()
            reply = {"revealed": bool(at.success)}
        else:
            page("ui/screens/progress.py", command["name"])
            reply = {"metrics": {m.label: m.value for m in at.metric}}
    except Exception as exc:
        reply = {"error": repr(exc)}
    print(json.dumps(reply), flush=True)
"""


class AppServer:
    """An app process with its own engine and caches, driven through AppTest."""

    def __init__(self, url: str, tmp: Path, name: str):
        env = {**os.environ, "OSSDX_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        env.pop("OSSDX_DB", None)
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(ROOT / "app.py")], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=(tmp / f"{name}.log").open("w"),
            text=True)

    def ask(self, **command: str) -> dict[str, object]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline() or '{"error": "no reply"}')
        assert "error" not in reply, reply
        return reply

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)


def test_two_app_servers_share_one_database(store, pg_url, tmp_path):
    """Two app processes on one database, both running before anything is saved: an attempt
    committed through one shows on the other's progress page, and back."""
    one, two = AppServer(pg_url, tmp_path, "one"), AppServer(pg_url, tmp_path, "two")
    guard = threading.Timer(300, lambda: (one.stop(), two.stop()))
    guard.start()
    try:
        assert one.ask(do="progress", name="Ann")["metrics"] == {}  # both caches warm, empty
        assert two.ask(do="progress", name="Ann")["metrics"] == {}
        assert one.ask(do="commit", name="Ann", case="seed/seed-schmorl-l4.yaml",
                       choice="metastasis")["revealed"]
        assert two.ask(do="progress", name="Ann")["metrics"]["Attempts"] == "1"
        assert two.ask(do="commit", name="Ann", case="seed/seed-schmorl-l4.yaml",
                       choice="schmorl_node")["revealed"]
        shown = one.ask(do="progress", name="Ann")["metrics"]
        assert shown["Attempts"] == "2" and shown["Top-1"] == "50%"
    finally:
        guard.cancel()
        one.stop()
        two.stop()
    assert [a.choices[0] for a in store.attempts(store.trainee("Ann"))] == \
        ["metastasis", "schmorl_node"]


# ------------------------------------------------------------------ the one-off set-up
def setup_sql() -> list[list[str]]:
    """The SQL blocks of docs/DEPLOY.md's one-off set-up, statement by statement."""
    doc = (ROOT / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
    blocks = re.findall(r"<!-- setup-sql -->\s*```sql\n(.*?)```", doc, re.S)
    assert len(blocks) == 2, "docs/DEPLOY.md should hold two marked SQL blocks"
    return [[s.strip() for s in re.sub(r"--[^\n]*", "", block).split(";") if s.strip()]
            for block in blocks]


@pytest.fixture
def roles() -> Iterator[dict[str, str]]:
    """The documented owner and app roles and database, under names unique to this test."""
    tag = uuid.uuid4().hex[:8]
    names = {"ossdx_owner": f"ossdx_owner_{tag}", "ossdx_app": f"ossdx_app_{tag}",
             "ossdx": f"ossdx_db_{tag}", "CHANGE-ME-OWNER": uuid.uuid4().hex,
             "CHANGE-ME-APP": uuid.uuid4().hex}
    yield names
    run_admin(f'DROP DATABASE IF EXISTS "{names["ossdx"]}" WITH (FORCE)',
              f'DROP ROLE IF EXISTS "{names["ossdx_app"]}"',
              f'DROP ROLE IF EXISTS "{names["ossdx_owner"]}"')


def test_the_documented_set_up_gives_an_owner_and_a_read_write_role(roles):
    """docs/DEPLOY.md's SQL, run as written: the owner role creates the schema with `ossdx
    db upgrade`; the app's role reads and writes progress but cannot change the schema,
    and trying says to run the upgrade as the owner."""
    def named(statement: str) -> str:
        return re.sub(r"CHANGE-ME-OWNER|CHANGE-ME-APP|\bossdx_owner\b|\bossdx_app\b|\bossdx\b",
                      lambda m: roles[m.group(0)], statement)

    first, second = setup_sql()
    run_admin(*[named(s) for s in first])
    run_admin(*[named(s) for s in second], database=roles["ossdx"])
    base = _admin().set(database=roles["ossdx"])
    owner = _as_text(base.set(username=roles["ossdx_owner"], password=roles["CHANGE-ME-OWNER"]))
    app = _as_text(base.set(username=roles["ossdx_app"], password=roles["CHANGE-ME-APP"]))

    code, _, err = ossdx("db", "upgrade", "--url", app)
    assert code == 2 and "permission denied" in err
    assert "run 'ossdx db upgrade' as the role that owns the schema" in err
    code, _, err = ossdx("db", "upgrade", "--url", owner)
    assert code == 0, err
    store = ProgressStore(app)
    try:
        ann = store.signed_in_trainee("https://idp", "ann", "Ann", "ann@example.org")
        saved = store.record_attempt(ann, make_attempt("seed-a", ("paget",), "paget"))
        store.record_quiz_answer(ann, QuizAnswer("q", "kb", "A", "A", True, "0.1.0", T0))
        assert store.attempts(ann) == [saved]
        with pytest.raises(Exception, match=r"must be owner|permission denied"), \
                store.engine.begin() as conn:
            conn.execute(text("DROP TABLE attempt_choices"))
    finally:
        store.close()


# ------------------------------------------------------------------ backups
def test_backup_and_restore_with_pg_dump(store, pg_url, tmp_path):
    """`ossdx db backup` runs pg_dump and `ossdx db restore --replace` brings back exactly
    the backed-up attempts (without the PostgreSQL client tools: one line saying what to
    install, exit 2)."""
    ann = store.trainee("Ann")
    kept = [store.record_attempt(ann, make_attempt(f"seed-{i}", ("paget",), "paget", i))
            for i in range(3)]
    backup = tmp_path / "progress.pgdump"
    code, out, err = ossdx("db", "backup", str(backup), "--url", pg_url)
    if code == 2 and "pg_dump was not found on PATH" in err:  # no client tools here
        assert err.count("\n") == 1
        return
    assert code == 0, err
    assert "pg_dump" in out and backup.stat().st_size > 0
    store.record_attempt(ann, make_attempt("seed-later", ("paget",), "paget", 9))
    code, _, err = ossdx("db", "restore", str(backup), "--url", pg_url)
    assert code == 2 and "holds 4 attempt(s)" in err
    code, _, err = ossdx("db", "restore", str(backup), "--url", pg_url, "--replace")
    assert code == 0, err
    assert store.attempts(ann) == kept
