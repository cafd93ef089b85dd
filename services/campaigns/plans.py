"""Asking plans about SBUs, with the caller's token (calls run one way: campaigns → plans)."""

from __future__ import annotations

from services.plans.client import PlansClient, PlansRefused, PlansUnavailable, SbuRef
from shared.auth import Principal
from shared.errors import FieldError, NotFound, Unavailable


async def live_sbu(plans: PlansClient, principal: Principal, sbu_id: str) -> SbuRef:
    """The SBU if plans knows it in the caller's organisation and it is not retired; else 422 on ``sbu_id``.
    Plans unreachable → 503 with Retry-After (raised by the client); never a silent accept."""
    try:
        sbu = await plans.get_sbu(sbu_id, token=principal.token)
    except NotFound as exc:
        raise FieldError("sbu_id", f"plans knows no SBU {sbu_id} in this organisation") from exc
    except PlansUnavailable as exc:
        raise Unavailable(str(exc), retry_after=5) from exc
    except PlansRefused as exc:
        raise FieldError("sbu_id", str(exc)) from exc
    if sbu.org_id != principal.org_id:
        raise FieldError("sbu_id", f"plans knows no SBU {sbu_id} in this organisation")
    if sbu.status == "retired":
        raise FieldError("sbu_id", f"SBU {sbu_id} is retired; derive a new SBU and bind the campaign to it")
    return sbu
