"""``make run``: migrate and start the three services in the foreground; Ctrl-C or SIGTERM stops all three.

Settings come from the environment: XBM_DATA_DIR (default ./var), XBM_PLANS_PORT / XBM_CAMPAIGNS_PORT /
XBM_COMPLIANCE_PORT (8001/8002/8003), XBM_HOST (127.0.0.1), XBM_BOOTSTRAP_TOKEN, XBM_<SVC>_DATABASE_URL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from shared.secrets import load_or_create_secret

SERVICES = (("plans", 8001), ("campaigns", 8002), ("compliance", 8003))


def _ports() -> dict[str, int]:
    ports = {}
    for name, default in SERVICES:
        raw = os.environ.get(f"XBM_{name.upper()}_PORT", str(default))
        if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 65536:
            raise SystemExit(f"XBM_{name.upper()}_PORT={raw!r} is not a port number")
        ports[name] = int(raw)
    if len(set(ports.values())) != len(ports):
        raise SystemExit(f"the three services need three different ports, got {ports}")
    return ports


def _taken(host: str, ports: dict[str, int]) -> list[str]:
    """The ports another process already listens on (bound the way uvicorn binds them)."""
    taken = []
    for name, port in ports.items():
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            # SO_REUSEADDR as uvicorn sets it: a port left in TIME_WAIT by a previous run is free, a listener is not
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                taken.append(f"{name} port {port} on {host} ({exc.strerror or exc})")
    return taken


def _env(data_dir: Path, host: str, ports: dict[str, int]) -> dict[str, str]:
    env = dict(os.environ)
    env["XBM_DATA_DIR"] = str(data_dir)
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
    return env


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], instance: str, seconds: float = 60) -> bool:
    """True once /healthz answers with this child's own instance id: another stack's answer does not count."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200 and json.loads(response.read()).get("instance") == instance:
                    return True
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    return False


def cli_hint() -> str:
    """Where the `xbm` command line is: beside this Python (the virtualenv's bin), named as the user can type it."""
    script = Path(sys.executable).parent / "xbm"
    try:
        shown = f"./{script.relative_to(Path.cwd())}" if script.is_relative_to(Path.cwd()) else str(script)
    except ValueError:  # pragma: no cover - another drive
        shown = str(script)
    if not script.exists():
        return "The xbm command line is not installed here: `make install` installs it (or run python -m xbm.cli.main)."
    return f"The xbm command line: {shown} (e.g. `{shown} login`; `source {script.parent}/activate` puts it on PATH)."


def main() -> int:
    data_dir = Path(os.environ.get("XBM_DATA_DIR", "var")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    host = os.environ.get("XBM_HOST", "127.0.0.1")
    ports = _ports()
    taken = _taken(host, ports)
    if taken:
        # checked before anything is generated or started, so a refused start leaves no token nor process behind
        print("XBM cannot start: port already in use:", file=sys.stderr, flush=True)
        for line in taken:
            print(f"  {line}", file=sys.stderr, flush=True)
        print(
            "Stop whatever listens there (another `make run`?) or choose other ports with "
            "XBM_PLANS_PORT, XBM_CAMPAIGNS_PORT and XBM_COMPLIANCE_PORT.",
            file=sys.stderr,
            flush=True,
        )
        return 2
    env = _env(data_dir, host, ports)

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

    failed = False
    instances = {name: uuid.uuid4().hex for name, _ in SERVICES}
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
            env={**env, "XBM_INSTANCE_ID": instances[name]},
        )
    for name, _ in SERVICES:
        # probe the address this child listens on: XBM_<SVC>_URL may name a gateway or another host
        url = f"http://{host if ':' not in host else f'[{host}]'}:{ports[name]}"
        if _wait_healthy(url, procs[name], instances[name]):
            print(f"{name:<11} listening on {url}  (docs {url}/docs)", flush=True)
        else:
            print(f"{name} did not start; stopping", file=sys.stderr, flush=True)
            stop()
            failed = True
            break
    else:
        print("XBM is up. Ctrl-C stops all three.", flush=True)
        print(cli_hint(), flush=True)

    code = 1 if failed else 0
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
