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
    pay_code: CustomsCode
    name: Name
    licence_no: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    scopes: list[Scope] = Field(default_factory=list, max_length=10)
    status: InstitutionStatus = "active"


class PaymentInstitutionPatch(Schema):
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


#: a signing secret as a platform shows it: printable, no spaces at either end
Secret = Annotated[str, StringConstraints(min_length=8, max_length=255, pattern=r"^[!-~](?:[ -~]*[!-~])?$")]
SECRET_HELP = (
    "the signing secret: for shopify the app's client secret (or, for webhooks made in the Shopify admin, the "
    "key shown there); for woocommerce the secret typed in its webhook form; for standard_webhooks a whsec_ "
    "secret. Generated when absent (then shown once, to be entered on the sender's side)"
)


class SourceIn(Schema):
    name: Name
    kind: SourceKind
    role: SourceRole
    ebp_code: CustomsCode | None = None
    ebp_name: Text100 | None = None
    ebc_code: CustomsCode | None = None
    pay_code: CustomsCode | None = None
    logistics_code: CustomsCode | None = None
    logistics_name: Text100 | None = None
    trade_direction: Literal["import", "export"] | None = Field(
        None, description="the orders this source sends are imports or exports (e.g. an export store)"
    )
    secret: Secret | None = Field(None, description=SECRET_HELP)


class SecretIn(Schema):
    secret: Secret | None = Field(None, description=SECRET_HELP)


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
    trade_direction: str | None = None
    webhook_path: str
    created_at: datetime
    previous_secret_until: datetime | None = Field(
        None, description="after a rotation, the previous secret keeps verifying deliveries until then"
    )


class SourceCreated(SourceOut):
    secret: str = Field(description="shown once: the secret deliveries are signed with")
