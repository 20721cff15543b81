"""``ossdx db``: set up, migrate, back up and restore the progress database.

* ``ossdx db upgrade [--url URL]`` creates the schema or migrates it to this version's
  (idempotent: a second run changes nothing). Run it once per release as the role that owns
  the schema; the app's own role then only reads and writes rows.
* ``ossdx db status [--url URL]`` prints the schema revision against this version's.
* ``ossdx db backup PATH [--url URL]`` writes a consistent copy to a new file (SQLite:
  ``VACUUM INTO``; PostgreSQL: ``pg_dump`` in its custom format).
* ``ossdx db restore PATH [--url URL] [--replace]`` replaces the database's content with a
  backup and migrates it; a database holding attempts is replaced only with ``--replace``.

Without ``--url`` the database is the app's: ``$OSSDX_DATABASE_URL``, else ``$OSSDX_DB``,
else ``~/.ossdx/progress.sqlite3``. A problem (a malformed URL, a server that does not
answer, a missing driver, a schema newer than this code) is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

EXIT_OK, EXIT_INPUT = 0, 2


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``db`` and its subcommands to the ``ossdx`` command's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "db", help="set up, migrate, back up and restore the progress database",
        description="Set up, migrate, back up and restore the progress database (docs/DEPLOY.md).")
    commands = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")

    def url_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--url", metavar="URL", default=None,
                         help="database URL (default: $OSSDX_DATABASE_URL, else SQLite at "
                              "$OSSDX_DB or ~/.ossdx/progress.sqlite3)")

    sub = commands.add_parser("upgrade", help="create or migrate the schema (idempotent)")
    url_option(sub)
    sub = commands.add_parser("status", help="the schema revision, against this version's")
    url_option(sub)
    sub = commands.add_parser("backup", help="write a consistent copy to a new file")
    sub.add_argument("path", metavar="PATH", help="the backup file to write (must not exist)")
    url_option(sub)
    sub = commands.add_parser("restore", help="replace the database's content with a backup")
    sub.add_argument("path", metavar="PATH", help="a file written by 'ossdx db backup'")
    url_option(sub)
    sub.add_argument("--replace", action="store_true",
                     help="overwrite a database that already holds attempts")
    return parser


def _target(args: argparse.Namespace) -> tuple[str, str]:
    from ossdx.teaching.database import database_setting

    if args.url:
        return args.url, "--url"
    setting = database_setting()
    return setting.url, setting.source


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run one ``ossdx db`` action; problems are one line on stderr and exit 2."""
    from ossdx.teaching.database import (
        StorageError,
        backup_database,
        database_schema,
        restore_database,
        shown_url,
        upgrade_database,
    )

    url, source = _target(args)
    try:
        if args.db_command == "upgrade":
            before, after = upgrade_database(url, source)
            where = shown_url(url)
            if before == after:
                out.write(f"{where}: schema already at revision {after}; nothing to do\n")
            else:
                start = "an empty database" if before is None else f"revision {before}"
                out.write(f"{where}: upgraded from {start} to revision {after}\n")
        elif args.db_command == "status":
            schema = database_schema(url, source)
            state = ("no ossdx tables (run 'ossdx db upgrade')" if schema.current is None
                     else "up to date" if schema.up_to_date
                     else "newer than this version of ossdx" if schema.newer
                     else "behind: run 'ossdx db upgrade'")
            out.write(f"{shown_url(url)}: revision {schema.current or '-'}, this version's "
                      f"{schema.head}: {state}\n")
        elif args.db_command == "backup":
            out.write(backup_database(url, Path(args.path), source) + "\n")
        else:
            out.write(restore_database(url, Path(args.path), replace=args.replace,
                                       source=source) + "\n")
    except StorageError as exc:
        sys.stderr.write(f"ossdx db {args.db_command}: {exc}\n")
        return EXIT_INPUT
    return EXIT_OK
