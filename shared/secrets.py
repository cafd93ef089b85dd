"""Secrets generated on first start and kept in the data dir (the embedded default)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def load_or_create_secret(
    path: Path, generate: Callable[[], str] = lambda: secrets.token_urlsafe(32)
) -> tuple[str, bool]:
    """Return the secret kept at ``path``, creating it (mode 0600) if missing; the flag says it was created."""
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    value = generate()
    # write a private temp file, then link it into place: several processes starting at once all end up
    # with the one secret that won, and nobody ever reads a half-written file
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return path.read_text().strip(), False
    finally:
        tmp.unlink()
    return value, True
