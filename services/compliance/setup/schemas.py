from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from services.compliance.customs.declarations import Parties
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
    customs_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
    port_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
    trade_mode: Literal["9610", "1210", "9710", "9810"] = Field(
        description="customs mode of the seller's orders (each order may name its own): 9610 B2C direct, 1210 "
        "bonded or special area, 9710 B2B direct export, 9810 export to an overseas warehouse"
    )
    cop_code: CustomsCode
    cop_name: Text100
    dxp_id: Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=_CODE)] = Field(
        description="the e-port (DXP) user id every message is sent under: at most 16 characters, the most the "
        "transfer schema's SenderId takes (e.g. DXPENT0000012345)"
    )
    ems_no: Code30 | None = None
    area_code: CustomsCode | None = None
    traf_mode: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]$")] = Field(
        "5", description="customs transport mode code (5 air, 2 sea, 4 road, 6 post …)"
    )
    statistics_flag: Literal["A", "B"] = Field(
        "A", description="export: A the inventory list is the record; B a month's lists are summarised (CEB701)"
    )
    area_name: Text100 | None = Field(None, description="1210: the name of the special area (areaCode's)")

    @model_validator(mode="after")
    def _bonded_area(self) -> CustomsProfileIn:
        if self.trade_mode == "1210":
            missing = [f for f in ("area_code", "area_name") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"trade_mode 1210 declares from a bonded or special area: {', '.join(missing)} needed")
        return self


class CustomsProfileOut(Parties, Out):
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


#: a signing secret as a platform shows it: printable, no spaces at either end
Secret = Annotated[str, StringConstraints(min_length=8, max_length=255, pattern=r"^[!-~](?:[ -~]*[!-~])?$")]
SECRET_HELP = (
    "the signing secret: for shopify the app's client secret (or, for webhooks made in the Shopify admin, the "
    "key shown there); for woocommerce the secret typed in its webhook form; for standard_webhooks a whsec_ "
    "secret. Generated when absent (then shown once, to be entered on the sender's side)"
)


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
