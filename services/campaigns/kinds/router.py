from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.campaigns.kinds.builtin import BUILTIN_KINDS
from shared.auth import Reader
from shared.schemas import Out, Page

router = APIRouter(prefix="/v1", tags=["campaign kinds"])


class KindOut(Out):
    key: str
    name: str
    builtin: bool
    settings_schema: dict[str, Any]


@router.get("/campaign-kinds", response_model=Page[KindOut])
async def list_kinds(principal: Reader) -> Page[KindOut]:
    items = [
        KindOut(key=k, name=v["name"], builtin=True, settings_schema=v["settings_schema"])
        for k, v in BUILTIN_KINDS.items()
    ]
    return Page(items=items)
