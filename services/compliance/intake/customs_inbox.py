"""The receipts customs sends back, taken from the folder XBM shares with the e-port transfer client
(``XBM_COMPLIANCE_CUSTOMS_INBOX``) as a periodic job of the relay, each file in a transaction of its own and
applied exactly as a receipt posted to ``/messages`` is (``service.receive_message``): this is intake, the way
in for what customs says, as the webhooks are for what platforms say."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.compliance.customs.context import CustomsContext
from services.compliance.customs.transport import unwrap
from services.compliance.customs.xsd import InvalidMessage
from services.compliance.intake import service
from services.compliance.pii import Pii
from services.compliance.setup.models import CustomsProfile, DxpOwner
from shared.errors import AppError

log = logging.getLogger(__name__)
MAX_INBOX_FILE = 1_000_000


async def _org_for(session: AsyncSession, receiver: str | None) -> str | None:
    """The organisation that owns the DxpMsg id the receipt is addressed to (one at most: dxp_owners); with no
    address, the only seller on this deployment (whatever number of profiles it has)."""
    if receiver:
        owner = await session.get(DxpOwner, receiver)
        return owner.org_id if owner else None
    orgs = list((await session.execute(select(CustomsProfile.org_id).distinct().limit(2))).scalars())
    return orgs[0] if len(orgs) == 1 else None


async def take_inbox(sessions: async_sessionmaker[AsyncSession], ctx: CustomsContext, pii: Pii) -> int:
    """Take each receipt file as if posted to /messages; once stored it moves to ``done/``. A file that cannot
    be applied — refused as /messages would refuse it, or failing in a way nothing retried would change — moves
    to ``failed/`` with the reason beside it (``<name>.reason.txt``) and the next file is taken: no file stops
    the inbox. Only when the database itself cannot be reached does the pass stop, the file left in place for
    the next pass. A crash before the move takes the file again: receipts are kept by fingerprint, so nothing
    is applied twice."""
    if ctx.inbox is None:
        return 0
    taken = 0
    for path in sorted(p for p in ctx.inbox.iterdir() if p.is_file() and p.suffix.lower() == ".xml"):
        try:
            raw = path.read_bytes()[: MAX_INBOX_FILE + 1]
            if len(raw) > MAX_INBOX_FILE:
                raise InvalidMessage("receipt file larger than 1 MB")
            body, receiver = unwrap(raw)
            async with sessions() as session, session.begin():
                org_id = await _org_for(session, receiver)
                if org_id is None:
                    raise InvalidMessage(f"no customs profile receives messages for {receiver!r}")
                await service.receive_message(session, pii, org_id, body)
        except (AppError, InvalidMessage, ValueError, ArithmeticError) as exc:
            _set_aside(ctx.inbox, path, str(exc))
            continue
        except FileNotFoundError:
            continue  # another relay on the same folder took it meanwhile
        except Exception as exc:
            if _away(exc):  # the database (or the folder) is away: every file would fail alike; next pass
                log.warning("customs inbox: %s not taken now; tried again on the next pass", path.name, exc_info=True)
                break
            # a file XBM could not apply: aside with its reason, never retried pass after pass
            log.exception("customs inbox: %s could not be applied; moved to failed/", path.name)
            _set_aside(ctx.inbox, path, f"could not be applied: {type(exc).__name__}: {exc}")
            continue
        _move(path, ctx.inbox / "done")
        taken += 1
    return taken


def _away(exc: BaseException) -> bool:
    """The database cannot be reached (or the folder cannot be read): nothing to do with the file at hand."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (DisconnectionError, InterfaceError, OperationalError, OSError, TimeoutError))


def _set_aside(inbox: Path, path: Path, reason: str) -> None:
    _move(path, inbox / "failed")
    (inbox / "failed" / f"{path.name}.reason.txt").write_text(reason[:2000])


def _move(path: Path, folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    try:
        shutil.move(str(path), str(folder / path.name))
    except FileNotFoundError:
        pass  # another relay on the same folder moved it
