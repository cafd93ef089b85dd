"""A relay process killed between sending a delivery and recording it loses nothing: once its lease runs out,
another relay sends the same event again (same ``webhook-id``, so the subscriber can drop the duplicate)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.plans.app import MIGRATIONS
from services.plans.contracts import SbuRetired
from services.plans.events import EVENTS
from shared.db import make_engine, make_sessionmaker
from shared.events.outbox import new_webhook_secret, publish
from shared.events.subscriptions.system import upsert_system_subscription
from shared.migrations import aupgrade_to_head
from tests.system.procs import ROOT, child_env

pytestmark = [pytest.mark.system, pytest.mark.db]


class HangingSubscriber:
    """Receives the first delivery and never answers it; answers 200 to the rest."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                outer.received.append(dict(self.headers))
                if len(outer.received) == 1:
                    outer.release.wait(60)
                    return
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def relay(url: str, data_dir: Path) -> subprocess.Popen[bytes]:
    env = child_env()
    env.update(
        {
            "XBM_PLANS_DATABASE_URL": url,
            "XBM_DATA_DIR": str(data_dir),
            "XBM_PLANS_RELAY_LEASE_SECONDS": "2",
            "XBM_PLANS_RELAY_IDLE_SECONDS": "0.2",
            "XBM_SERVICE_SECRET": "s",
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "services.plans.relay"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(check: Any, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


async def test_killing_a_relay_mid_delivery_loses_nothing(databases, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = await databases.new("relaycrash")
    await aupgrade_to_head(MIGRATIONS, url)
    subscriber = HangingSubscriber()
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await upsert_system_subscription(
            session, EVENTS, "watcher", subscriber.url, ["sbu.retired"], new_webhook_secret()
        )
        event = await publish(session, EVENTS, SbuRetired(sbu_id="s-1"), org_id="org-1")

    first = relay(url, tmp_path)
    try:
        wait_for(lambda: len(subscriber.received) == 1, "the first relay to send")
        first.send_signal(signal.SIGKILL)  # sent, never recorded
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    subscriber.release.set()

    second = relay(url, tmp_path)
    try:
        wait_for(lambda: len(subscriber.received) >= 2, "another relay to send the event again once the lease ran out")

        async def delivered() -> Any:
            async with sessions() as session:
                D = EVENTS.Delivery
                return (await session.execute(select(D).where(D.event_id == event.id))).scalar_one()

        deadline = time.monotonic() + 20
        row = await delivered()
        while row.status != "delivered" and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            row = await delivered()
    finally:
        second.terminate()
        second.wait(10)
        await engine.dispose()
    assert row.status == "delivered" and row.attempts == 1  # the killed attempt was never recorded
    ids = [h["webhook-id"] for h in subscriber.received]
    assert ids[0] == ids[1] == event.id
