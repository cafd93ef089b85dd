"""The three-in-one comparison as pure functions over plain values (docs/flows.md): normalisation, tax, limits,
and the checks, each returning ``{rule, passed, detail}``.

Over 400 lines on purpose: every check of the comparison with its tax and limit arithmetic, pure and side by
side: the one place the rules are read, and tested by property tests over all of them together."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from services.compliance.setup import licences

FEN = Decimal("0.01")
#: itemNo on the inventory list (CEB621, CEB603): C..20; the order messages take 30
CUSTOMS_ITEM_NO = 20
ITEM_NO_TEXT = re.compile(r"^[A-Za-z0-9_.\-]{1,20}$")
TAX_SHARE = Decimal("0.7")


@dataclass(frozen=True)
class Limits:
    single: Decimal
    annual: Decimal


def limits_for(year: int) -> Limits:
    """财关税〔2018〕49号 from 2019; ¥2,000 / ¥20,000 between 2016-04-08 and 2018."""
    if year >= 2019:
        return Limits(Decimal("5000"), Decimal("26000"))
    return Limits(Decimal("2000"), Decimal("20000"))


def normalise_text(value: str) -> str:
    """Width-folded (full-width letters, digits, spaces), whitespace collapsed, case-folded."""
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


def normalise_phone(value: str) -> str:
    """Digits only, without China's country prefix: ``+86 135-2265-2231`` → ``13522652231``."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", value))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def round_fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def dutiable_value(goods_value: Decimal, freight: Decimal, insured_fee: Decimal) -> Decimal:
    return goods_value + freight + insured_fee


def retail_tax_exact(value: Decimal, vat_rate: Decimal, consumption_rate: Decimal) -> Decimal:
    """Import VAT plus consumption tax at 70%: 0.7 × value/(1 − c) × (c + v), unrounded."""
    return TAX_SHARE * value / (1 - consumption_rate) * (consumption_rate + vat_rate)


def retail_tax(value: Decimal, vat_rate: Decimal, consumption_rate: Decimal) -> Decimal:
    return round_fen(retail_tax_exact(value, vat_rate, consumption_rate))


@dataclass(frozen=True)
class TaxLine:
    total: Decimal
    vat_rate: Decimal
    consumption_rate: Decimal
    duty_rate: Decimal = Decimal(0)


@dataclass(frozen=True)
class LineTax:
    """One line's tax by type, each rounded to the fen as customs' electronic tax bill (CEB816) shows it."""

    duty: Decimal
    vat: Decimal
    consumption: Decimal

    @property
    def total(self) -> Decimal:
        return self.duty + self.vat + self.consumption


def line_taxes(lines: Sequence[TaxLine], value: Decimal, full: bool = False) -> list[LineTax]:
    """Customs' way: the dutiable value shared among the lines by their totals (freight and insurance follow the
    goods), then each line taxed per type and each amount rounded. Within the limits duty is 0 and VAT and
    consumption tax are levied at 70%; ``full`` (the single-item path above ¥5,000) levies all three in full."""
    base = sum((line.total for line in lines), Decimal(0))
    out, allocated = [], Decimal(0)
    for i, line in enumerate(lines):
        if i == len(lines) - 1:
            share = value - allocated
        else:
            share = value * line.total / base if base else Decimal(0)
            allocated += share
        c, v = line.consumption_rate, line.vat_rate
        # every product before the one division by (1 − c): where the exact tax ends on half a fen (70 % of a
        # value over 1 − 30 % is the value itself), dividing first would leave 0.00499… and round it down
        if full:
            duty = share * line.duty_rate
            out.append(
                LineTax(
                    round_fen(duty), round_fen((share + duty) * v / (1 - c)), round_fen((share + duty) * c / (1 - c))
                )
            )
        else:
            out.append(
                LineTax(
                    Decimal("0.00"),
                    round_fen(TAX_SHARE * share * v / (1 - c)),
                    round_fen(TAX_SHARE * share * c / (1 - c)),
                )
            )
    return out


def line_tax_total(lines: Sequence[TaxLine], value: Decimal, full: bool = False) -> Decimal:
    return sum((t.total for t in line_taxes(lines, value, full)), Decimal("0.00"))


#: the tax types customs itemises per line on its tax bill (CEB816), as XBM names them
TAX_TYPES = ("customs_duty", "vat", "consumption_tax")


def levied(line: TaxLine, full: bool = False) -> tuple[str, ...]:
    """The tax types actually levied on a line: duty only on the full-tax path and at a duty rate above 0, VAT and
    consumption tax at a rate above 0. Each is rounded to the fen on its own, so each may differ by a fen."""
    rates = (line.duty_rate if full else Decimal(0), line.vat_rate, line.consumption_rate)
    return tuple(name for name, rate in zip(TAX_TYPES, rates, strict=True) if rate > 0)


def rounding_tolerance(lines: Sequence[TaxLine], full: bool = False) -> Decimal:
    """How far two honest computations may differ: a fen per line and per tax type levied on it (each amount is
    rounded half up to the fen on its own), so two lines with VAT and consumption tax → ±0.04, a line with VAT only
    → ±0.01."""
    return FEN * sum(len(levied(line, full)) for line in lines)


def order_tax(lines: Sequence[TaxLine], value: Decimal) -> Decimal:
    """Tax of an order whose dutiable value is ``value``: the value is shared among rate groups by the lines'
    totals (freight and insurance follow the goods), each group taxed at its rates, the sum rounded once."""
    groups: dict[tuple[Decimal, Decimal], Decimal] = {}
    for line in lines:
        key = (line.vat_rate, line.consumption_rate)
        groups[key] = groups.get(key, Decimal(0)) + line.total
    if not groups:
        return Decimal("0.00")
    keys = list(groups)
    base = sum(groups.values(), Decimal(0))
    exact = Decimal(0)
    allocated = Decimal(0)
    for i, key in enumerate(keys):
        if i == len(keys) - 1:
            share = value - allocated
        else:
            share = value * groups[key] / base if base else Decimal(0)
            allocated += share
        exact += retail_tax_exact(share, *key)
    return round_fen(exact)


@dataclass(frozen=True)
class Check:
    rule: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Party:
    name: str
    telephone: str
    address: str
    #: the address's parts, where the sender gave them apart
    street: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Institution:
    status: str
    scopes: Sequence[str]
    #: ``bank`` or ``non_bank`` (setup/licences.py)
    kind: str = licences.NON_BANK
    name: str = ""


@dataclass
class Facts:
    """Everything the comparison needs, already read from the three documents and the registries."""

    trade_direction: str
    year: int
    goods_value: Decimal
    freight: Decimal
    discount: Decimal
    tax_total: Decimal
    actual_paid: Decimal
    order_currency: str
    buyer_name: str
    buyer_id_hash: str
    buyer_verified: bool
    order_consignee: Party
    pay_code: str
    amount_paid: Decimal
    payment_currency: str
    payer_name: str
    payer_id_hash: str
    waybill_consignee: Party
    insured_fee: Decimal
    institution: Institution | None
    lines: list[TaxLine] = field(default_factory=list)
    missing_items: list[str] = field(default_factory=list)
    #: SKUs with a record but no customs item number, that cannot be one themselves
    unfit_items: list[str] = field(default_factory=list)
    #: the part of actual_paid gift cards paid (a means of payment the payment institution did not collect)
    gift_card: Decimal = Decimal(0)
    annual_before: Decimal = Decimal(0)
    #: units of goods in the order (sum of line quantities): the full-tax path takes one item only
    item_count: Decimal = Decimal(1)
    #: export: where the goods go (ISO country, known to the customs table or None), the port, the waybill number
    destination: str | None = None
    destination_known: bool = True
    pod: str | None = None
    logistics_no: str = ""
    #: import: the customs mode, and the transport keys it requires that the waybill lacks (customs/fields.py)
    trade_mode: str = "9610"
    transport_missing: list[str] = field(default_factory=list)

    @property
    def value(self) -> Decimal:
        return dutiable_value(self.goods_value, self.freight, self.insured_fee)

    @property
    def is_import(self) -> bool:
        return self.trade_direction == "import"


def check_order_total(f: Facts) -> Check:
    expected = f.goods_value + f.freight + f.tax_total - f.discount
    ok = f.actual_paid == expected
    return Check("order_total", ok, f"actual_paid {f.actual_paid} vs goods+freight+tax-discount {expected}")


def check_amount_paid(f: Facts) -> Check:
    """What the payment institution collected: the order's actual_paid less what gift cards paid."""
    owed = f.actual_paid - f.gift_card
    if f.gift_card:
        detail = f"order actual_paid {f.actual_paid} less gift cards {f.gift_card} = {owed}"
    else:
        detail = f"order actual_paid {f.actual_paid}"
    return Check("amount_paid", owed == f.amount_paid, f"{detail} vs payment amount_paid {f.amount_paid}")


def check_consignee(f: Facts) -> Check:
    """The same person at the same place: names and phones normalised, addresses compared on what identifies
    the place (street and number, city), however postcode, country and spacing are written."""
    a, b = f.order_consignee, f.waybill_consignee
    differ = []
    if not same_name(a.name, b.name):
        differ.append("name")
    if not same_phone(a.telephone, b.telephone):
        differ.append("telephone")
    place = address_difference(a, b)
    if place:
        differ.append(f"address ({place})")
    detail = "order and waybill consignee agree" if not differ else f"consignee {', '.join(differ)} differ"
    return Check("consignee", not differ, detail)


def _tokens(value: str) -> list[str]:
    """Words, numbers and runs of CJK characters, width-folded and case-folded; spacing and punctuation gone."""
    return re.findall(r"\d+|[^\W\d_]+", unicodedata.normalize("NFKC", value).casefold())


def _squash(value: str) -> str:
    return "".join(_tokens(value))


def same_name(a: str, b: str) -> bool:
    """Spacing, punctuation, width and case aside; a Latin name may put the family name first or last."""
    ta, tb = _tokens(a), _tokens(b)
    return "".join(ta) == "".join(tb) or (len(ta) > 1 and sorted(ta) == sorted(tb))


def same_phone(a: str, b: str) -> bool:
    """Digits only; a country code (``+86``, ``0086``) or a trunk ``0`` on one side only is the same number."""
    da, db = normalise_phone(a).lstrip("0"), normalise_phone(b).lstrip("0")
    if da == db:
        return True
    short, long = sorted((da, db), key=len)
    return len(short) >= 7 and long.endswith(short) and len(long) - len(short) <= 3


#: how a country may close an address (an ISO code is taken from the parts, not guessed at in free text)
COUNTRY_WORDS = frozenset({"china", "prc", "peoplesrepublicofchina", "中国", "中华人民共和国", "cn", "chn"})


def _place(address: str, postcode: str | None, country: str | None) -> str:
    """The address without its postcode and its country (at its end, or a country leading it), squashed: what
    identifies the place."""
    tokens = _tokens(address)
    countries = COUNTRY_WORDS | ({_squash(country)} if country else set())
    post = _squash(postcode) if postcode else None
    while tokens and tokens[0] in countries:
        tokens.pop(0)
    country_seen = postcode_seen = False
    while tokens:  # what closes the address: one country and one postcode, in either order
        last = tokens[-1]
        if not country_seen and (last in countries or (len(last) == 2 and last.isascii() and last.isalpha())):
            country_seen = True
        elif not postcode_seen and (last == post or re.fullmatch(r"[0-9]{4,6}", last)):
            postcode_seen = True
        else:
            break
        tokens.pop()
    return "".join(tokens)


def _city_in(city: str, place: str) -> bool:
    squashed = _squash(city)
    return bool(squashed) and (squashed in place or squashed.removesuffix("市") in place)


def address_difference(a: Party, b: Party) -> str | None:
    """None when both name the same place, else the part that differs (street, city or address)."""
    other = _place(b.address, b.postcode, b.country)
    if a.street:  # the platform gave the parts apart: the street and number, then the city, must be there
        if not all(t in other for t in _tokens(a.street)):
            return "street"
        if a.city and not _city_in(a.city, other):
            return "city"
        return None
    if b.street:
        return address_difference(b, a)
    mine = _place(a.address, a.postcode, a.country)
    if mine and other and (mine == other or mine in other or other in mine):
        return None
    return "street"


def check_payer_identity(f: Facts) -> Check:
    if f.buyer_verified:
        return Check("payer_identity", True, "buyer identity verified; payer may differ")
    same_name = normalise_text(f.buyer_name) == normalise_text(f.payer_name)
    same_id = f.buyer_id_hash == f.payer_id_hash
    if same_name and same_id:
        return Check("payer_identity", True, "payer is the buyer")
    parts = [p for p, same in (("name", same_name), ("ID number", same_id)) if not same]
    return Check("payer_identity", False, f"buyer not verified and payer {' and '.join(parts)} differ from buyer's")


def check_payment_institution(f: Facts) -> Check:
    """A bank, or a non-bank institution whose licence names a scope carrying internet payment (the table in
    setup/licences.py: Decree 768 and the PBOC implementing rules); registered and active."""
    inst = f.institution
    if inst is None:
        return Check("payment_institution", False, f"payment provider {f.pay_code} is not registered")
    kind = inst.kind.replace("_", "-")
    who = f"payment provider {f.pay_code}" + (f" ({inst.name}, {kind}" if inst.name else f" ({kind}")
    who += f", scopes {', '.join(inst.scopes)})" if inst.scopes else ", no scopes)"
    if inst.status != "active":
        return Check("payment_institution", False, f"{who} is {inst.status}")
    covers, why = licences.covering(inst.kind, inst.scopes)
    if not covers:
        return Check("payment_institution", False, f"{who}: {why}")
    return Check("payment_institution", True, f"{who} registered, active, {why}")


def check_currency(f: Facts) -> Check:
    if f.order_currency != f.payment_currency:
        return Check("currency", False, f"order in {f.order_currency}, payment in {f.payment_currency}")
    if f.is_import and f.order_currency != "CNY":
        return Check("currency", False, f"import documents must be in CNY (customs 142), not {f.order_currency}")
    return Check("currency", True, f"all in {f.order_currency}")


def full_tax(f: Facts) -> bool:
    """财关税〔2018〕49号 art. 2: one item above the single limit still clears, at full duty, VAT and consumption
    tax (the annual limit still applies)."""
    return f.is_import and f.value > limits_for(f.year).single and f.item_count == 1


def check_single_limit(f: Facts) -> Check:
    if not f.is_import:
        return Check("single_limit", True, "not applicable to export")
    limit = limits_for(f.year).single
    if full_tax(f):
        return Check("single_limit", True, f"dutiable value {f.value} above {limit}, one item: cleared at full tax")
    ok = f.value <= limit
    return Check("single_limit", ok, f"dutiable value {f.value} vs single-transaction limit {limit}")


def check_annual_limit(f: Facts) -> Check:
    if not f.is_import:
        return Check("annual_limit", True, "not applicable to export")
    limit = limits_for(f.year).annual
    total = f.annual_before + f.value
    return Check("annual_limit", total <= limit, f"{f.year} total with this order {total} vs annual limit {limit}")


def check_item_records(f: Facts) -> Check:
    if f.missing_items:
        return Check("item_records", False, f"no item record for {', '.join(sorted(f.missing_items))}")
    if f.unfit_items:
        return Check(
            "item_records",
            False,
            f"SKU {', '.join(sorted(f.unfit_items))} cannot be customs' itemNo (at most {CUSTOMS_ITEM_NO} letters, "
            "digits, '-', '_' or '.'): give its item record a customs_item_no",
        )
    return Check("item_records", True, "every line has an item record")


def check_tax(f: Facts) -> Check:
    if not f.is_import:
        return Check("tax", True, "not applicable to export")
    if f.missing_items:
        return Check("tax", False, "cannot compute tax without item records")
    expected = line_tax_total(f.lines, f.value, full_tax(f))
    tolerance = rounding_tolerance(f.lines, full_tax(f))
    ok = abs(f.tax_total - expected) <= tolerance
    kind = "full duty, VAT and consumption tax" if full_tax(f) else "cross-border retail tax"
    return Check("tax", ok, f"order tax_total {f.tax_total} vs computed {expected} ({kind}, ±{tolerance} rounding)")


def check_destination(f: Facts) -> Check:
    if f.destination is None:
        return Check("destination", False, "no destination country on the order, its consignee or the waybill")
    if not f.destination_known:
        return Check("destination", False, f"destination {f.destination} has no customs country code")
    return Check("destination", True, f"goods go to {f.destination}")


def check_transport(f: Facts) -> Check:
    """A direct import (9610) declares the flight or vessel, the voyage and the master bill it arrives on (CEB621
    trafNo, voyageNo, billNo: "直购进口必填"); a bonded import (1210) declares none ("保税进口免填")."""
    if f.transport_missing:
        lacks = ", ".join(f.transport_missing)
        return Check("transport", False, f"a {f.trade_mode} import declares its transport: the waybill has no {lacks}")
    if f.trade_mode == "1210":
        return Check("transport", True, "a bonded import (1210) declares no transport")
    return Check("transport", True, "the waybill names the flight or vessel, voyage and master bill")


def check_port_of_destination(f: Facts) -> Check:
    ok = bool(f.pod)
    return Check("pod", ok, f"port of destination {f.pod}" if ok else "the waybill names no port of destination")


def check_logistics_no(f: Facts) -> Check:
    ok = len(f.logistics_no) <= 32
    return Check("logistics_no", ok, f"waybill number of {len(f.logistics_no)} characters (customs takes 32, uncut)")


RULES = (
    check_order_total,
    check_amount_paid,
    check_consignee,
    check_payer_identity,
    check_payment_institution,
    check_currency,
    check_single_limit,
    check_annual_limit,
    check_item_records,
    check_tax,
    check_transport,
)


#: what export checks (docs/flows.md); the import-only rules (ID, payer = buyer, licence, limits, tax) do not run
EXPORT_RULES = (
    check_order_total,
    check_amount_paid,
    check_currency,
    check_consignee,
    check_item_records,
    check_destination,
    check_port_of_destination,
    check_logistics_no,
)


def run_checks(facts: Facts) -> list[Check]:
    return [rule(facts) for rule in (RULES if facts.is_import else EXPORT_RULES)]


def computed_tax(facts: Facts) -> Decimal | None:
    if not facts.is_import or facts.missing_items:
        return None
    return line_tax_total(facts.lines, facts.value, full_tax(facts))
