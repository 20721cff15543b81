"""An app server on a free port for a benchmark or a browser test: started, waited for
until Streamlit's health check answers, and stopped by its PID."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(command: Sequence[str], port: int, log: Path, *,
            env: Mapping[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 90.0) -> Iterator[str]:
    """Run ``command`` (a Streamlit server on ``port``, its output in ``log``); yield
    ``http://127.0.0.1:PORT`` once healthy; stop it after. Raises RuntimeError, with the
    end of the log, if it exits or is not healthy within ``timeout`` seconds."""
    with log.open("wb") as out:
        process = subprocess.Popen(list(command), env=None if env is None else dict(env),
                                   cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the app exited early:\n{log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
