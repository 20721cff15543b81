"""Where ``ossdx app`` listens: 127.0.0.1 only, unless sign-in is configured.

Streamlit listens on every interface by default, which would put each trainee's progress
(free-text names, no password) on the local network. So, when ``.streamlit/secrets.toml``
has no ``[auth]`` section, ``ossdx app`` passes ``--server.address 127.0.0.1``; another
address (``--server.address`` or ``$STREAMLIT_SERVER_ADDRESS``) is refused unless
``--allow-network-without-sign-in`` is given, and then a warning is printed. With sign-in
configured, Streamlit's own address settings apply.

The secrets files are the ones Streamlit reads: ``--secrets.files`` when given, else
``~/.streamlit/secrets.toml`` and ``./.streamlit/secrets.toml``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ossdx.core.errors import InputError, Location, Problem

ALLOW_FLAG = "--allow-network-without-sign-in"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
LOCAL_ONLY = "127.0.0.1"


def _option(args: Sequence[str], name: str) -> list[str]:
    """Every value of ``--name VALUE`` or ``--name=VALUE`` in ``args``."""
    values = []
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            values.append(args[i + 1])
        elif arg.startswith(name + "="):
            values.append(arg.split("=", 1)[1])
    return values


def secrets_files(streamlit_args: Sequence[str], cwd: Path | None = None,
                  home: Path | None = None) -> list[Path]:
    """The secrets files Streamlit will read for these arguments."""
    given = _option(streamlit_args, "--secrets.files")
    if given:
        return [Path(v).expanduser() for value in given for v in value.split(",") if v]
    return [(home or Path.home()) / ".streamlit" / "secrets.toml",
            (cwd or Path.cwd()) / ".streamlit" / "secrets.toml"]


def sign_in_configured(files: Sequence[Path]) -> bool:
    """Whether one of the files has an ``[auth]`` table (an unreadable file counts as
    none: the app then reports it and saves no progress)."""
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if isinstance(data.get("auth"), dict) and data["auth"]:
            return True
    return False


@dataclass(frozen=True)
class Serving:
    """What to add to ``streamlit run``, and what to tell the person starting it."""

    options: tuple[str, ...]
    message: str | None


def serving(streamlit_args: Sequence[str], *, allow_network: bool, signed_in: bool,
            environ: Mapping[str, str] | None = None) -> Serving:
    """The listening address for these arguments; InputError when serving other interfaces
    without sign-in was not explicitly allowed."""
    env = os.environ if environ is None else environ
    given = _option(streamlit_args, "--server.address")
    address = given[-1] if given else env.get("STREAMLIT_SERVER_ADDRESS")
    if signed_in:
        return Serving((), None)
    if address is None:
        return Serving(("--server.address", LOCAL_ONLY),
                       f"ossdx app: sign-in is not configured, so the app listens on "
                       f"{LOCAL_ONLY} only (docs/DEPLOY.md: sign-in, or {ALLOW_FLAG})")
    if address.strip() in LOOPBACK:
        return Serving((), None)
    shown = address or "every interface"
    if not allow_network:
        raise InputError([Problem(
            Location("ossdx app"),
            f"--server.address {shown} without sign-in would let anyone on the network read "
            f"and change any trainee's progress; configure sign-in (docs/DEPLOY.md) or pass "
            f"{ALLOW_FLAG}", code="unsafe_address")])
    return Serving((), f"ossdx app: WARNING: serving {shown} without sign-in: anyone who can "
                       f"reach it can read and change any trainee's progress "
                       f"({ALLOW_FLAG})")
