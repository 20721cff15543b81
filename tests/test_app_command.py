"""`ossdx app` listens on 127.0.0.1 only unless sign-in is configured; other interfaces
without sign-in need an explicit option and print a warning.

The listening address is read from the kernel (/proc/net/tcp*), not from what the command
says it did.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ossdx.cli.app import ALLOW_FLAG, secrets_files, serving, sign_in_configured
from ossdx.core.errors import InputError

AUTH = ('[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n'
        'cookie_secret = "0123456789abcdef0123456789abcdef"\nclient_id = "x"\n'
        'client_secret = "y"\nserver_metadata_url = "http://localhost:9/.well-known/x"\n')


# ------------------------------------------------------------------ the decision
def test_without_sign_in_the_app_listens_on_127_0_0_1_only():
    """No sign-in, no address given: 127.0.0.1, with a note saying why."""
    plan = serving([], allow_network=False, signed_in=False, environ={})
    assert plan.options == ("--server.address", "127.0.0.1")
    assert plan.message and "sign-in is not configured" in plan.message


def test_other_interfaces_without_sign_in_need_the_explicit_option():
    """0.0.0.0 (given as an option or in Streamlit's environment variable) is refused
    without the option, and allowed with it, with a warning; a loopback address is fine."""
    for args, env in ((["--server.address", "0.0.0.0"], {}),
                      (["--server.address=192.168.1.5"], {}),
                      ([], {"STREAMLIT_SERVER_ADDRESS": "0.0.0.0"})):
        with pytest.raises(InputError, match=f"without sign-in .* {ALLOW_FLAG}"):
            serving(args, allow_network=False, signed_in=False, environ=env)
        plan = serving(args, allow_network=True, signed_in=False, environ=env)
        assert plan.options == () and plan.message and "WARNING" in plan.message
    plan = serving(["--server.address", "localhost"], allow_network=False, signed_in=False,
                   environ={})
    assert plan == type(plan)((), None)


def test_with_sign_in_streamlit_decides_where_to_listen():
    """Sign-in configured: nothing is added and nothing refused."""
    plan = serving(["--server.address", "0.0.0.0"], allow_network=False, signed_in=True,
                   environ={})
    assert plan.options == () and plan.message is None


def test_sign_in_is_read_from_the_secrets_files_streamlit_reads(tmp_path):
    """~/.streamlit and ./.streamlit by default, --secrets.files when given; a file without
    [auth], or one that is not valid TOML, does not count as sign-in."""
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    assert secrets_files([], cwd=cwd, home=home) == [
        home / ".streamlit" / "secrets.toml", cwd / ".streamlit" / "secrets.toml"]
    given = tmp_path / "s.toml"
    assert secrets_files(["--secrets.files", str(given)]) == [given]
    assert not sign_in_configured([given])  # missing
    given.write_text('[ossdx]\neducators = ["a@b"]\n')
    assert not sign_in_configured([given])
    given.write_text("[auth\nbroken")
    assert not sign_in_configured([given])
    given.write_text(AUTH)
    assert sign_in_configured([tmp_path / "missing.toml", given])


# ------------------------------------------------------------------ the real command
def listening(pid_port: int) -> set[str]:
    """The local addresses with a socket listening on this TCP port (from /proc/net)."""
    found = set()
    for name, size in (("tcp", 8), ("tcp6", 32)):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] == "0A" and int(port, 16) == pid_port:  # 0A = LISTEN
                raw = bytes.fromhex(address)
                if size == 8:
                    found.add(".".join(str(b) for b in reversed(raw)))
                else:
                    found.add("::" if raw == bytes(16) else raw.hex())
    return found


def start_app(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / "app.log"
    env = {**os.environ, "HOME": str(tmp_path), "OSSDX_DB": str(tmp_path / "p.sqlite3")}
    env.pop("STREAMLIT_SERVER_ADDRESS", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from ossdx.cli import main; "
             "sys.exit(main(sys.argv[1:]))", "app", "--server.port", str(port), *args],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                        timeout=2) as reply:
                if reply.read().strip() == b"ok":
                    break
        except OSError:
            time.sleep(0.2)
    return process, port, log


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_ossdx_app_without_sign_in_binds_127_0_0_1_only(tmp_path):
    """Started without sign-in (no secrets anywhere), the server's only listening socket is
    127.0.0.1, and the command said so."""
    process, port, log = start_app(tmp_path)
    try:
        assert listening(port) == {"127.0.0.1"}, log.read_text()[-2000:]
    finally:
        stop(process)
    assert "listens on 127.0.0.1 only" in log.read_text()


def test_ossdx_app_refuses_every_interface_without_sign_in(tmp_path):
    """--server.address 0.0.0.0 without sign-in: one line, exit 2, no server started."""
    process, port, log = start_app(tmp_path, "--server.address", "0.0.0.0")
    process.wait(timeout=60)
    assert process.returncode == 2
    text = log.read_text()
    assert text.count("\n") == 1 and "Traceback" not in text and ALLOW_FLAG in text
    assert listening(port) == set()


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_ossdx_app_serves_every_interface_only_when_told_and_warns(tmp_path):
    """With the explicit option (given after the Streamlit options) it listens on every
    interface and prints a warning first."""
    process, port, log = start_app(tmp_path, "--server.address", "0.0.0.0", ALLOW_FLAG)
    try:
        assert listening(port) == {"0.0.0.0"}, log.read_text()[-2000:]
    finally:
        stop(process)
    assert "WARNING: serving 0.0.0.0 without sign-in" in log.read_text()


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_ossdx_app_with_sign_in_listens_as_streamlit_does(tmp_path):
    """Sign-in configured in ./.streamlit/secrets.toml: no address is forced (Streamlit's
    default, every interface), and no warning."""
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(AUTH)
    process, port, log = start_app(tmp_path)
    try:
        addresses = listening(port)
        assert addresses and "127.0.0.1" not in addresses, (addresses, log.read_text())
    finally:
        stop(process)
    assert "WARNING" not in log.read_text() and "127.0.0.1 only" not in log.read_text()

