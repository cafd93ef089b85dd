"""Files to and from the e-port transfer client: each message in its DxpMsg envelope, written exactly once.

Writing a message is: its bytes to ``.xbm/<guid>.tmp`` (fsync), a marker ``.xbm/<guid>.publishing`` (fsync),
the rename of the temp file into the send folder (atomic), then the database records it as sent. A process
killed anywhere in between finds on restart what was done: no marker → nothing was published, write again;
marker and temp file → finish the rename; marker alone → the file is published (and may already be taken by the
transfer client), only record it. So a message is never lost and never written twice."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from lxml import etree

from services.compliance.customs.xmlsafe import child, local, parse

DXP = "http://www.chinaport.gov.cn/dxp"
CHINA = ZoneInfo("Asia/Shanghai")
JOURNAL = ".xbm"
#: test hook: called with the step just done ("tmp", "marker", "published")
StepHook = Callable[[str], None]


def envelope(body: bytes, *, guid: str, message_type: str, sender_id: str, receiver_id: str, at: datetime) -> bytes:
    """The DxpMsg (terminal node message) carrying one customs message, base64 in ``Data``."""
    root = etree.Element(f"{{{DXP}}}DxpMsg", nsmap={"dxp": DXP})
    root.set("ver", "1.0")
    info = etree.SubElement(root, f"{{{DXP}}}TransInfo")
    for name, value in (("CopMsgId", guid), ("SenderId", sender_id)):
        etree.SubElement(info, f"{{{DXP}}}{name}").text = value
    etree.SubElement(etree.SubElement(info, f"{{{DXP}}}ReceiverIds"), f"{{{DXP}}}ReceiverId").text = receiver_id
    etree.SubElement(info, f"{{{DXP}}}CreatTime").text = at.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M:%S")
    etree.SubElement(info, f"{{{DXP}}}MsgType").text = message_type
    etree.SubElement(root, f"{{{DXP}}}Data").text = base64.b64encode(body).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def unwrap(data: bytes) -> tuple[bytes, str | None]:
    """A received file's customs message and the DxpMsg receiver it was addressed to (None for a bare message)."""
    root = parse(data)
    if local(root.tag) != "DxpMsg":
        return data, None
    info, payload = child(root, "TransInfo"), child(root, "Data")
    receiver = None
    if info is not None:
        ids = child(info, "ReceiverIds")
        found = child(ids, "ReceiverId") if ids is not None else None
        receiver = (found.text or "").strip() if found is not None else None
    if payload is None or not (payload.text or "").strip():
        return b"", receiver
    return base64.b64decode((payload.text or "").strip()), receiver


def file_name(message_type: str, guid: str) -> str:
    return f"{message_type}_{guid}.xml"


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(outbox: Path, name: str, guid: str, data: bytes, step: StepHook | None = None) -> None:
    """Put ``data`` in the send folder as ``name`` exactly once, whatever an earlier attempt left behind."""
    journal = outbox / JOURNAL
    journal.mkdir(exist_ok=True)
    tmp, marker = journal / f"{guid}.tmp", journal / f"{guid}.publishing"
    if marker.exists():
        if tmp.exists():  # killed between the marker and the rename: finish it
            os.replace(tmp, outbox / name)
            _fsync_dir(outbox)
        return  # published before; the transfer client may have taken it already
    _fsync_write(tmp, data)
    if step:
        step("tmp")
    _fsync_write(marker, name.encode())
    _fsync_dir(journal)
    if step:
        step("marker")
    os.replace(tmp, outbox / name)
    _fsync_dir(outbox)
    if step:
        step("published")
