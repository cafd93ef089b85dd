"""Running the three services as real processes, the way ``make run`` does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


#: the system tests' processes share one PostgreSQL server (100 connections) with the test session's own apps and
#: engines: each keeps a few connections, not a service's default 25 (+5 under load), which several processes
#: started at once would exhaust
SMALL_POOL = {"XBM_DB_POOL_SIZE": "4", "XBM_DB_MAX_OVERFLOW": "8"}


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a process a test starts: this one's, without its ``XBM_`` settings, with a small pool."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XBM_")}
    env.update(SMALL_POOL)
    env.update(extra or {})
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    """``python -m xbm.run`` in a subprocess, with its own data dir and ports."""

    def __init__(
        self,
        data_dir: Path,
        database_urls: dict[str, str] | None = None,
        extra_env: dict[str, str] | None = None,
        ports: dict[str, int] | None = None,
        cwd: Path | None = None,
    ):
        """With ``cwd`` the data dir is left to its default (``./var`` there), as a new user runs it."""
        self.ports = ports or {name: free_port() for name in ("plans", "campaigns", "compliance")}
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        env = child_env({"PYTHONUNBUFFERED": "1"})
        if cwd is None:
            env["XBM_DATA_DIR"] = str(data_dir)
        for name, port in self.ports.items():
            env[f"XBM_{name.upper()}_PORT"] = str(port)
        for name, url in (database_urls or {}).items():
            env[f"XBM_{name.upper()}_DATABASE_URL"] = url
        env.update(extra_env or {})
        self.log = data_dir / "stack.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log.open("wb")
        self.env = env
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "xbm.run"],
            cwd=cwd or ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_up(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if "XBM is up" in self.output():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"stack exited early:\n{self.output()}")
            time.sleep(0.2)
        raise AssertionError(f"stack did not come up:\n{self.output()}")

    def stop(self, sig: int = signal.SIGTERM, seconds: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=seconds)
        finally:
            self._log_file.close()

    def client(self, name: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.urls[name], timeout=10)


async def stack_on_new_databases(
    databases: Any, data_dir: Path, prefix: str, extra_env: dict[str, str] | None = None
) -> Stack:
    """A stack on three databases made for it when the suite runs on PostgreSQL; on SQLite, the embedded default
    (the data dir's own files), as a user's first ``make run``."""
    urls = {name: await databases.new(f"{prefix}{name}") for name in ("plans", "campaigns", "compliance")}
    return Stack(data_dir, database_urls=None if urls["plans"].startswith("sqlite") else urls, extra_env=extra_env)
