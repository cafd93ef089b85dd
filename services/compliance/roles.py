"""The roles of compliance's routes beyond shared's ``Reader``/``Writer``/``Admin``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, require

#: who sends documents and fetches declaration XML: integration and admin
Ingest = Annotated[Principal, Depends(require("integration"))]
