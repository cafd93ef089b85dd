"""The three services as uvicorn processes on PostgreSQL, each on fresh databases that are dropped after; and,
when asked, the benchmark's anchor (``bench/anchor.py``) as a fourth process started the same way."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

from services.campaigns.app import MIGRATIONS as CAMPAIGNS_MIGRATIONS
from services.compliance.app import MIGRATIONS as COMPLIANCE_MIGRATIONS
from services.plans.app import MIGRATIONS as PLANS_MIGRATIONS
from shared.migrations import aupgrade_to_head

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = {"plans": PLANS_MIGRATIONS, "campaigns": CAMPAIGNS_MIGRATIONS, "compliance": COMPLIANCE_MIGRATIONS}
BOOTSTRAP_TOKEN = "bench-bootstrap-token"


def plain(url: str) -> str:
    """The asyncpg URL of a SQLAlchemy one."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Databases:
    """One fresh database per service on the given server, dropped by :meth:`drop`."""

    def __init__(self, server_url: str):
        self.server = server_url
        self.run_id = uuid.uuid4().hex[:8]
        self.urls: dict[str, str] = {}

    async def create(self) -> dict[str, str]:
        conn = await asyncpg.connect(plain(self.server))
        try:
            for name in MIGRATIONS:
                db = f"xbm_bench_{self.run_id}_{name}"
                await conn.execute(f'CREATE DATABASE "{db}"')
                self.urls[name] = f"{self.server.rpartition('/')[0]}/{db}"
        finally:
            await conn.close()
        for name, url in self.urls.items():
            await aupgrade_to_head(MIGRATIONS[name], url)
        return self.urls

    async def drop(self) -> None:
        conn = await asyncpg.connect(plain(self.server))
        try:
            for url in self.urls.values():
                await conn.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')
        finally:
            await conn.close()


#: the module and the readiness path of each process: the services as ``make run`` starts them, and the anchor
APPS = {name: (f"services.{name}.app:create_app", "/readyz") for name in MIGRATIONS} | {
    "anchor": ("bench.anchor:create_app", "/healthz")
}


#: PostgreSQL connections each server process may hold
POOL = 20


class Servers:
    """``uvicorn --factory services.<name>.app:create_app`` for each service, as ``make run`` starts them; with
    ``anchor``, ``uvicorn --factory bench.anchor:create_app`` beside them with the same flags."""

    def __init__(
        self,
        data_dir: Path,
        database_urls: dict[str, str],
        pii_key: str,
        profile: str | None = None,
        *,
        anchor: bool = False,
    ):
        self.data_dir = data_dir
        #: this service runs under pyinstrument, which writes its report here when the service stops
        self.profile = profile
        self.profile_path = data_dir / f"profile-{profile}.pyisession"
        self.ports = {name: free_port() for name in [*MIGRATIONS, *(["anchor"] if anchor else [])]}
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        env = {k: v for k, v in os.environ.items() if not k.startswith("XBM_")}
        env.update(
            {
                "XBM_DATA_DIR": str(data_dir),
                "XBM_BOOTSTRAP_TOKEN": BOOTSTRAP_TOKEN,
                "XBM_SERVICE_SECRET": "bench-" + uuid.uuid4().hex,
                "XBM_COMPLIANCE_PII_KEY": pii_key,
                # every server (the anchor too) keeps at most POOL connections: four servers fit PostgreSQL's
                # default 100 beside the bench's own, and XBM and the anchor queue alike for a connection
                "XBM_DB_POOL_SIZE": str(POOL),
                "XBM_DB_MAX_OVERFLOW": "0",
            }
        )
        for name in MIGRATIONS:
            env[f"XBM_{name.upper()}_URL"] = self.urls[name]
            env[f"XBM_{name.upper()}_DATABASE_URL"] = database_urls[name]
        if anchor:
            env["XBM_ANCHOR_PLANS_URL"] = self.urls["plans"]
            env["XBM_ANCHOR_PLANS_DATABASE_URL"] = plain(database_urls["plans"])
            env["XBM_ANCHOR_COMPLIANCE_DATABASE_URL"] = plain(database_urls["compliance"])
        self.env = env
        #: settings a process was restarted with, beside the others (:meth:`restart`)
        self.extra_env: dict[str, dict[str, str]] = {}
        self.database_urls = database_urls
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    async def settle(self, limit: float = 300.0) -> float:
        """Wait until no service has an event delivery due (the relays have sent what earlier loops published, and
        the receivers have handled it), so that a figure counts its own requests' work only. Seconds waited."""
        started = time.monotonic()
        conns = [await asyncpg.connect(plain(url)) for url in self.database_urls.values()]
        try:
            while time.monotonic() - started < limit:
                due = 0
                for conn in conns:
                    due += await conn.fetchval(
                        "SELECT count(*) FROM event_deliveries WHERE status = 'pending' AND next_attempt_at <= now()"
                    )
                if not due:
                    break
                await asyncio.sleep(0.5)
        finally:
            for conn in conns:
                await conn.close()
        return time.monotonic() - started

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for name in self.ports:
            self._start(name)

    def _start(self, name: str) -> None:
        command = ["-m", "uvicorn", "--factory", APPS[name][0], "--host", "127.0.0.1", "--port", str(self.ports[name]),
                   "--no-access-log"]  # fmt: skip
        if name == self.profile:
            command = ["-m", "pyinstrument", "-r", "pyisession", "-o", str(self.profile_path), *command]
        log = (self.data_dir / f"{name}.log").open("ab")
        env = {**self.env, **self.extra_env.get(name, {})}
        self.procs[name] = subprocess.Popen(
            [sys.executable, *command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    async def restart(self, name: str, extra_env: dict[str, str]) -> None:
        """Stop ``name`` and start it again on the same port with ``extra_env`` beside its settings (an empty
        one: as it first started)."""
        self._stop({name: self.procs[name]})
        self.extra_env[name] = extra_env
        self._start(name)
        await self.wait_up(names=[name])

    async def wait_up(self, seconds: float = 180, names: list[str] | None = None) -> None:
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(timeout=1) as client:
            for name in names or list(self.urls):
                url = self.urls[name]
                while True:
                    if self.procs[name].poll() is not None:
                        raise RuntimeError(f"{name} exited; see {self.data_dir / (name + '.log')}")
                    try:
                        if (await client.get(url + APPS[name][1])).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name} did not come up; see {self.data_dir / (name + '.log')}")
                    await asyncio.sleep(0.1)

    def cpu_seconds(self, name: str) -> float:
        """CPU time the service's process has used so far (user + system, from /proc)."""
        fields = Path(f"/proc/{self.procs[name].pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self._stop(self.procs)
        if self.profile and self.profile_path.exists():
            self.render_profile()

    def _stop(self, procs: dict[str, subprocess.Popen[bytes]]) -> None:
        for name, proc in procs.items():
            if proc.poll() is None:
                # uvicorn re-raises SIGTERM after its shutdown, which would end pyinstrument before it writes;
                # SIGINT ends it with KeyboardInterrupt, which pyinstrument catches to save its session
                proc.send_signal(signal.SIGINT if name == self.profile else signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def render_profile(self) -> None:
        """The saved session as text (read here) and HTML (open in a browser)."""
        for renderer, suffix in (("text", ".txt"), ("html", ".html")):
            subprocess.run(
                [sys.executable, "-m", "pyinstrument", "--load", str(self.profile_path), "-r", renderer,
                 "-o", str(self.profile_path.with_suffix(suffix))] + (["--show-all"] if renderer == "text" else []),
                check=False,
            )  # fmt: skip
