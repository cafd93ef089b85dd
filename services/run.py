"""``make run``: migrate and start the three services in the foreground; Ctrl-C or SIGTERM stops all three.

Settings come from the environment: XBM_DATA_DIR (default ./var), XBM_PLANS_PORT / XBM_CAMPAIGNS_PORT /
XBM_COMPLIANCE_PORT (8001/8002/8003), XBM_HOST (127.0.0.1), XBM_BOOTSTRAP_TOKEN, XBM_<SVC>_DATABASE_URL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from shared.secrets import load_or_create_secret

SERVICES = (("plans", 8001), ("campaigns", 8002), ("compliance", 8003))


def _env(data_dir: Path, host: str) -> tuple[dict[str, str], dict[str, int]]:
    env = dict(os.environ)
    env["XBM_DATA_DIR"] = str(data_dir)
    ports = {name: int(env.get(f"XBM_{name.upper()}_PORT", default)) for name, default in SERVICES}
    for name, port in ports.items():
        env.setdefault(f"XBM_{name.upper()}_URL", f"http://{host}:{port}")
    if not env.get("XBM_BOOTSTRAP_TOKEN"):
        path = data_dir / "bootstrap_token"
        token, created = load_or_create_secret(path)
        env["XBM_BOOTSTRAP_TOKEN"] = token
        if created:
            print(f"XBM bootstrap token (shown once; kept in {path}):\n  {token}", flush=True)
        else:
            print(f"XBM bootstrap token: kept in {path}", flush=True)
    if not env.get("XBM_SERVICE_SECRET"):
        # shared by the three services: authorises their internal subscriptions to each other
        env["XBM_SERVICE_SECRET"], _ = load_or_create_secret(data_dir / "service_secret")
    return env, ports


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def main() -> int:
    data_dir = Path(os.environ.get("XBM_DATA_DIR", "var")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    host = os.environ.get("XBM_HOST", "127.0.0.1")
    env, ports = _env(data_dir, host)

    for name, _ in SERVICES:
        subprocess.run([sys.executable, "-m", f"services.{name}.migrate"], env=env, check=True)

    procs: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    for name, _ in SERVICES:
        procs[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                f"services.{name}.app:create_app",
                "--host",
                host,
                "--port",
                str(ports[name]),
                "--no-access-log",
            ],
            env=env,
        )
    for name, _ in SERVICES:
        url = env[f"XBM_{name.upper()}_URL"]
        if _wait_healthy(url, procs[name]):
            print(f"{name:<11} listening on {url}  (docs {url}/docs)", flush=True)
        else:
            print(f"{name} did not start; stopping", file=sys.stderr, flush=True)
            stop()
            break
    else:
        print("XBM is up. Ctrl-C stops all three.", flush=True)

    code = 0
    while procs:
        for name, proc in list(procs.items()):
            rc = proc.poll()
            if rc is not None:
                del procs[name]
                if not stopping:
                    print(f"{name} exited with {rc}; stopping the others", file=sys.stderr, flush=True)
                    code = rc or 1
                    stop()
        if stopping:
            deadline = time.monotonic() + 15
            for proc in procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            procs.clear()
        time.sleep(0.2)
    print("XBM stopped.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
