from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.schemas import NOT_BLANK, Name, Out, Schema, Trimmed

_CODE = r"^[A-Za-z0-9_.\-]+$"
CustomsCode = Annotated[str, StringConstraints(min_length=1, max_length=18, pattern=_CODE)]
Code30 = Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=_CODE)]
Text100 = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK), Trimmed]


class CustomsProfileIn(Schema):
    """The seller's customs registrations, used in every declaration."""

    ebc_code: CustomsCode
    ebc_name: Text100
    agent_code: CustomsCode
    agent_name: Text100
    assure_code: Code30
    customs_code: Annotated[str, StringConstraints(pattern=r"^\d{4}$")]
    port_code: Annotated[str, StringConstraints(pattern=r"^\d{4}$")]
    trade_mode: Literal["9610", "1210"]
    cop_code: CustomsCode
    cop_name: Text100
    dxp_id: Code30
    ems_no: Code30 | None = None
    area_code: CustomsCode | None = None
    traf_mode: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]$")] = Field(
        "5", description="customs transport mode code (5 air, 2 sea, 4 road, 6 post …)"
    )


class CustomsProfileOut(Out):
    ebc_code: str
    ebc_name: str
    agent_code: str
    agent_name: str
    assure_code: str
    customs_code: str
    port_code: str
    trade_mode: str
    cop_code: str
    cop_name: str
    dxp_id: str
    ems_no: str | None
    area_code: str | None
    traf_mode: str
    updated_at: datetime


Scope = Literal["internet_payment", "stored_value_account", "payment_transaction_processing", "bank_card_acquiring"]
InstitutionStatus = Literal["active", "suspended", "revoked"]


class PaymentInstitutionIn(Schema):
    """A payment institution the seller's orders are paid through, with its licence and scopes."""

    pay_code: CustomsCode
    name: Name
    licence_no: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    scopes: list[Scope] = Field(default_factory=list, max_length=10)
    status: InstitutionStatus = "active"


class PaymentInstitutionPatch(Schema):
    """Changes to a payment institution; fields left out stay as they are."""

    name: Name | None = None
    licence_no: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    scopes: list[Scope] | None = Field(None, max_length=10)
    status: InstitutionStatus | None = None


class PaymentInstitutionOut(Out):
    id: str
    pay_code: str
    name: str
    licence_no: str
    scopes: list[str]
    status: str
    updated_at: datetime


SourceKind = Literal["shopify", "woocommerce", "standard_webhooks"]
SourceRole = Literal["platform", "payment", "logistics"]


class SourceIn(Schema):
    """A sender of documents (platform, payment institution or logistics company) and the signing scheme of its
    webhooks."""

    name: Name
    kind: SourceKind
    role: SourceRole
    ebp_code: CustomsCode | None = None
    ebp_name: Text100 | None = None
    ebc_code: CustomsCode | None = None
    pay_code: CustomsCode | None = None
    logistics_code: CustomsCode | None = None
    logistics_name: Text100 | None = None


class SourceOut(Out):
    id: str
    name: str
    kind: str
    role: str
    ebp_code: str | None
    ebp_name: str | None
    ebc_code: str | None
    pay_code: str | None
    logistics_code: str | None
    logistics_name: str | None
    webhook_path: str
    created_at: datetime


class SourceCreated(SourceOut):
    secret: str = Field(description="shown once; sign deliveries with it")
