"""Fixtures of the compliance tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.compliance.context import compliance_context
from services.compliance.customs.signing import FileSigner
from tests.compliance.signers import sm2_files


@pytest.fixture
def sm2_signer(compliance_app, tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    """The seller's SM2 key and certificate (made for the test) sign every message compliance builds."""
    key, cert = sm2_files(tmp_path)
    monkeypatch.setattr(compliance_context(compliance_app).customs, "signer", FileSigner.from_files(key, cert))
