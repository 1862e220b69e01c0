"""A throwaway Radicale CalDAV server on 127.0.0.1, for tests and benchmarks.

Rule: loopback only, plain htpasswd users, storage in a folder the caller owns. Radicale is a
test dependency: it is started as `python -m radicale`, never imported here.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RadicaleServer:
    """A Radicale subprocess on 127.0.0.1 with plain htpasswd auth; restartable in place."""

    folder: Path
    port: int
    users: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's root URL."""
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout_s: float = 15.0) -> None:
        """Start the server and wait until it answers.

        Raises:
            RuntimeError: it exited or did not answer within `timeout_s`.
        """
        users = self.folder / "users"
        users.write_text("".join(f"{u}:{p}\n" for u, p in self.users.items()), encoding="utf-8")
        storage = self.folder / "storage"
        storage.mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "radicale",
                "--config",
                "",
                "--server-hosts",
                f"127.0.0.1:{self.port}",
                "--storage-filesystem-folder",
                str(storage),
                "--auth-type",
                "htpasswd",
                "--auth-htpasswd-filename",
                str(users),
                "--auth-htpasswd-encryption",
                "plain",
                "--auth-delay",
                "0",
                "--logging-level",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("radicale exited at start")
            try:
                with urllib.request.urlopen(self.url, timeout=1):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"radicale did not answer in {timeout_s:.0f} s")

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 10 s)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
