"""Where ``xbm login`` keeps its login: ``$XBM_CONFIG_DIR`` or the user's config dir, file mode 0600.

The login is the access token and the API key it was exchanged for: when the token expires (plans' tokens live
15 minutes) the CLI exchanges the key again, so a login lasts until ``xbm logout`` (or until the key is revoked).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import typer

from xbm.cli.errors import CliError, Exit

FILE_NAME = "credentials.json"


def config_dir() -> Path:
    return Path(os.environ.get("XBM_CONFIG_DIR") or typer.get_app_dir("xbm"))


@dataclass(frozen=True)
class Credentials:
    access_token: str
    expires_at: float
    plans_url: str
    #: every service's URL as given at login: later commands send the token there, not to a default port
    urls: dict[str, str] = field(default_factory=dict)
    #: the key the token was exchanged for, to exchange again when the token expires (None: a login kept before
    #: keys were kept, which ends with its token)
    api_key: str | None = None

    def expired(self, now: float | None = None, margin: float = 0.0) -> bool:
        """True once the token has expired, or will within ``margin`` seconds."""
        return (now if now is not None else time.time()) + margin >= self.expires_at


def save(directory: Path, credentials: Credentials) -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / FILE_NAME
    tmp = path.with_suffix(".tmp")
    # created 0600 from the start, so the token and the key are never readable by others, not even for a moment
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(credentials.__dict__, handle)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def load(directory: Path) -> Credentials | None:
    path = directory / FILE_NAME
    try:
        data = json.loads(path.read_text())
        urls = data.get("urls") or {}
        if not isinstance(urls, dict):
            raise TypeError("urls is not a mapping")
        api_key = data.get("api_key")
        return Credentials(
            str(data["access_token"]),
            float(data["expires_at"]),
            str(data["plans_url"]),
            {str(k): str(v) for k, v in urls.items()},
            str(api_key) if api_key else None,
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CliError(f"cannot read {path} ({exc}); run `xbm login` again", Exit.NOT_LOGGED_IN) from exc


def forget(directory: Path) -> bool:
    try:
        (directory / FILE_NAME).unlink()
    except FileNotFoundError:
        return False
    return True
