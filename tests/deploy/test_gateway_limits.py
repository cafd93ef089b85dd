"""Behind the shipped gateway, login attempts are counted per real client: 20 wrong keys from one client do not
stop another client's valid key, and a client cannot escape its count by naming other addresses.

A real nginx runs the shipped config in front of a real plans process started with the Dockerfile's own command
(uvicorn with proxy headers trusted from the gateway's address alone); the two clients connect from two
loopback addresses, as two machines would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.deploy.routes import SERVICES
from tests.deploy.test_nginx import CONFIG, NGINX, _free_port, _nginx, local_config

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
BOOTSTRAP = "b" * 40

pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx; .ci/run installs it)"
)


def _image_command() -> str:
    """The shell command the image runs (its CMD ["sh", "-c", "…"])."""
    line = next(line for line in DOCKERFILE.read_text().splitlines() if line.startswith("CMD "))
    match = re.match(r'CMD \["sh", "-c", "(.*)"\]$', line)
    assert match, line
    return match.group(1).replace('\\"', '"')


def _wait(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        time.sleep(0.2)
    raise AssertionError(f"{what} did not come up")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("plans")
    port, gateway_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XBM_")}
    env.update(
        XBM_DATA_DIR=str(data),
        XBM_ENVIRONMENT="development",
        XBM_BOOTSTRAP_TOKEN=BOOTSTRAP,
        SERVICE="plans",
        PORT=str(port),
        FORWARDED_ALLOW_IPS="127.0.0.1",  # the gateway's address here, as the Compose file names its own
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    subprocess.run([sys.executable, "-m", "services.plans.migrate"], cwd=ROOT, env=env, check=True, timeout=120)
    command = _image_command().replace("--host 0.0.0.0", "--host 127.0.0.1")
    assert "--forwarded-allow-ips" in command, command
    plans = subprocess.Popen(["sh", "-c", command], cwd=ROOT, env=env, stderr=subprocess.PIPE)
    prefix = tmp_path_factory.mktemp("gateway")
    upstreams = {name: port if name == "plans" else _free_port() for name in SERVICES}
    (prefix / "nginx.conf").write_text(local_config(CONFIG.read_text(), prefix, gateway_port, upstreams))
    nginx = subprocess.Popen(_nginx(prefix, "-g", "daemon off;"), stderr=subprocess.PIPE)
    try:
        _wait(f"http://127.0.0.1:{port}/healthz", plans, "plans")
        _wait(f"http://127.0.0.1:{gateway_port}/healthz", nginx, "nginx")
        yield f"http://127.0.0.1:{gateway_port}"
    finally:
        for proc in (nginx, plans):
            proc.terminate()
            proc.wait(timeout=20)


def _client(url: str, address: str) -> httpx.Client:
    return httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=address), timeout=10)


def test_one_clients_wrong_keys_do_not_stop_another_clients_valid_key(stack: str) -> None:
    with _client(stack, "127.0.0.3") as owner, _client(stack, "127.0.0.2") as attacker:
        created = owner.post("/v1/orgs", json={"name": "Company A"}, headers={"X-Bootstrap-Token": BOOTSTRAP})
        assert created.status_code == 201, created.text
        key = created.json()["admin_api_key"]
        statuses = []
        for n in range(25):
            # each guess names another client address: the gateway replaces it with the real one
            headers = {"X-Forwarded-For": f"198.51.100.{n}", "X-Real-IP": f"198.51.100.{n}"}
            r = attacker.post("/v1/auth/token", json={"api_key": f"xbm_guess{n:04d}{'x' * 40}"}, headers=headers)
            statuses.append(r.status_code)
        assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}, statuses
        # the attacker is limited even with the right key; the owner, on another address, is served
        assert attacker.post("/v1/auth/token", json={"api_key": key}).status_code == 429
        served = owner.post("/v1/auth/token", json={"api_key": key})
        assert served.status_code == 200, served.text
        assert served.json()["access_token"]
