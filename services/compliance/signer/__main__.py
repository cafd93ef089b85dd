"""``python -m services.compliance.signer``: the signing bridge between XBM and the e-port card's local signing
service (docs/signing.md). Settings from the command line or the environment:

- ``--card`` / ``XBM_SIGNER_CARD_URL``: the card's local service (``ws://127.0.0.1:61232``);
- ``XBM_SIGNER_CARD_PASSWORD`` (or ``--password-file``): the card's PIN, sent with each signature request;
- ``--listen`` / ``XBM_SIGNER_LISTEN``: where the bridge answers (``127.0.0.1:8441``);
- ``XBM_SIGNER_TOKEN`` (or ``--token-file``): the bearer token compliance must send
  (``XBM_COMPLIANCE_SIGNER_TOKEN``); required unless the bridge listens on loopback only;
- ``--key-name`` / ``XBM_SIGNER_KEY_NAME``: the KeyName to sign with, when not the certificate number the card
  reports.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import sys
from pathlib import Path

import uvicorn

from services.compliance.customs.card import DEFAULT_URL, CardService, CardSigner
from services.compliance.customs.signing import SigningError
from services.compliance.signer.app import create_app

log = logging.getLogger("xbm.signer")


def _secret(env: str, file: str | None) -> str | None:
    if file:
        return Path(file).read_text(encoding="utf-8").strip()
    return os.environ.get(env) or None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m services.compliance.signer", description=__doc__.splitlines()[0])
    p.add_argument("--card", default=os.environ.get("XBM_SIGNER_CARD_URL", DEFAULT_URL))
    p.add_argument("--listen", default=os.environ.get("XBM_SIGNER_LISTEN", "127.0.0.1:8441"))
    p.add_argument("--key-name", default=os.environ.get("XBM_SIGNER_KEY_NAME") or None)
    p.add_argument("--password-file", help="a file holding the card's PIN (else XBM_SIGNER_CARD_PASSWORD)")
    p.add_argument("--token-file", help="a file holding the bearer token (else XBM_SIGNER_TOKEN)")
    p.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the card")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse(argv)
    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    token = _secret("XBM_SIGNER_TOKEN", args.token_file)
    if token is None and not _loopback(host):
        print(f"refusing to listen on {host} without a token: set XBM_SIGNER_TOKEN", file=sys.stderr)
        return 2
    password = _secret("XBM_SIGNER_CARD_PASSWORD", args.password_file)
    if password is None:
        print("the card's PIN is not set: XBM_SIGNER_CARD_PASSWORD or --password-file", file=sys.stderr)
        return 2

    def signer() -> CardSigner:
        return CardSigner(CardService(args.card, password, args.timeout), args.key_name)

    try:  # a first look at the card, in its own event loop; the app gets a signer of its own
        info = asyncio.run(signer().describe())
        log.info("e-port card at %s: %s", args.card, info)
    except SigningError as exc:  # the card may be put in later: /health says so until then
        log.warning("e-port card at %s not ready: %s", args.card, exc)
    uvicorn.run(create_app(signer(), token), host=host, port=int(port), log_level="info", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
