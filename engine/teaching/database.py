"""The progress database itself: its URL, its engine, its schema version, backups.

:mod:`ossdx.teaching.storage` reads and writes trainees' progress; this module opens the
database it lives in and keeps that database's schema right:

* **The URL** comes from ``--url``, else ``$OSSDX_DATABASE_URL`` (any SQLAlchemy URL), else
  SQLite at ``$OSSDX_DB``, else SQLite at ``~/.ossdx/progress.sqlite3``. A bare
  ``postgresql://`` (or ``postgres://``) URL means the psycopg 3 driver, the one the
  ``postgres`` extra installs.
* **The engine** checks a pooled connection before using it (``pool_pre_ping``), so the first
  request after a database restart does not fail; a PostgreSQL connection attempt gives up
  after ``CONNECT_TIMEOUT`` seconds.
* **The schema** is kept by Alembic migrations shipped in the package
  (``ossdx/teaching/migrations``), recorded in the table ``ossdx_alembic_version`` so that a
  database shared with other software keeps its own ``alembic_version``.
  :func:`upgrade_database` creates or migrates it (``ossdx db upgrade``): it is idempotent,
  and a database made by the first release, which had no version table, is recognised as
  revision ``0001``. A database whose schema is newer than this code is never migrated.
* **Backups**: SQLite with ``VACUUM INTO`` (a consistent copy even while the app writes; a
  plain file copy of a database in write-ahead-log mode is not), PostgreSQL with ``pg_dump``;
  restore with SQLite's backup API or ``pg_restore``.

Every failure is a :class:`StorageError` whose message is one line naming the database (its
password hidden), what went wrong and what to do.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from ossdx.core.errors import OssdxError

ENV_URL = "OSSDX_DATABASE_URL"
ENV_PATH = "OSSDX_DB"
DEFAULT_PATH = Path("~") / ".ossdx" / "progress.sqlite3"
VERSION_TABLE = "ossdx_alembic_version"
FIRST_RELEASE = "0001"  # the schema the first release created (it kept no version table)
CONNECT_TIMEOUT = 10  # seconds, for PostgreSQL
POSTGRES_EXTRA = "pip install 'ossdx[postgres]'"
DEPLOY_DOC = "docs/DEPLOY.md"
EXAMPLES = ("sqlite:////path/to/progress.sqlite3 or "
            "postgresql+psycopg://USER@HOST:5432/DATABASE")


class StorageError(OssdxError):
    """The progress database could not be opened, read or written (one-line message)."""


@dataclass(frozen=True)
class DatabaseSetting:
    """A database URL and where it came from (for messages)."""

    url: str
    source: str


def database_setting(environ: Mapping[str, str] | None = None) -> DatabaseSetting:
    """``$OSSDX_DATABASE_URL``, else SQLite at ``$OSSDX_DB``, else the default file."""
    env = os.environ if environ is None else environ
    url = env.get(ENV_URL, "").strip()
    if url:
        return DatabaseSetting(url, f"${ENV_URL}")
    path = env.get(ENV_PATH, "").strip()
    if path:
        return DatabaseSetting(f"sqlite:///{Path(path).expanduser().resolve()}", f"${ENV_PATH}")
    return DatabaseSetting(f"sqlite:///{DEFAULT_PATH.expanduser().resolve()}",
                           f"the default ({DEFAULT_PATH})")


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """The database URL the environment chooses (see :func:`database_setting`)."""
    return database_setting(environ).url


def _mask(text: str) -> str:
    """``text`` with anything like the ``user:password@`` of a URL shown as ``user:***@``."""
    return re.sub(r"([^:/@\s]+):[^@\s/]+@", r"\1:***@", text)


def shown_url(url: str | URL) -> str:
    """The URL with any password hidden, for messages and the page."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return _mask(url)


def parse_url(url: str, source: str = "the database URL") -> URL:
    """The URL parsed, a bare ``postgresql://`` given the psycopg 3 driver."""
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        raise StorageError(f"{source}: not a database URL: '{_mask(url)}'; "
                           f"expected e.g. {EXAMPLES}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sqlite_file(url: URL) -> Path | None:
    """The file of an SQLite URL (None for an in-memory database)."""
    if not is_sqlite(url) or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser()


def _first_line(exc: BaseException) -> str:
    """The driver's own message, first line, without SQLAlchemy's SQL and links."""
    inner = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(inner).strip() or type(inner).__name__
    return _mask(text.splitlines()[0].strip())


def explain(exc: BaseException, url: URL | str, doing: str = "open") -> StorageError:
    """One line that names the database, what went wrong, and what to do about it."""
    where = shown_url(url)
    why = _first_line(exc)
    if isinstance(exc, NoSuchModuleError):
        name = url.drivername if isinstance(url, URL) else str(url).split(":")[0]
        return StorageError(f"cannot {doing} the progress database {where}: unknown kind of "
                            f"database '{name}'; use {EXAMPLES}")
    if isinstance(exc, ImportError):
        module = getattr(exc, "name", None) or why
        hint = POSTGRES_EXTRA if "psycopg" in str(module) \
            else "install the driver the URL names"
        return StorageError(f"cannot {doing} the progress database {where}: its driver "
                            f"'{module}' is not installed; {hint}")
    lowered = why.lower()
    if "permission denied" in lowered or "must be owner" in lowered:
        return StorageError(f"cannot {doing} the progress database {where}: {why}; this role "
                            f"may only read and write: run 'ossdx db upgrade' as the role that "
                            f"owns the schema ({DEPLOY_DOC}, one-off set-up)")
    if (isinstance(exc, DBAPIError) and exc.connection_invalidated) or \
            ("connection" in lowered and ("failed" in lowered or "refused" in lowered)):
        return StorageError(f"cannot connect to the progress database {where}: {why}; check "
                            f"that the server is running and the URL's host, port and user")
    return StorageError(f"cannot {doing} the progress database {where}: {why}")


def _prepare_sqlite(engine: Engine, foreign_keys: bool) -> None:
    """WAL, synchronous=FULL, foreign keys; transactions begun explicitly (one per write)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below decide
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("ossdx_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def open_engine(url: URL, *, foreign_keys: bool = True) -> Engine:
    """An engine for ``url``: pre-ping, a connect timeout, SQLite set up for safe writes.

    Raises StorageError for an unknown kind of database or a missing driver (nothing is
    connected yet: a server that does not answer shows on the first use).
    """
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    try:
        path = sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **options)
    except (SQLAlchemyError, ImportError, OSError, ValueError) as exc:
        raise explain(exc, url) from None
    if is_sqlite(url):
        _prepare_sqlite(engine, foreign_keys)
    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction (``BEGIN IMMEDIATE`` on SQLite): committed, or rolled back."""
    with engine.connect() as conn:
        conn.execution_options(ossdx_write=True)
        with conn.begin():
            yield conn


# ---------------------------------------------------------------------- the schema
def migrations_folder() -> Path:
    """The Alembic environment shipped in the package (``ossdx/teaching/migrations``)."""
    return Path(str(resources.files("ossdx.teaching").joinpath("migrations")))


def _alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_folder()))
    config.attributes["connection"] = connection
    config.attributes["version_table"] = VERSION_TABLE
    return config


def _scripts() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config())


def head_revision() -> str:
    """The newest schema revision this code knows."""
    head = _scripts().get_current_head()
    assert head is not None, "the package ships no migrations"
    return str(head)


def known_revisions() -> list[str]:
    """Every schema revision this code knows, oldest first."""
    return [str(s.revision) for s in reversed(list(_scripts().walk_revisions()))]


@dataclass(frozen=True)
class Schema:
    """The revision a database is at, against the newest this code knows."""

    current: str | None  # None: no ossdx tables at all
    head: str
    known: bool  # the current revision is one of this code's

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def newer(self) -> bool:
        return self.current is not None and not self.known

    def newer_message(self, where: str, consequence: str) -> str:
        """Why a database with a newer schema is not written, and what to do."""
        return (f"{where} has schema revision '{self.current}', newer than this version of "
                f"ossdx knows (up to '{self.head}'): {consequence}; upgrade ossdx")


def schema_of(conn: Connection) -> Schema:
    """The schema revision of the database behind ``conn``."""
    from alembic.runtime.migration import MigrationContext

    tables = set(inspect(conn).get_table_names())
    if VERSION_TABLE in tables:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        heads = context.get_current_heads()
        current = ",".join(sorted(heads)) if heads else None
    elif "trainees" in tables:
        current = FIRST_RELEASE
    else:
        current = None
    known = known_revisions()
    return Schema(current, known[-1], current is None or current in known)


def upgrade_schema(engine: Engine, url: URL) -> tuple[str | None, str]:
    """Create or migrate the schema to the newest revision, in one transaction.

    Returns the revisions before and after. On SQLite, foreign keys must be off on
    ``engine`` (moving a table would otherwise delete the rows that point at it); they are
    checked once the migration has run.
    """
    from alembic import command

    with write_transaction(engine) as conn:
        schema = schema_of(conn)
        if schema.newer:
            raise StorageError(schema.newer_message(f"the progress database {shown_url(url)}",
                                                    "it was not changed"))
        if schema.up_to_date:
            return schema.current, schema.head
        config = _alembic_config(conn)
        if schema.current == FIRST_RELEASE and VERSION_TABLE not in inspect(conn).get_table_names():
            command.stamp(config, FIRST_RELEASE)
        command.upgrade(config, "head")
        if is_sqlite(url):
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise StorageError(f"the migration of {shown_url(url)} left {len(broken)} "
                                   f"row(s) pointing nowhere; nothing was changed")
        return schema.current, schema_of(conn).current or schema.head


def upgrade_database(url: str, source: str = "the database URL") -> tuple[str | None, str]:
    """``ossdx db upgrade``: create or migrate the schema of ``url``; idempotent."""
    parsed = parse_url(url, source)
    engine = open_engine(parsed, foreign_keys=False)
    try:
        return upgrade_schema(engine, parsed)
    except StorageError:
        raise
    except (SQLAlchemyError, OSError) as exc:
        raise explain(exc, parsed, "upgrade") from None
    finally:
        engine.dispose()


def database_schema(url: str, source: str = "the database URL") -> Schema:
    """The schema revision of the database at ``url``."""
    parsed = parse_url(url, source)
    engine = open_engine(parsed)
    try:
        with engine.connect() as conn:
            return schema_of(conn)
    except (SQLAlchemyError, OSError) as exc:
        raise explain(exc, parsed, "read") from None
    finally:
        engine.dispose()


# ---------------------------------------------------------------------- backups
def _sqlite_target(url: URL) -> Path:
    path = sqlite_file(url)
    if path is None:
        raise StorageError(f"{shown_url(url)}: an in-memory database has nothing to back up")
    return path


def _check_sqlite_copy(path: Path) -> Schema:
    """A backup file's schema, after SQLite's integrity check; StorageError if unusable."""
    if not path.is_file():
        raise StorageError(f"{path}: no such file")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            check = db.execute("PRAGMA integrity_check").fetchone()
            if check != ("ok",):
                raise StorageError(f"{path}: not an intact SQLite database ({check[0]})")
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path}: not an SQLite database ({exc})") from None
    engine = open_engine(make_url(f"sqlite:///{path}"))
    try:
        with engine.connect() as conn:
            schema = schema_of(conn)
    finally:
        engine.dispose()
    if schema.current is None:
        raise StorageError(f"{path}: not an ossdx progress database (no ossdx tables)")
    return schema


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise StorageError(f"{name} was not found on PATH: install PostgreSQL's client tools "
                           f"(Debian: apt-get install postgresql-client) with a version at "
                           f"least the server's, or run {name} yourself ({DEPLOY_DOC}, "
                           f"'What to back up')")
    return found


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for the pg_* tools, and its password as PGPASSWORD."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(), env


def _run_pg_tool(command: list[str], env: dict[str, str], url: URL) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        why = _mask(lines[0]) if lines else f"exit status {result.returncode}"
        raise StorageError(f"{Path(command[0]).name} failed for {shown_url(url)}: {why}")


def backup_database(url: str, target: Path, source: str = "the database URL") -> str:
    """Write a consistent copy of the database to ``target`` (a new file); says what it did."""
    parsed = parse_url(url, source)
    target = target.expanduser()
    if target.exists():
        raise StorageError(f"{target}: already exists; a backup is written to a new file")
    if not target.parent.is_dir():
        raise StorageError(f"{target.parent}: no such folder")
    if is_sqlite(parsed):
        path = _sqlite_target(parsed)
        if not path.is_file():
            raise StorageError(f"{shown_url(parsed)}: no such database file")
        try:
            with sqlite3.connect(path, timeout=30) as db:
                db.execute("VACUUM INTO ?", (str(target),))
        except sqlite3.Error as exc:
            raise StorageError(f"cannot back up {shown_url(parsed)} to {target}: {exc}") from None
        schema = _check_sqlite_copy(target)
        return (f"backed up {shown_url(parsed)} to {target} (SQLite VACUUM INTO; schema "
                f"revision {schema.current})")
    if parsed.get_backend_name() == "postgresql":
        libpq, env = _libpq(parsed)
        _run_pg_tool([_pg_tool("pg_dump"), "--format=custom", "--no-owner",
                      f"--file={target}", f"--dbname={libpq}"], env, parsed)
        return f"backed up {shown_url(parsed)} to {target} (pg_dump, custom format)"
    raise StorageError(f"{shown_url(parsed)}: backups are made for SQLite and PostgreSQL only; "
                       f"use your database's own tools")


def _attempt_count(engine: Engine) -> int:
    with engine.connect() as conn:
        if "attempts" not in inspect(conn).get_table_names():
            return 0
        return int(conn.exec_driver_sql("SELECT COUNT(*) FROM attempts").scalar() or 0)


def restore_database(url: str, backup: Path, *, replace: bool = False,
                     source: str = "the database URL") -> str:
    """Replace the database's content with a backup, then migrate it to the newest schema.

    Refuses to overwrite a database that holds attempts unless ``replace`` is true.
    """
    parsed = parse_url(url, source)
    backup = backup.expanduser()
    if not backup.is_file():
        raise StorageError(f"{backup}: no such file")
    if is_sqlite(parsed):
        schema = _check_sqlite_copy(backup)
        if schema.newer:
            raise StorageError(schema.newer_message(f"the backup {backup}", "not restored"))
    engine = open_engine(parsed)
    try:
        held = _attempt_count(engine)
    except (SQLAlchemyError, OSError) as exc:
        raise explain(exc, parsed, "read") from None
    finally:
        engine.dispose()
    if held and not replace:
        raise StorageError(f"{shown_url(parsed)} holds {held} attempt(s); restoring replaces "
                           f"them all: back it up first, then pass --replace")
    if is_sqlite(parsed):
        path = _sqlite_target(parsed)
        try:
            with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as src, \
                    sqlite3.connect(path, timeout=30) as dst:
                src.backup(dst)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot restore {backup} into {shown_url(parsed)}: "
                               f"{exc}") from None
        how = "SQLite backup API"
    elif parsed.get_backend_name() == "postgresql":
        libpq, env = _libpq(parsed)
        _run_pg_tool([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                      "--single-transaction", f"--dbname={libpq}", str(backup)], env, parsed)
        how = "pg_restore"
    else:
        raise StorageError(f"{shown_url(parsed)}: restores are made for SQLite and PostgreSQL "
                           f"only; use your database's own tools")
    before, after = upgrade_database(url, source)
    moved = f"; migrated from {before} to {after}" if before != after else ""
    return f"restored {backup} into {shown_url(parsed)} ({how}){moved}"
