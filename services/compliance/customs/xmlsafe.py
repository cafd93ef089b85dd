"""Parsing what arrives as customs XML: no DTD, no entities, no network — a DOCTYPE alone is refused."""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeTree

from shared.errors import BadRequest

CEB_NS = "http://www.chinaport.gov.cn/ceb"


def parse(body: bytes) -> Element:
    try:
        return SafeTree.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise BadRequest("XML with a DOCTYPE, DTD or entity declarations is refused") from exc
    except ParseError as exc:
        raise BadRequest(f"malformed XML: {exc}") from exc


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def children(element: Element, name: str) -> list[Element]:
    return [child for child in element if local(child.tag) == name]


def child(element: Element, name: str) -> Element | None:
    for node in element:
        if local(node.tag) == name:
            return node
    return None


def head(element: Element, name: str) -> Element:
    found = child(element, name)
    return element if found is None else found


def fields(element: Element) -> dict[str, str]:
    """The element's simple children as ``{localName: stripped text}`` (empty ones left out)."""
    out = {}
    for node in element:
        text = (node.text or "").strip()
        if text and len(node) == 0:
            out[local(node.tag)] = text
    return out
