"""The official XSDs: every message XBM builds is validated before it is stored or sent. The 202205 edition ships
with XBM (``data/xsd``, see its SOURCE.md); a deployment holding a newer edition points ``XBM_COMPLIANCE_XSD_DIR``
at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from services.compliance.customs.signing import DS, SIGNATURE_SLOT

XS = "{http://www.w3.org/2001/XMLSchema}"
SETS = ("import-202205.xsd", "export-202205.xsd")
#: the DxpMsg envelope (terminal node message) the e-port transfer client takes; transfer-202205.xsd wraps it
TRANSFER = "terminal-202205.xsd"
#: the schemas published with the 202205 specification, shipped as package data
BUNDLED = Path(__file__).resolve().parent / "data" / "xsd"


class InvalidMessage(Exception):
    """A message XBM built does not satisfy the official schema: a bug in XBM, never sent."""


@dataclass
class Schemas:
    directory: Path | None
    _by_root: dict[str, etree.XMLSchema] = field(default_factory=dict)
    transfer: etree.XMLSchema | None = None

    @classmethod
    def load(cls, directory: Path | None = None) -> Schemas:
        """The schemas in ``directory`` (a deployment's own edition), or the bundled ones when it is None."""
        directory = directory or BUNDLED
        schemas = cls(directory)
        missing = [name for name in SETS if not (directory / name).is_file()]
        if missing:
            raise FileNotFoundError(f"the customs XSD folder {directory} lacks {', '.join(missing)}")
        for name in SETS:
            path = directory / name
            schema = etree.XMLSchema(etree.parse(str(path)))
            for element in etree.parse(str(path)).getroot().iterchildren(f"{XS}element"):
                if (element.get("name") or "").startswith("CEB"):
                    schemas._by_root[element.get("name", "")] = schema
        if (directory / TRANSFER).exists():
            schemas.transfer = etree.XMLSchema(etree.parse(str(directory / TRANSFER)))
        return schemas

    @property
    def enabled(self) -> bool:
        return bool(self._by_root)

    def validate(self, root: etree._Element) -> bool:
        """True when validated, False when no schemas are configured; InvalidMessage when invalid. An unsigned
        message is checked as it will be once the e-port client signs it: with a signature in its place."""
        if not self.enabled:
            return False
        name = etree.QName(root).localname
        schema = self._by_root.get(name)
        if schema is None:
            raise InvalidMessage(f"no official schema declares {name}")
        candidate = root
        if root.find(f"{{{DS}}}Signature") is None:
            candidate = etree.fromstring(etree.tostring(root))
            candidate.append(etree.fromstring(SIGNATURE_SLOT))
        if not schema.validate(candidate):
            errors = "; ".join(f"line {e.line}: {e.message}" for e in list(schema.error_log)[:5])
            raise InvalidMessage(f"{name} does not satisfy the official schema: {errors}")
        return True

    def validate_envelope(self, root: etree._Element) -> bool:
        if self.transfer is None:
            return False
        if not self.transfer.validate(root):
            raise InvalidMessage(f"DxpMsg envelope invalid: {self.transfer.error_log.last_error}")
        return True
