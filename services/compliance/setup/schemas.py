"""The setup bodies: customs profiles, payment institutions and document sources.

Over 400 lines on purpose: each body carries its examples and field descriptions, which the OpenAPI document
shows; the three resources are small, and one module keeps their shared field types in one place."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from services.compliance.customs.parties import Parties
from shared.schemas import NOT_BLANK, Name, Out, Schema, Trimmed, examples

_CODE = r"^[A-Za-z0-9_.\-]+$"
CustomsCode = Annotated[str, StringConstraints(min_length=1, max_length=18, pattern=_CODE)]
Code30 = Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=_CODE)]
Text100 = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK), Trimmed]


class CustomsProfileIn(Schema):
    """The seller's customs registrations, used in every declaration."""

    model_config = examples(
        {
            "ebc_code": "1105910159",
            "ebc_name": "XBM Seller Ltd",
            "agent_code": "1105980159",
            "agent_name": "XBM Customs Broker",
            "assure_code": "ASSURE0001",
            "customs_code": "4604",
            "port_code": "4604",
            "trade_mode": "9610",
            "cop_code": "1105910159",
            "cop_name": "XBM Seller Ltd",
            "dxp_id": "DXPENT0000000001",
        }
    )

    ebc_code: CustomsCode
    """The e-commerce company's (the seller's) customs registration code."""
    ebc_name: Text100
    """Its registered name."""
    agent_code: CustomsCode
    """The declaring agent's (customs broker's) customs code."""
    agent_name: Text100
    """The declaring agent's registered name."""
    assure_code: Code30
    """The guarantor enterprise's code (who guarantees the duties)."""
    customs_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
    """The 4-digit code of the customs office declared to, e.g. `4604`."""
    port_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
    """The 4-digit code of the port of entry or exit."""
    trade_mode: Literal["9610", "1210", "9710", "9810"] = Field(
        description="customs mode of the seller's orders (each order may name its own): 9610 B2C direct, 1210 "
        "bonded or special area, 9710 B2B direct export, 9810 export to an overseas warehouse"
    )
    cop_code: CustomsCode
    """The code of the enterprise transmitting the messages."""
    cop_name: Text100
    """Its name."""
    dxp_id: Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=_CODE)] = Field(
        description="the e-port (DXP) user id every message is sent under: at most 16 characters, the most the "
        "transfer schema's SenderId takes (e.g. DXPENT0000012345)"
    )
    ems_no: Code30 | None = None
    """The bonded account book number (1210), if any."""
    area_code: CustomsCode | None = None
    """The special area's code (1210)."""
    traf_mode: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]$")] = Field(
        "5", description="customs transport mode code (5 air, 2 sea, 4 road, 6 post …)"
    )
    statistics_flag: Literal["A", "B"] = Field(
        "A", description="export: A the inventory list is the record; B a month's lists are summarised (CEB701)"
    )
    area_name: Text100 | None = Field(None, description="1210: the name of the special area (areaCode's)")
    iac_code: CustomsCode | None = Field(
        None, description="1210 export: the code of the warehouse enterprise inside the special area (iacCode)"
    )
    iac_name: Text100 | None = Field(None, description="1210 export: that enterprise's name (iacName)")
    owner_code: CustomsCode | None = Field(
        None,
        description="the producer's customs code (the export list's ownerCode); leave it out when the producer is "
        "not registered with customs: the list then says NO",
    )
    owner_name: Text100 | None = Field(None, description="the producer's name (ownerName); the seller's by default")

    @model_validator(mode="after")
    def _bonded_area(self) -> CustomsProfileIn:
        if self.trade_mode == "1210":
            missing = [f for f in ("area_code", "area_name") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"trade_mode 1210 declares from a bonded or special area: {', '.join(missing)} needed")
        return self


class CustomsProfileOut(Parties, Out):
    updated_at: datetime
    """When the object last changed (RFC 3339, UTC)."""


#: the business scopes a licence names (setup/licences.py says which cover a cross-border online payment): the
#: Decree 768 categories with their sub-kinds, the licences issued before it, and ``bank``
Scope = Literal[
    "stored_value_account", "stored_value_account_i", "stored_value_account_ii",
    "payment_transaction_processing", "payment_transaction_processing_i", "payment_transaction_processing_ii",
    "internet_payment", "bank_card_acquiring", "prepaid_card_issuance", "prepaid_card_acceptance",
    "mobile_phone_payment", "fixed_line_payment", "digital_tv_payment", "bank",
]  # fmt: skip


Direction = Literal["import", "export"]
#: the modes that only export (B2B direct export, export to an overseas warehouse); 9610 and 1210 go both ways
EXPORT_ONLY = ("9710", "9810")


def direction_for(trade_mode: str, direction: str | None) -> str:
    """A profile's direction: the one given, else export for an export-only mode, else import."""
    return direction or ("export" if trade_mode in EXPORT_ONLY else "import")


class CustomsProfileNew(CustomsProfileIn):
    """One of the seller's customs profiles: a trade mode declared at one customs office and port, with its own
    agent, bonded account and e-port id. Orders are declared under the profile their source names, else the one
    of their direction and trade mode, else the default."""

    model_config = examples(
        {
            "name": "Ningbo bonded imports",
            "direction": "import",
            "ebc_code": "3105910159",
            "ebc_name": "XBM Seller Ltd",
            "agent_code": "3105980159",
            "agent_name": "Ningbo Customs Broker",
            "assure_code": "ASSURE0001",
            "customs_code": "3105",
            "port_code": "3105",
            "trade_mode": "1210",
            "cop_code": "3105910159",
            "cop_name": "XBM Seller Ltd",
            "dxp_id": "DXPENT0000000001",
            "ems_no": "T3105W000001",
            "area_code": "3105W60001",
            "area_name": "Ningbo Meishan Bonded Port Area",
        }
    )

    name: Text100
    """What the seller calls it, e.g. `Ningbo bonded imports`."""
    direction: Direction | None = Field(
        None,
        description="import or export: the orders it declares. 9710 and 9810 are export only; left out, it is "
        "export for those and import for 9610 and 1210",
    )
    default: bool = Field(False, description="declares the orders no other profile is for (an organisation's first "
                          "profile is its default; making another one default takes it from the first)")  # fmt: skip

    @model_validator(mode="after")
    def _direction_of_mode(self) -> CustomsProfileNew:
        if self.direction == "import" and self.trade_mode in EXPORT_ONLY:
            raise ValueError(f"trade_mode {self.trade_mode} is an export mode: its direction is export")
        return self


class CustomsProfilePatch(Schema):
    """Changes to a customs profile; fields left out stay as they are (the result is checked as a whole)."""

    model_config = examples({"name": "Hangzhou 9610 exports", "agent_name": "Hangzhou Customs Broker"})

    name: Text100 | None = None
    """A new name. Leave it out to keep the current value."""
    direction: Direction | None = None
    """`import` or `export`. Leave it out to keep the current value."""
    default: Literal[True] | None = Field(
        None, description="true makes it the organisation's default (the default is moved, never removed)"
    )
    ebc_code: CustomsCode | None = None
    """The e-commerce company's customs code. Leave it out to keep the current value."""
    ebc_name: Text100 | None = None
    """Its registered name. Leave it out to keep the current value."""
    agent_code: CustomsCode | None = None
    """The declaring agent's customs code. Leave it out to keep the current value."""
    agent_name: Text100 | None = None
    """The declaring agent's name. Leave it out to keep the current value."""
    assure_code: Code30 | None = None
    """The guarantor's code. Leave it out to keep the current value."""
    customs_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")] | None = None
    """The customs office's 4-digit code. Leave it out to keep the current value."""
    port_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")] | None = None
    """The port's 4-digit code. Leave it out to keep the current value."""
    trade_mode: Literal["9610", "1210", "9710", "9810"] | None = None
    """The customs mode. Leave it out to keep the current value."""
    cop_code: CustomsCode | None = None
    """The transmitting enterprise's code. Leave it out to keep the current value."""
    cop_name: Text100 | None = None
    """Its name. Leave it out to keep the current value."""
    dxp_id: Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=_CODE)] | None = None
    """The e-port user id. Leave it out to keep the current value."""
    ems_no: Code30 | None = None
    """The bonded account book number. Leave it out to keep the current value."""
    area_code: CustomsCode | None = None
    """The special area's code. Leave it out to keep the current value."""
    area_name: Text100 | None = None
    """The special area's name. Leave it out to keep the current value."""
    traf_mode: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]$")] | None = None
    """The transport mode code. Leave it out to keep the current value."""
    statistics_flag: Literal["A", "B"] | None = None
    """Export: A or B. Leave it out to keep the current value."""
    iac_code: CustomsCode | None = None
    """1210 export: the special area's enterprise code (iacCode). Leave it out to keep the current value."""
    iac_name: Text100 | None = None
    """1210 export: that enterprise's name. Leave it out to keep the current value."""
    owner_code: CustomsCode | None = None
    """The producer's customs code (ownerCode). Leave it out to keep the current value."""
    owner_name: Text100 | None = None
    """The producer's name. Leave it out to keep the current value."""


class CustomsProfileItem(CustomsProfileOut):
    id: str
    """The object's id (a UUID), as used in its path."""
    name: str
    """What the seller calls it."""
    direction: str
    """`import` or `export`: the orders it declares."""
    default: bool = Field(validation_alias="is_default")
    """True for the organisation's default profile (the one `/v1/compliance/customs-profile` reads and writes)."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""


InstitutionStatus = Literal["active", "suspended", "revoked"]
InstitutionKind = Literal["bank", "non_bank"]
KIND_HELP = (
    "`bank` (its banking licence covers payment: no PBOC payment licence scope is needed, its licence number is "
    "taken as given) or `non_bank` (a payment institution licensed by the PBOC, its scopes say what it may do). "
    "When left out: `bank` if `scopes` names `bank`, else `non_bank`"
)


class PaymentInstitutionIn(Schema):
    """A payment institution the seller's orders are paid through, with its licence and scopes."""

    model_config = examples(
        {
            "pay_code": "PAY0000002",
            "name": "XBM Pay",
            "licence_no": "Z2000000000001",
            "scopes": ["internet_payment"],
            "status": "active",
        },
        {
            "pay_code": "PAY0000003",
            "name": "XBM Wallet",
            "licence_no": "Z2000000000002",
            "kind": "non_bank",
            "scopes": ["stored_value_account_i", "payment_transaction_processing_i"],
        },
        {"pay_code": "BANK000001", "name": "XBM Bank", "licence_no": "B0001H111000001", "kind": "bank"},
    )

    pay_code: CustomsCode
    """The payment institution's customs code; payments and orders name it."""
    name: Name
    """Its name."""
    licence_no: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    """Its payment business licence number (a bank's: its banking licence number, as given)."""
    scopes: list[Scope] = Field(default_factory=list, max_length=14)
    """What its licence covers: the Decree 768 categories (`stored_value_account_i`, `stored_value_account_ii`,
    `payment_transaction_processing_i`, `payment_transaction_processing_ii`, or the category alone), the scopes of
    licences issued before it (`internet_payment`, `bank_card_acquiring`, `prepaid_card_issuance`,
    `prepaid_card_acceptance`, `mobile_phone_payment`, `fixed_line_payment`, `digital_tv_payment`), or `bank`."""
    status: InstitutionStatus = "active"
    """`active`, `suspended` or `revoked`: only active ones may be used."""
    kind: InstitutionKind | None = Field(None, description=KIND_HELP)

    @model_validator(mode="after")
    def _kind_and_scopes(self) -> PaymentInstitutionIn:
        if self.kind == "non_bank" and "bank" in self.scopes:
            raise ValueError("a non_bank institution's scopes cannot name bank: give kind bank, or its PBOC scopes")
        return self


class PaymentInstitutionPatch(Schema):
    """Changes to a payment institution; fields left out stay as they are."""

    model_config = examples({"name": "XBM Pay Ltd", "scopes": ["internet_payment", "bank_card_acquiring"]})

    name: Name | None = None
    """A new name. Leave it out to keep the current value."""
    licence_no: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    """A new licence number. Leave it out to keep the current value."""
    scopes: list[Scope] | None = Field(None, max_length=14)
    """New scopes. Leave it out to keep the current value."""
    status: InstitutionStatus | None = None
    """`active`, `suspended` or `revoked`. Leave it out to keep the current value."""
    kind: InstitutionKind | None = Field(
        None, description="`bank` or `non_bank`. Leave it out to keep the current value"
    )


class PaymentInstitutionOut(Out):
    id: str
    """The object's id (a UUID), as used in its path."""
    pay_code: str
    """Its customs code."""
    name: str
    """Its name."""
    licence_no: str
    """Its licence number."""
    scopes: list[str]
    """What its licence covers."""
    status: str
    """`active`, `suspended` or `revoked`."""
    kind: str = "non_bank"
    """`bank` or `non_bank`."""
    covers_cross_border: bool = Field(
        False, description="whether the comparison accepts its payments (active, and a bank or licensed for a scope "
        "that carries internet payment)"
    )  # fmt: skip
    updated_at: datetime
    """When the object last changed (RFC 3339, UTC)."""


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

    model_config = examples(
        {
            "name": "Shopify US store",
            "kind": "shopify",
            "role": "platform",
            "ebp_code": "1105910159",
            "ebp_name": "XBM Shop",
            "ebc_code": "1105910159",
        }
    )

    name: Name
    """The source's name, e.g. `Shopify US store`."""
    kind: SourceKind
    """How it signs: `shopify`, `woocommerce` or `standard_webhooks`."""
    role: SourceRole
    """What it sends: `platform` (orders), `payment` or `logistics` (waybills)."""
    ebp_code: CustomsCode | None = None
    """The platform's customs code its orders carry (platform sources)."""
    ebp_name: Text100 | None = None
    """The platform's name."""
    ebc_code: CustomsCode | None = None
    """The e-commerce company's code its orders carry."""
    pay_code: CustomsCode | None = None
    """The payment institution's code (payment sources)."""
    logistics_code: CustomsCode | None = None
    """The logistics company's code (logistics sources)."""
    logistics_name: Text100 | None = None
    """The logistics company's name."""
    trade_direction: Literal["import", "export"] | None = Field(
        None, description="the orders this source sends are imports or exports (e.g. an export store)"
    )
    customs_profile_id: Annotated[str, StringConstraints(min_length=1, max_length=36)] | None = Field(
        None,
        description="the customs profile its orders are declared under (null: each order's direction and "
        "trade mode choose one)",
    )
    secret: Secret | None = Field(None, description=SECRET_HELP)


class SecretIn(Schema):
    model_config = examples({"secret": "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"})

    secret: Secret | None = Field(None, description=SECRET_HELP)


class SourceOut(Out):
    id: str
    """The object's id (a UUID), as used in its path."""
    name: str
    """The source's name."""
    kind: str
    """`shopify`, `woocommerce` or `standard_webhooks`."""
    role: str
    """`platform`, `payment` or `logistics`."""
    ebp_code: str | None
    """The platform's customs code; null when none."""
    ebp_name: str | None
    """The platform's name; null when none."""
    ebc_code: str | None
    """The e-commerce company's code; null when none."""
    pay_code: str | None
    """The payment institution's code; null when none."""
    logistics_code: str | None
    """The logistics company's code; null when none."""
    logistics_name: str | None
    """The logistics company's name; null when none."""
    trade_direction: str | None = None
    """`import` or `export` when the source's orders are all one; null otherwise."""
    customs_profile_id: str | None = None
    """The customs profile its orders are declared under; null when each order's mode chooses."""
    webhook_path: str
    """Where the sender posts: `/v1/compliance/webhooks/{source_id}`."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""
    previous_secret_until: datetime | None = Field(
        None, description="after a rotation, the previous secret keeps verifying deliveries until then"
    )


class SourceCreated(SourceOut):
    secret: str = Field(description="shown once: the secret deliveries are signed with")
