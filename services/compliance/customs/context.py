"""What building and sending customs messages needs, made once per application from its settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.compliance.customs.card import CardService, CardSigner
from services.compliance.customs.signing import AgentSigner, FileSigner, Signer
from services.compliance.customs.xsd import Schemas
from services.compliance.settings import ComplianceSettings

log = logging.getLogger(__name__)


@dataclass
class CustomsContext:
    schemas: Schemas
    signer: Signer | None
    outbox: Path | None
    inbox: Path | None
    receiver_id: str

    @classmethod
    def build(cls, settings: ComplianceSettings, http: httpx.AsyncClient | None) -> CustomsContext:
        signer: Signer | None = None
        name = settings.signing_key_name
        if settings.signing_key is not None and settings.signing_cert is not None:
            signer = FileSigner.from_files(settings.signing_key, settings.signing_cert, name)
        elif settings.signer_url is not None and settings.signer_url.startswith(("ws://", "wss://")):
            password = settings.signer_card_password
            card = CardService(settings.signer_url, password.get_secret_value() if password else None)
            signer = CardSigner(card, name)
        elif settings.signer_url is not None and http is not None:
            token = settings.signer_token.get_secret_value() if settings.signer_token else None
            signer = AgentSigner(settings.signer_url, http, settings.signer_algorithm, token=token, key_name=name)
        else:
            log.warning("no signer configured: customs messages are declared unsigned (signed: false)")
        for folder in (settings.customs_outbox, settings.customs_inbox):
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
        return cls(
            Schemas.load(settings.xsd_dir),
            signer,
            settings.customs_outbox,
            settings.customs_inbox,
            settings.customs_receiver_id,
        )
