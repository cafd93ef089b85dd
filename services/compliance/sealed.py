"""Order, payment and waybill documents at rest: the buyer's, payer's and consignee's name, telephone and address
sealed with the PII key; everything else (amounts, items, codes, the masked ID number) in clear.

What stays in clear is what XBM searches, counts and shows without a person in it: order numbers, amounts, items,
codes, states, the platform's customer number (``buyer.reg_no``, needed to find a buyer's orders for an erasure)
and the ID number masked. What is sealed is what only the three-in-one comparison and the declaration XML read
(docs/personal-data.md): those read the document through this column type, which opens it as it is loaded, so
nothing above the database sees a difference.

The column type reaches the key through :func:`use`, which the service calls when it builds its key (the app and
the standalone relay). A sealed part names the key it was sealed with, so a process that knows several keys (tests
building several services) opens each with its own."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from services.compliance.pii import Pii

#: the key a part is sealed with is named by this field of the stored document
SEALED_FIELD = "_sealed"
CONTEXT = "document-personal"
#: the personal fields of each party a document may name
PERSONAL = {
    "buyer": ("name", "telephone"),
    "payer": ("name", "telephone"),
    "consignee": ("name", "telephone", "address", "street", "city", "province", "postcode"),
}

_keys: dict[str, Pii] = {}
_current: list[str] = []


def _fingerprint(pii: Pii) -> str:
    return hashlib.sha256(pii.lookup_hash("xbm-document-key").encode()).hexdigest()[:12]


def use(pii: Pii) -> None:
    """Documents written from now on are sealed with this key; those sealed with it open."""
    name = _fingerprint(pii)
    _keys[name] = pii
    _current[:] = [name]


def seal(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with its personal fields moved into one sealed part (as it is stored)."""
    if not _current or SEALED_FIELD in doc:
        return doc
    out = dict(doc)
    personal: dict[str, dict[str, Any]] = {}
    for party, fields in PERSONAL.items():
        value = out.get(party)
        if not isinstance(value, dict):
            continue
        kept = dict(value)
        taken = {f: kept.pop(f) for f in fields if f in kept}
        if taken:
            personal[party] = taken
            out[party] = kept
    if not personal:
        return doc
    name = _current[0]
    token = _keys[name].seal(json.dumps(personal, ensure_ascii=False).encode(), CONTEXT)
    out[SEALED_FIELD] = f"{name}:{base64.b64encode(token).decode()}"
    return out


def open_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as it was given (its sealed part opened)."""
    sealed = doc.get(SEALED_FIELD)
    if not isinstance(sealed, str):
        return doc
    name, _, token = sealed.partition(":")
    pii = _keys.get(name)
    if pii is None:
        raise LookupError("a document sealed with a PII key this process does not hold")
    personal = json.loads(pii.open(base64.b64decode(token), CONTEXT))
    out = {k: v for k, v in doc.items() if k != SEALED_FIELD}
    for party, fields in personal.items():
        out[party] = {**(out.get(party) or {}), **fields}
    return out


class SealedDocument(TypeDecorator[Any]):
    """A JSON document whose personal fields are sealed at rest (see the module)."""

    impl = JSON
    cache_ok = True

    def __init__(self, none_as_null: bool = False) -> None:
        super().__init__(none_as_null=none_as_null)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return seal(value) if isinstance(value, dict) else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return open_doc(value) if isinstance(value, dict) else value
