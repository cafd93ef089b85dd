"""Who reads a message's ID numbers: the messages XBM declares carry the buyer's (and the payer's) ID number in
full, as customs requires. Only an organisation's ``admin`` reads them so; every other role that may read the
messages (``integration``) gets them with each ID number masked (``1101**********1234``) — the same message
otherwise. A masked copy is for reading and checking, not for sending: its signature, if any, is the original's
and does not verify it (docs/customs-outbox.md, "Who reads ID numbers")."""

from __future__ import annotations

from lxml import etree

from services.compliance.pii import mask
from shared.auth import Principal

#: the elements of the official messages that carry an ID number (buyerIdNumber, payerIdNumber)
ID_SUFFIX = "IdNumber"
#: the response header saying a message's ID numbers are masked
MASKED_HEADER = "X-XBM-Id-Numbers"


def sees_full_ids(principal: Principal) -> bool:
    return principal.role == "admin"


def masked_ids(body: bytes) -> bytes:
    """``body`` (a message XBM built) with the text of every ``…IdNumber`` element masked."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(body, parser)
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname.endswith(ID_SUFFIX) and element.text:
            element.text = mask(element.text.strip())
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def for_reader(principal: Principal, body: bytes) -> tuple[bytes, dict[str, str]]:
    """The message as ``principal`` may read it, and the header that says which it is."""
    if sees_full_ids(principal):
        return body, {MASKED_HEADER: "full"}
    return masked_ids(body), {MASKED_HEADER: "masked"}
