"""The canonical documents: the order, payment and waybill as platforms, payment institutions and logistics
companies send them (described field by field in the OpenAPI document), and the field types they are made of."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, model_validator

from services.compliance.customs.codes import alpha2, countries, currencies
from shared.schemas import NOT_BLANK, DecimalText, IsoDateTime, NonNegativeAmount, Schema, Trimmed, examples

#: the characters of a key (order, payment, waybill numbers and codes)
KEY = r"^[A-Za-z0-9_.\-]+$"
Key18 = Annotated[str, StringConstraints(min_length=1, max_length=18, pattern=KEY)]
Key60 = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=KEY)]
#: a platform's SKU as sent (Shopify takes 255 characters): not the customs item number, which the item record
#: gives (``customs_item_no``) when the SKU cannot be one
SKU_LIMIT = 255
#: printable text with something in it (a SKU may hold spaces, slashes, any script)
SKU_TEXT = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
Sku = Annotated[str, StringConstraints(min_length=1, max_length=SKU_LIMIT, pattern=SKU_TEXT)]
#: kept for callers that name the old type: an order line's item number is the platform's SKU
ItemNo = Sku
Text = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK), Trimmed]
Text60 = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=NOT_BLANK), Trimmed]
Address = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NOT_BLANK), Trimmed]
Phone = Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=NOT_BLANK), Trimmed]
IdNumber = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[0-9A-Za-z]+$")]
IdType = Annotated[str, StringConstraints(pattern=r"^[1-9]$")]


def _customs_currency(value: Any) -> Any:
    """Customs writes CNY as its own code 142; XBM keeps ISO codes."""
    return "CNY" if value in ("142", 142) else value


def _known_currency(value: Any) -> Any:
    """A currency XBM cannot declare (no JGS-20 customs code) is refused where it arrives, never defaulted."""
    if isinstance(value, str) and value not in currencies():
        raise ValueError(f"currency {value!r} has no customs code in the JGS-20 table")
    return value


Currency = Annotated[
    str, BeforeValidator(_customs_currency), StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(_known_currency)
]


def _known_country(value: Any) -> Any:
    """An ISO 3166 country customs lists, as alpha-2: an alpha-3 code is taken as its alpha-2 (MEX → MX)."""
    if isinstance(value, str):
        value = alpha2(value)
        if value not in countries():
            raise ValueError(f"country {value!r} has no customs code in the JGS-20 table")
    return value


#: ISO 3166 alpha-2 on the wire (alpha-3 is taken as its alpha-2); the customs code is XBM's job
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,3}$"), AfterValidator(_known_country)]
TradeMode = Literal["9610", "1210", "9710", "9810"]
StatisticsFlag = Literal["A", "B"]
#: the customs code of a port of destination (export), e.g. 002 in the official sample
Pod = Annotated[str, StringConstraints(min_length=3, max_length=4, pattern=r"^[0-9A-Z]+$")]
#: the export inventory list carries at most 32 characters of waybill number: a longer one is refused, never cut
EXPORT_LOGISTICS_NO = 32


#: Shopify ``financial_status`` (WooCommerce statuses read into the same words)
PaymentStatus = Literal[
    "paid", "pending", "authorized", "partially_paid", "partially_refunded", "refunded", "voided", "expired"
]
#: not paid in full: stored as such, never declared until paid
UNPAID = ("pending", "authorized", "partially_paid", "expired")

Quantity = Annotated[Decimal, Field(gt=0, le=Decimal("1e9"), max_digits=19, decimal_places=5), DecimalText()]


class Buyer(Schema):
    """The buyer; the ID number (and the platform registration number) are required on imports only: a buyer
    abroad has no Chinese ID number."""

    reg_no: Text60 | None = None
    """The buyer's account on the platform."""
    name: Text60
    """The buyer's name as on their ID."""
    id_type: IdType = "1"
    """The ID type: `1` (the default) is a Chinese resident ID card."""
    id_number: IdNumber | None = None
    """The ID number; imports need it."""
    telephone: Phone | None = None
    """The buyer's phone."""
    verified: bool = False
    """True when the platform verified the buyer's identity."""
    #: an export buyer's email: kept encrypted in the customer register only, never in the stored document
    email: Annotated[str, StringConstraints(max_length=254, pattern=r"^\s*[^@\s]+@[^@\s]+\s*$")] | None = Field(
        None, exclude=True
    )
    """The buyer's email: used for audiences (hashed), never stored with the order."""
    country: Country | None = Field(None, description="the buyer's country, ISO 3166 alpha-2")


class Consignee(Schema):
    name: Text
    """Who receives the parcel."""
    telephone: Phone
    """Their phone."""
    address: Address
    """The delivery address."""
    country: Country | None = None
    """The delivery country (ISO 3166-1 alpha-2), if not China."""
    street: Address | None = Field(None, description="the street and number, as the platform gave them apart")
    city: Text | None = Field(None, description="the city, as the platform gave it apart")
    province: Text | None = Field(None, description="the province or state, as the platform gave it apart")
    postcode: Annotated[str, StringConstraints(max_length=20)] | None = Field(
        None, description="the postcode, as the platform gave it apart"
    )


class OrderItem(Schema):
    gnum: int = Field(ge=1, le=999)
    """The line's number, from 1."""
    item_no: Sku = Field(description="the platform's SKU; the item record says which customs item number it is")
    name: Annotated[str, StringConstraints(min_length=1, max_length=250, pattern=NOT_BLANK), Trimmed]
    """The goods' name as sold."""
    hs_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")] | None = None
    """The 10-digit HS code, when the platform knows it (the item record's is used otherwise)."""
    qty: Quantity
    """How many were bought."""
    unit: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")] = "011"
    """The unit's customs code (default `011`, piece)."""
    price: NonNegativeAmount
    """The unit price."""
    total: NonNegativeAmount
    """The line's total (qty × price)."""
    discount: NonNegativeAmount = Field(
        Decimal("0"), description="the order's discounts allocated to this line (part of the order's discount)"
    )


class NotGoods(Schema):
    """A line the platform charged that is not goods (a warranty, a gift card, a tip, a fee)."""

    name: Annotated[str, StringConstraints(max_length=250)]
    """What the line is, e.g. a gift card or a tip."""
    total: NonNegativeAmount
    """Its amount."""


class OrderDoc(Schema):
    """A canonical order document, as a platform would send it."""

    model_config = examples(
        {
            "order_no": "XBM2026090100123",
            "ebp_code": "1105910159",
            "ebp_name": "XBM Shop",
            "ebc_code": "1105910159",
            "ebc_name": "XBM Seller Ltd",
            "trade_direction": "import",
            "goods_value": "200.00",
            "freight": "20.00",
            "discount": "0",
            "tax_total": "20.02",
            "actual_paid": "240.02",
            "currency": "CNY",
            "buyer": {
                "reg_no": "u1024",
                "name": "Jiao Hongyu",
                "id_type": "1",
                "id_number": "110101199001010042",
                "telephone": "13522652231",
            },
            "consignee": {
                "name": "Jiao Hongyu",
                "telephone": "13522652231",
                "address": "Beijing Haidian 1 Zhongguancun Street",
            },
            "items": [
                {
                    "gnum": 1,
                    "item_no": "SCARF-1",
                    "name": "Wool scarf",
                    "qty": "2",
                    "unit": "011",
                    "price": "100.00",
                    "total": "200.00",
                }
            ],
            "pay_code": "PAY0000001",
            "pay_transaction_id": "T2026090100123",
            "utm_campaign": "bf26-sem",
        }
    )

    order_no: Key60
    """The platform's order number."""
    ebp_code: Key18
    """The e-commerce platform's customs code."""
    ebp_name: Text | None = None
    """The platform's name."""
    ebc_code: Key18
    """The e-commerce company's (the seller's) customs code."""
    ebc_name: Text | None = None
    """The seller's name."""
    trade_direction: Literal["import", "export"] = "import"
    """`import` (the default) or `export`."""
    goods_value: NonNegativeAmount
    """The goods' value."""
    freight: NonNegativeAmount
    """The freight charged to the buyer."""
    discount: NonNegativeAmount = Decimal("0")
    """The discount given (default 0)."""
    tax_total: NonNegativeAmount
    """The tax collected from the buyer."""
    actual_paid: NonNegativeAmount
    """What the buyer paid: goods + freight + tax − discount."""
    currency: Currency
    """The order's currency (ISO 4217; imports in CNY)."""
    buyer: Buyer
    """Who ordered."""
    consignee: Consignee
    """Who receives the parcel."""
    items: list[OrderItem] = Field(min_length=1, max_length=99)
    """The goods ordered (1–99 lines)."""
    pay_code: Key18 | None = None
    """The payment institution's customs code."""
    pay_transaction_id: Key60 | None = None
    """The payment's transaction id, as the payment document names it."""
    utm_campaign: Annotated[str, StringConstraints(max_length=200)] | None = None
    """The `utm_campaign` the order came through: attributes it to that campaign."""
    country: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")] | None = Field(
        None, description="customs country code: departure (import) or destination (export)"
    )
    trade_mode: TradeMode | None = Field(None, description="customs mode of this order; the profile's by default")
    customs_profile_id: Annotated[str, StringConstraints(min_length=1, max_length=36)] | None = Field(
        None,
        description="the customs profile to declare it under (its source's when the source names one); null: "
        "the profile of its direction and trade mode, else the default",
    )
    destination_country: Country | None = Field(None, description="export: the country the goods go to")
    statistics_flag: StatisticsFlag | None = Field(
        None, description="export: A the inventory is the record, B summarised monthly (CEB701); the profile's"
    )
    overseas_warehouse: Text | None = Field(
        None, description="9810: the overseas warehouse the goods go to (its booking number is the order_no)"
    )

    @model_validator(mode="after")
    def _import_needs_identity(self) -> OrderDoc:
        if self.trade_direction == "import":
            missing = [f for f in ("reg_no", "id_number", "telephone") if getattr(self.buyer, f) is None]
            if missing:
                raise ValueError(f"an import order needs buyer {', '.join(missing)}")
        if self.trade_direction == "import" and self.trade_mode in ("9710", "9810"):
            raise ValueError(f"trade_mode {self.trade_mode} is an export mode (B2B direct export, overseas warehouse)")
        if self.trade_mode == "9810" and self.overseas_warehouse is None:
            raise ValueError("overseas_warehouse: a 9810 order names the overseas warehouse the goods go to")
        return self

    not_goods: list[NotGoods] = Field(
        default_factory=list,
        max_length=99,
        description="charged lines that are not goods: neither declared nor in actual_paid",
    )
    gift_card: NonNegativeAmount = Field(
        Decimal("0"),
        description="the part of actual_paid paid with gift cards: a means of payment, so the payment institution "
        "is owed actual_paid less this",
    )
    payment_status: PaymentStatus | None = Field(
        None, description="the platform's payment status; an order not paid in full is held until it is"
    )
    outstanding: NonNegativeAmount | None = Field(None, description="what the buyer still owes, when not paid in full")


class Payer(Schema):
    """Who paid; for an export (the seller's receipt of payment) a buyer abroad has no Chinese ID number."""

    name: Text60
    """The payer's name as on their ID."""
    id_type: IdType = "1"
    """The ID type (`1`, the default, is a Chinese resident ID card)."""
    id_number: IdNumber | None = None
    """The payer's ID number."""
    telephone: Phone | None = None
    """The payer's phone."""


class PaymentDoc(Schema):
    """A canonical payment document, as a payment institution would send it."""

    model_config = examples(
        {
            "pay_code": "PAY0000001",
            "pay_transaction_id": "T2026090100123",
            "order_no": "XBM2026090100123",
            "ebp_code": "1105910159",
            "payer": {
                "name": "Jiao Hongyu",
                "id_type": "1",
                "id_number": "110101199001010042",
                "telephone": "13522652231",
            },
            "amount_paid": "240.02",
            "currency": "CNY",
            "paid_at": "2026-09-01T08:00:00+08:00",
        }
    )

    pay_code: Key18
    """The payment institution's customs code."""
    pay_transaction_id: Key60
    """Its transaction id."""
    pay_name: Text | None = Field(
        None, description="the payment institution's name (an export's CEB403 payName); the registered one's if absent"
    )
    order_no: Key60
    """The order it pays."""
    ebp_code: Key18
    """The order's platform code."""
    payer: Payer
    """Who paid."""
    amount_paid: NonNegativeAmount
    """What was paid."""
    currency: Currency
    """The payment's currency (ISO 4217)."""
    paid_at: IsoDateTime
    """When it was paid (RFC 3339 with offset)."""


class WaybillDoc(Schema):
    """A canonical waybill document, as a logistics company would send it."""

    model_config = examples(
        {
            "logistics_code": "LOG0000001",
            "logistics_name": "XBM Express",
            "logistics_no": "LX2026090100123",
            "order_no": "XBM2026090100123",
            "ebp_code": "1105910159",
            "freight": "20.00",
            "insured_fee": "0",
            "weight_kg": "0.4",
            "consignee": {
                "name": "Jiao Hongyu",
                "telephone": "13522652231",
                "address": "Beijing Haidian 1 Zhongguancun Street",
            },
            "traf_no": "CA1234",
            "voyage_no": "CA1234",
            "bill_no": "999-12345675",
        }
    )

    logistics_code: Key18
    """The logistics company's customs code."""
    logistics_name: Text | None = None
    """Its name."""
    logistics_no: Key60
    """The waybill number."""
    order_no: Key60
    """The order it carries."""
    ebp_code: Key18 | None = None
    """The order's platform code, if the carrier knows it."""
    freight: NonNegativeAmount
    """The freight."""
    insured_fee: NonNegativeAmount = Decimal("0")
    """The insurance fee (default 0)."""
    weight_kg: Quantity
    """The parcel's gross weight in kg."""
    consignee: Consignee
    """Who receives the parcel."""
    destination_country: Country | None = Field(None, description="export: the country the parcel goes to")
    pod: Pod | None = Field(None, description="export: customs code of the port of destination")
    bill_no: Annotated[str, StringConstraints(min_length=1, max_length=37, pattern=KEY)] | None = Field(
        None, description="the master bill (air or sea) once known"
    )
    traf_no: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK)] | None = Field(
        None, description="the means of transport (flight, vessel) once known"
    )
    voyage_no: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=KEY)] | None = Field(
        None, description="the flight or voyage number once known"
    )

    @model_validator(mode="after")
    def _export_number_fits(self) -> WaybillDoc:
        if (self.pod or self.destination_country) and len(self.logistics_no) > EXPORT_LOGISTICS_NO:
            raise ValueError(
                f"logistics_no: an export waybill number has at most {EXPORT_LOGISTICS_NO} characters in the "
                "customs inventory list; it is never cut"
            )
        return self
