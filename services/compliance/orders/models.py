from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, Numeric, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from services.compliance import order_states
from services.compliance.base import Base
from services.compliance.sealed import SealedDocument
from shared.db import IdMixin, OrgMixin, TimestampMixin, UTCDateTime, utcnow
from shared.money import MoneyAmount


class Delivery(IdMixin, OrgMixin, Base):
    """One accepted webhook delivery, by the sender's own de-duplication key (redeliveries conflict here)."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("source_id", "dedupe_key"),)

    source_id: Mapped[str] = mapped_column(String(36))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


#: the orders the exceptions queue may list: compared and failed, incomplete, waiting for a document, refused by
#: customs, held for a customs declaration (报关单), or declared and changed since. Its query carries this very
#: clause, so the database reads the few rows of the partial index below in their order, whatever its estimates
#: of how many orders match.
NEEDS_ATTENTION = text(
    f"(state IN ({', '.join(repr(str(s)) for s in order_states.NEEDS_ATTENTION)}) OR changed_after_declaration IS true)"
)
TAX_DISAGREES = text("tax_disagrees IS true")
_UNPAIRED = text("has_order IS false OR mixed IS true")


class MatchKey(IdMixin, OrgMixin, Base):
    """One row per order number: every arriving document upserts it first, which locks it, so the documents
    of one order are matched one at a time even when they arrive together."""

    __tablename__ = "match_keys"
    __table_args__ = (
        UniqueConstraint("org_id", "order_no"),
        # the numbers the exceptions queue looks for orphans under: few, whatever the number of orders stored
        Index("ix_match_keys_unpaired", "org_id", "order_no", sqlite_where=_UNPAIRED, postgresql_where=_UNPAIRED),
    )

    order_no: Mapped[str] = mapped_column(String(60))
    touched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: an order is stored under this number (``locks.py`` notes it as the order is stored)
    has_order: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: the platform (ebp code) of the first document under this number that named one
    ebp_code: Mapped[str | None] = mapped_column(String(18))
    #: documents of more than one platform share this number
    mixed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Order(IdMixin, OrgMixin, TimestampMixin, Base):
    """The platform's order and, once compared, the comparison's outcome and its customs life."""

    __tablename__ = "orders"
    __label__ = "order"
    __table_args__ = (
        UniqueConstraint("org_id", "ebp_code", "order_no"),
        Index("ix_orders_org_id_order_no", "org_id", "order_no"),
        Index("ix_orders_org_id_buyer_id_hash_quota_year", "org_id", "buyer_id_hash", "quota_year"),
        Index("ix_orders_org_id_state_created_at", "org_id", "state", "created_at"),
        # the order list's keyset (oldest first), whatever the number of orders stored
        Index("ix_orders_org_id_created_at_id", "org_id", "created_at", "id"),
        # an order is known by the platform's own id as well as by its number (refunds and deletes name the id)
        Index("ix_orders_org_id_ebp_code_platform_id", "org_id", "ebp_code", "platform_id"),
        # the exceptions queue, oldest first
        Index(
            "ix_orders_needing_attention",
            "org_id",
            "created_at",
            "id",
            sqlite_where=NEEDS_ATTENTION,
            postgresql_where=NEEDS_ATTENTION,
        ),
        # the tax bills that disagree, listed in the exceptions: few, whatever the number of orders stored
        Index(
            "ix_orders_tax_disagrees",
            "org_id",
            "created_at",
            "id",
            sqlite_where=TAX_DISAGREES,
            postgresql_where=TAX_DISAGREES,
        ),
    )

    ebp_code: Mapped[str] = mapped_column(String(18))
    order_no: Mapped[str] = mapped_column(String(60))
    trade_direction: Mapped[str] = mapped_column(String(6))
    state: Mapped[str] = mapped_column(String(32), default="awaiting_documents")
    currency: Mapped[str] = mapped_column(String(3))
    actual_paid: Mapped[Decimal] = mapped_column(MoneyAmount())
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    #: the canonical order as received, the buyer's ID number masked, names, telephones and address sealed
    document: Mapped[dict[str, Any]] = mapped_column(SealedDocument())
    buyer_id_encrypted: Mapped[str] = mapped_column(String(200))
    buyer_id_hash: Mapped[str] = mapped_column(String(64))
    buyer_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    quota_year: Mapped[int] = mapped_column(Integer)
    dutiable_value: Mapped[Decimal | None] = mapped_column(MoneyAmount())
    tax: Mapped[Decimal | None] = mapped_column(MoneyAmount())
    checks: Mapped[list[Any] | None] = mapped_column(JSON)
    failing_rules: Mapped[str | None] = mapped_column(String(500))
    declaration_id: Mapped[str | None] = mapped_column(String(36))
    receipts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: when customs released the goods: the ``returnTime`` of its release receipt (CEB622/CEB604 800), not when
    #: XBM processed it; the return windows (30 days to apply, 45 for the goods to be back) count from it
    customs_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the ``returnTime`` of the latest receipt that moved the order: an older one arriving later moves nothing
    customs_time: Mapped[str | None] = mapped_column(String(17))
    #: the tax customs itself levied (its electronic tax bill, CEB816), beside XBM's own ``tax``
    customs_tax: Mapped[Decimal | None] = mapped_column(MoneyAmount())
    # --- what a platform's deliveries tell beyond the canonical document (intake/) ---
    #: a platform's test order: stored and shown, never declared
    test: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: the platform's version of the document (Shopify ``updated_at``, WooCommerce ``date_modified_gmt``) as
    #: UTC ISO text, so an older delivery never overwrites a newer one
    platform_version: Mapped[str | None] = mapped_column(String(40))
    #: while ``incomplete``: the fields XBM still needs, ``[{field, msg}]``
    held: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    #: a newer version arrived after the declaration: it is kept here and the declaration must be redone
    changed_after_declaration: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    later_version: Mapped[dict[str, Any] | None] = mapped_column(SealedDocument(none_as_null=True))
    #: refunds the platform reported, as received (lines and amounts)
    platform_refunds: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    #: the platform's own id of the order (Shopify ``id``, WooCommerce ``id``): a second id under the same number
    #: is another order, never merged into this one
    platform_id: Mapped[str | None] = mapped_column(String(40))
    #: while ``rejected``: the receipt that refused the declaration, ``{message, status, info, time}``
    refusal: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: XBM's tax per line and type as customs bills it, kept when the order is compared (orders/tax.py):
    #: ``[{gnum, customs_duty, vat, consumption_tax, levied}]``
    tax_lines: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    #: the latest comparison with customs' tax bill (CEB816): both figures, where they differ, and its outcome
    #: (``agrees``, ``disagrees``, ``accepted`` with the seller's note)
    tax_review: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: customs' tax bill disagrees with XBM's tax beyond rounding: listed in the exceptions until resolved
    tax_disagrees: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Payment(IdMixin, OrgMixin, TimestampMixin, Base):
    __tablename__ = "payments"
    __label__ = "payment"
    __table_args__ = (
        UniqueConstraint("org_id", "pay_code", "pay_transaction_id"),
        # order number first: a payment is looked up by platform and number, and by number alone
        Index("ix_payments_org_id_order_no_ebp_code", "org_id", "order_no", "ebp_code"),
    )

    pay_code: Mapped[str] = mapped_column(String(18))
    pay_transaction_id: Mapped[str] = mapped_column(String(60))
    ebp_code: Mapped[str] = mapped_column(String(18))
    order_no: Mapped[str] = mapped_column(String(60))
    document: Mapped[dict[str, Any]] = mapped_column(SealedDocument())
    payer_id_encrypted: Mapped[str] = mapped_column(String(200))
    payer_id_hash: Mapped[str] = mapped_column(String(64))


class Waybill(IdMixin, OrgMixin, TimestampMixin, Base):
    __tablename__ = "waybills"
    __label__ = "waybill"
    __table_args__ = (
        UniqueConstraint("org_id", "logistics_code", "logistics_no"),
        Index("ix_waybills_org_id_order_no", "org_id", "order_no"),
    )

    logistics_code: Mapped[str] = mapped_column(String(18))
    logistics_no: Mapped[str] = mapped_column(String(60))
    order_no: Mapped[str] = mapped_column(String(60))
    ebp_code: Mapped[str | None] = mapped_column(String(18))
    document: Mapped[dict[str, Any]] = mapped_column(SealedDocument())


class Declaration(IdMixin, OrgMixin, TimestampMixin, Base):
    """The inventory list declared for an order (CEB621 import / CEB603 export); its XML is built on demand
    from the stored documents so the buyer's ID number stays encrypted at rest."""

    __tablename__ = "declarations"
    __label__ = "declaration"
    __table_args__ = (
        UniqueConstraint("order_id"),
        UniqueConstraint("org_id", "cop_no"),
        Index("ix_declarations_org_id_guid", "org_id", "guid"),
    )

    order_id: Mapped[str] = mapped_column(String(36))
    message_type: Mapped[str] = mapped_column(String(8))
    guid: Mapped[str] = mapped_column(String(36))
    cop_no: Mapped[str] = mapped_column(String(20))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    trade_mode: Mapped[str | None] = mapped_column(String(4))
    statistics_flag: Mapped[str | None] = mapped_column(String(1))
    #: customs' numbers for the list, from its receipts: the withdrawal and the summary need them
    pre_no: Mapped[str | None] = mapped_column(String(20))
    invt_no: Mapped[str | None] = mapped_column(String(20))
    #: the order's state when its withdrawal was requested: where a refused withdrawal leaves it
    cancel_from: Mapped[str | None] = mapped_column(String(24))
    #: 1 for the first declaration; each declaration again after a refusal (same copNo, docs/redeclaration.md)
    #: adds one
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: the customs profile it was declared under: every message of it is built from that one
    profile_id: Mapped[str | None] = mapped_column(String(36))


class CustomsReturn(IdMixin, OrgMixin, TimestampMixin, Base):
    """A buyer's return declared to customs (CEB625), by line and quantity; CEB626 decides it."""

    __tablename__ = "customs_returns"
    __label__ = "return"
    __table_args__ = (UniqueConstraint("org_id", "cop_no"), Index("ix_customs_returns_order_id", "order_id"))

    order_id: Mapped[str] = mapped_column(String(36))
    cop_no: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(12), default="requested")  # requested | approved | refused
    reason: Mapped[str] = mapped_column(String(500))
    lines: Mapped[list[Any]] = mapped_column(JSON)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: when the goods were back in the supervised area (recorded by the seller); due 45 days after release
    goods_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CustomsDeclarationRoute(IdMixin, OrgMixin, TimestampMixin, Base):
    """A B2B export (9710/9810) routed to a customs declaration (报关单) instead of the inventory list
    (orders/routing.py): why, at what value and rate, and, once a broker declared it, the declaration's number.
    One per order, rewritten each time the order is routed again."""

    __tablename__ = "customs_declaration_routes"
    __label__ = "customs declaration"
    __table_args__ = (UniqueConstraint("order_id"),)

    order_id: Mapped[str] = mapped_column(String(36))
    #: held (``needs_customs_declaration``), ``declared`` elsewhere, or ``listed`` after routing again
    status: Mapped[str] = mapped_column(String(12), default="held")
    #: why, each ``{code, text}``: ``above_limit``, ``licence_required``, ``inspection_required``, ``no_rate``
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: the goods' value in the order's currency, and in CNY at the rate below (null without a rate)
    goods_value: Mapped[Decimal] = mapped_column(MoneyAmount())
    currency: Mapped[str] = mapped_column(String(3))
    value_cny: Mapped[Decimal | None] = mapped_column(MoneyAmount())
    rate: Mapped[Decimal | None] = mapped_column(Numeric(18, 8))
    #: the day whose rate the value is converted at (the day of routing, China time)
    rate_day: Mapped[date] = mapped_column(Date)
    rate_source: Mapped[str | None] = mapped_column(String(100))
    #: once declared: the 报关单's 18-digit entry number, its date and the seller's note
    entry_id: Mapped[str | None] = mapped_column(String(18))
    declared_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500))
