"""The ad and email platforms' own report formats, read as each platform documents them (docs/ad-platforms.md):
each parser turns one payload into :class:`PlatformRow` s — one platform campaign on one day, in the platform's
units converted exactly (micros ÷ 10⁶ as Decimal), the account's currency and the account's days — and lists what
it skipped and why (a summary row, a total line, a row spanning several days). Nothing here knows XBM's campaigns.

Over 400 lines on purpose: one short parser per platform format and the recognition that picks among them;
each parser is self-contained, and one module lets the recognition see every format it must tell apart.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.errors import Unprocessable

FORMATS = (
    "google_ads_api",
    "google_ads_csv",
    "meta_insights",
    "meta_ads_manager_csv",
    "tiktok_report",
    "amazon_ads_report",
    "mailchimp_report",
    "klaviyo_campaign_values",
)
PLATFORM_OF = {
    "google_ads_api": "google_ads",
    "google_ads_csv": "google_ads",
    "meta_insights": "meta",
    "meta_ads_manager_csv": "meta",
    "tiktok_report": "tiktok",
    "amazon_ads_report": "amazon_ads",
    "mailchimp_report": "mailchimp",
    "klaviyo_campaign_values": "klaviyo",
}
#: Meta's purchase action types in the order one is chosen: the first a row lists counts, and its value comes
#: from ``action_values`` under the same type (never a sum of the overlapping types)
DEFAULT_PURCHASE_TYPES = ("omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase")
AMAZON_WINDOWS = ("1d", "7d", "14d", "30d")


@dataclass
class Options:
    """What the import request says beside the payload."""

    currency: str | None = None  # the account's currency, for formats that do not carry it
    account_id: str | None = None  # the account, for formats that do not carry it
    purchase_action_types: tuple[str, ...] = DEFAULT_PURCHASE_TYPES
    amazon_window: str | None = None  # default window for campaigns whose external ref names none
    day: date | None = None  # Klaviyo: the day a values report is booked on (it carries no date)
    time_zone: str | None = None  # Mailchimp: the account's time zone for send_time (default UTC)


@dataclass
class PlatformRow:
    """One platform campaign's figures on one day (the account's day), as the platform counts them."""

    account_id: str | None
    campaign_id: str
    day: date
    currency: str | None
    impressions: int = 0
    clicks: int = 0
    cost: Decimal = Decimal(0)
    conversions: Decimal = Decimal(0)
    value: Decimal = Decimal(0)  # the conversion value the platform claims
    sends: int = 0
    opens: int = 0
    unsubscribes: int = 0
    view_through: Decimal | None = None  # conversions the platform attributes to views, when it says
    #: Amazon: {window: (purchases, sales)} — the window is chosen per campaign when the row is placed
    windows: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)


@dataclass
class Skipped:
    where: str
    reason: str

    def out(self) -> dict[str, str]:
        return {"row": self.where, "reason": self.reason}


@dataclass
class Parsed:
    format: str
    rows: list[PlatformRow]
    skipped: list[Skipped]
    read: int  # the rows the payload holds (campaign rows and others)

    @property
    def platform(self) -> str:
        return PLATFORM_OF[self.format]


class ReportError(Unprocessable):
    """A payload that is not what its format says (422 naming where)."""


# --- numbers as the platforms write them ---------------------------------------------------------------------


def _number(value: Any, where: str) -> Decimal:
    """A platform's number: JSON numbers, numeric strings (Meta, TikTok, Google's int64), CSV text with
    thousands separators; blank, ``--`` or absent is zero. A float is read through its shortest text, so
    Google's ``2.37`` is 2.37 exactly."""
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise ReportError(f"{where}: {value!r} is not a number")
        return Decimal(0)
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = str(value).strip().replace(",", "").replace("\u00a0", "")
    if text in ("", "--", "-", " --"):
        return Decimal(0)
    text = text.rstrip("%")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ReportError(f"{where}: {value!r} is not a number") from None
    if not number.is_finite():
        raise ReportError(f"{where}: {value!r} is not a number")
    return number


def _count(value: Any, where: str) -> int:
    number = _number(value, where)
    if number != number.to_integral_value():
        raise ReportError(f"{where}: {value!r} is not a whole number")
    return int(number)


def _day(value: Any, where: str) -> date:
    text = str(value or "").strip()[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReportError(f"{where}: {value!r} is not a day (YYYY-MM-DD)") from None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _get(obj: Any, *names: str) -> Any:
    """The first of ``names`` present in ``obj`` (proto3 JSON in lowerCamelCase, or the field names)."""
    if not isinstance(obj, dict):
        return None
    for name in names:
        if name in obj:
            return obj[name]
    return None


# --- Google Ads API (GoogleAdsService.Search / SearchStream, REST JSON) ---------------------------------------

_RESOURCE = re.compile(r"^customers/([0-9]+)/campaigns/([0-9]+)$")


def google_ads_api(payload: Any, options: Options) -> Parsed:
    """``searchStream`` (an array of batches) or ``search`` pages (one, or an array of them): each result a
    GoogleAdsRow with ``campaign``, ``segments.date`` and ``metrics``. int64 fields arrive as strings, doubles as
    numbers; cost in micros of the account's currency (``customer.currencyCode``); ``summaryRow`` is not a row."""
    batches = payload if isinstance(payload, list) else [payload]
    rows: list[PlatformRow] = []
    skipped: list[Skipped] = []
    read = 0
    for b, batch in enumerate(batches):
        if not isinstance(batch, dict):
            raise ReportError(f"batch {b}: not an object")
        if _get(batch, "summaryRow", "summary_row") is not None:
            read += 1
            skipped.append(Skipped(f"batch {b} summaryRow", "a summary of the results, not a campaign's row"))
        results = _get(batch, "results") or []
        if not isinstance(results, list):
            raise ReportError(f"batch {b}: results is not a list")
        for i, result in enumerate(results):
            read += 1
            where = f"batch {b} results[{i}]"
            campaign = _get(result, "campaign") or {}
            customer = _get(result, "customer") or {}
            segments = _get(result, "segments") or {}
            metrics = _get(result, "metrics") or {}
            campaign_id = _text(_get(campaign, "id"))
            account_id = _text(_get(customer, "id"))
            match = _RESOURCE.match(str(_get(campaign, "resourceName", "resource_name") or ""))
            if match:
                account_id = account_id or match.group(1)
                campaign_id = campaign_id or match.group(2)
            if campaign_id is None:
                skipped.append(Skipped(where, "no campaign (select campaign.id)"))
                continue
            day = _get(segments, "date")
            if day is None:
                skipped.append(Skipped(where, "no segments.date: not a daily row"))
                continue
            micros = _number(_get(metrics, "costMicros", "cost_micros"), f"{where}.metrics.costMicros")
            view_through = _get(metrics, "viewThroughConversions", "view_through_conversions")
            rows.append(
                PlatformRow(
                    account_id=account_id or options.account_id,
                    campaign_id=campaign_id,
                    day=_day(day, f"{where}.segments.date"),
                    currency=_text(_get(customer, "currencyCode", "currency_code")) or options.currency,
                    impressions=_count(_get(metrics, "impressions"), f"{where}.metrics.impressions"),
                    clicks=_count(_get(metrics, "clicks"), f"{where}.metrics.clicks"),
                    cost=micros / 1_000_000,
                    conversions=_number(_get(metrics, "conversions"), f"{where}.metrics.conversions"),
                    value=_number(
                        _get(metrics, "conversionsValue", "conversions_value"), f"{where}.metrics.conversionsValue"
                    ),
                    view_through=None if view_through is None else _number(view_through, where),
                )
            )
    return Parsed("google_ads_api", rows, skipped, read)


# --- CSV exports (Google Ads UI, Meta Ads Manager) -------------------------------------------------------------


def _csv_rows(text: str, is_header: Callable[[list[str]], bool]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header (found by ``is_header`` among the first lines: exports put a title and a date range above it)
    and the rows below it, with their line numbers."""
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    lines = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    for index, line in enumerate(lines[:20]):
        cells = [c.strip().lstrip("\ufeff") for c in line]
        if is_header(cells):
            return cells, [(n + index + 2, line) for n, line in enumerate(lines[index + 1 :])]
    raise ReportError("no header row found in the first 20 lines")


def _column(header: list[str], *names: str) -> int | None:
    lowered = [h.lower() for h in header]
    for name in names:
        if name.lower() in lowered:
            return lowered.index(name.lower())
    return None


Cell = Callable[[str], str | None]


def _records(
    header: list[str], lines: list[tuple[int, list[str]]], aliases: dict[str, tuple[str, ...]]
) -> Iterator[tuple[str, list[str], Cell]]:
    """The report's non-blank lines, each as where it stands, its cells, and a reader of its cells by name (the
    first of each name's ``aliases`` the header holds; None where the column or the cell is missing)."""
    col = {name: _column(header, *names) for name, names in aliases.items()}
    for number, line in lines:
        if not any(cell.strip() for cell in line):
            continue

        def cell(name: str, line: list[str] = line) -> str | None:
            index = col[name]
            return line[index].strip() if index is not None and index < len(line) else None

        yield f"line {number}", line, cell


#: the title line of an AdWords API report download names its report type (``"CAMPAIGN_PERFORMANCE_REPORT …"``),
#: where a Google Ads UI download names its report in words
_ADWORDS_TITLE = re.compile(r"^\W*[A-Z][A-Z0-9_]*_REPORT\b")


def google_ads_csv(text: str, options: Options) -> Parsed:
    """A report downloaded from the Google Ads UI: a title line, a date range, the header, one line per campaign
    and day, then ``Total:`` lines (totals, not rows). Money in the account's currency (``Currency code``
    column, or the import's ``currency``), ``--`` for none. An AdWords API download looks alike but is refused:
    that API wrote money in micros or in units as each request asked, and its file does not say which."""
    title = text.lstrip("\ufeff").lstrip().partition("\n")[0].strip()
    if _ADWORDS_TITLE.match(title):
        raise ReportError(
            f"{title[:80]} is an AdWords API report download: that API wrote money in micros or in currency units "
            "as the request asked, and the file does not say which. Import the report downloaded from the Google "
            "Ads UI (format google_ads_csv) or GoogleAdsService.SearchStream JSON (format google_ads_api)"
        )
    header, lines = _csv_rows(text, lambda cells: "Day" in cells and ("Campaign ID" in cells or "Campaign" in cells))
    aliases = {
        "campaign_id": ("Campaign ID",),
        "account_id": ("Customer ID",),
        "day": ("Day",),
        "currency": ("Currency code", "Currency"),
        "impressions": ("Impr.", "Impressions"),
        "clicks": ("Clicks",),
        "cost": ("Cost",),
        "conversions": ("Conversions",),
        "value": ("Conv. value", "Conversion value"),
        "view_through": ("View-through conv.", "View-through conversions"),
    }
    rows: list[PlatformRow] = []
    skipped: list[Skipped] = []
    read = 0
    for where, line, cell in _records(header, lines, aliases):
        read += 1
        first = line[0].strip() if line else ""
        if first.lower().startswith("total"):
            skipped.append(Skipped(where, f"{first[:60]}: a total, not a campaign's row"))
            continue
        campaign_id = cell("campaign_id")
        if not campaign_id:
            skipped.append(Skipped(where, "no Campaign ID (add the Campaign ID column to the report)"))
            continue
        account = (cell("account_id") or "").replace("-", "") or options.account_id
        view_through = cell("view_through")
        rows.append(
            PlatformRow(
                account_id=account,
                campaign_id=campaign_id,
                day=_day(cell("day"), f"{where} Day"),
                currency=cell("currency") or options.currency,
                impressions=_count(cell("impressions"), f"{where} Impr."),
                clicks=_count(cell("clicks"), f"{where} Clicks"),
                cost=_number(cell("cost"), f"{where} Cost"),
                conversions=_number(cell("conversions"), f"{where} Conversions"),
                value=_number(cell("value"), f"{where} Conv. value"),
                view_through=None if view_through is None else _number(view_through, where),
            )
        )
    return Parsed("google_ads_csv", rows, skipped, read)


_SPENT = re.compile(r"^Amount spent \(([A-Z]{3})\)$")


def meta_ads_manager_csv(text: str, options: Options) -> Parsed:
    """An Ads Manager export at campaign level, broken down by day: ``Amount spent (USD)`` names the account's
    currency, ``Reporting starts``/``Reporting ends`` (or ``Day``) the account's days, ``Purchases`` and
    ``Purchases conversion value`` the purchases as Ads Manager counts them."""
    header, lines = _csv_rows(text, lambda cells: any(_SPENT.match(c) or c == "Amount spent" for c in cells))
    spent = next((i for i, h in enumerate(header) if _SPENT.match(h) or h == "Amount spent"), None)
    match = _SPENT.match(header[spent]) if spent is not None else None
    header_currency = match.group(1) if match else None
    aliases = {
        "campaign_id": ("Campaign ID",),
        "account_id": ("Account ID",),
        "starts": ("Reporting starts", "Day"),
        "ends": ("Reporting ends", "Day"),
        "currency": ("Currency",),
        "impressions": ("Impressions",),
        "clicks": ("Clicks (all)", "Link clicks"),
        "conversions": ("Purchases",),
        "value": ("Purchases conversion value",),
    }
    rows: list[PlatformRow] = []
    skipped: list[Skipped] = []
    read = 0
    for where, line, cell in _records(header, lines, aliases):
        read += 1
        campaign_id = cell("campaign_id")
        if not campaign_id:
            skipped.append(Skipped(where, "no Campaign ID (a total line, or the column is missing)"))
            continue
        starts, ends = cell("starts"), cell("ends")
        if starts != ends:
            skipped.append(Skipped(where, f"covers {starts} – {ends}: export with the breakdown by day"))
            continue
        rows.append(
            PlatformRow(
                account_id=cell("account_id") or options.account_id,
                campaign_id=campaign_id,
                day=_day(starts, f"{where} Reporting starts"),
                currency=cell("currency") or header_currency or options.currency,
                impressions=_count(cell("impressions"), f"{where} Impressions"),
                clicks=_count(cell("clicks"), f"{where} Clicks"),
                cost=_number(line[spent] if spent is not None and spent < len(line) else None, f"{where} spent"),
                conversions=_number(cell("conversions"), f"{where} Purchases"),
                value=_number(cell("value"), f"{where} Purchases conversion value"),
            )
        )
    return Parsed("meta_ads_manager_csv", rows, skipped, read)


# --- Meta Marketing API Insights -------------------------------------------------------------------------------


def _action(actions: Any, types: tuple[str, ...], where: str) -> tuple[str | None, Decimal, dict[str, Any]]:
    """The first of ``types`` the list names: (type, value, the entry) — one type, never a sum of them."""
    if not isinstance(actions, list):
        return None, Decimal(0), {}
    by_type = {a.get("action_type"): a for a in actions if isinstance(a, dict)}
    for action_type in types:
        if action_type in by_type:
            entry = by_type[action_type]
            return action_type, _number(entry.get("value"), f"{where} {action_type}"), entry
    return None, Decimal(0), {}


def meta_insights(payload: Any, options: Options) -> Parsed:
    """``GET /{object}/insights`` with ``level=campaign`` and ``time_increment=1``: ``{data, paging}`` (or a list
    of such pages). Every metric a numeric string; ``spend`` in ``account_currency``; purchases from
    ``actions``/``action_values`` under one chosen type; ``summary`` is an account total, not a row."""
    pages = payload if isinstance(payload, list) else [payload]
    rows: list[PlatformRow] = []
    skipped: list[Skipped] = []
    read = 0
    types = options.purchase_action_types
    for p, page in enumerate(pages):
        data = _get(page, "data")
        if not isinstance(data, list):
            raise ReportError(f"page {p}: no data list")
        if _get(page, "summary") is not None:
            skipped.append(Skipped(f"page {p} summary", "the account's total, not a campaign's row"))
        for i, item in enumerate(data):
            read += 1
            where = f"page {p} data[{i}]"
            if not isinstance(item, dict):
                raise ReportError(f"{where}: not an object")
            campaign_id = _text(item.get("campaign_id"))
            if campaign_id is None:
                skipped.append(Skipped(where, "no campaign_id (ask level=campaign)"))
                continue
            starts, stops = item.get("date_start"), item.get("date_stop")
            if starts != stops:
                skipped.append(Skipped(where, f"covers {starts} – {stops}: ask time_increment=1 for daily rows"))
                continue
            chosen, purchases, entry = _action(item.get("actions"), types, f"{where} actions")
            value = Decimal(0)
            view_through = None
            if chosen is not None:
                _, value, _ = _action(item.get("action_values"), (chosen,), f"{where} action_values")
                for key in ("1d_view", "7d_view", "28d_view"):  # asked with action_attribution_windows
                    if key in entry:
                        view_through = _number(entry[key], f"{where} {chosen} {key}")
                        break
            rows.append(
                PlatformRow(
                    account_id=_text(item.get("account_id")) or options.account_id,
                    campaign_id=campaign_id,
                    day=_day(starts, f"{where}.date_start"),
                    currency=_text(item.get("account_currency")) or options.currency,
                    impressions=_count(item.get("impressions"), f"{where}.impressions"),
                    clicks=_count(item.get("clicks"), f"{where}.clicks"),
                    cost=_number(item.get("spend"), f"{where}.spend"),
                    conversions=purchases,
                    value=value,
                    view_through=view_through,
                )
            )
    return Parsed("meta_insights", rows, skipped, read)


# --- TikTok API for Business (report/integrated/get) ----------------------------------------------------------

TIKTOK_CONVERSIONS = ("complete_payment", "conversion")
TIKTOK_VALUE = ("total_complete_payment_rate", "total_purchase_value", "total_onsite_shopping_value")


def tiktok_report(payload: Any, options: Options) -> Parsed:
    """``{code, message, data: {list: [{dimensions, metrics}], page_info}}`` (or a list of such pages), every
    metric a string, ``stat_time_day`` in the advertiser's time zone, no currency (the advertiser's: the import
    names it). Rows split by other dimensions are summed per campaign and day when placed."""
    pages = payload if isinstance(payload, list) else [payload]
    rows: list[PlatformRow] = []
    skipped: list[Skipped] = []
    read = 0
    for p, page in enumerate(pages):
        if _get(page, "code") not in (None, 0):
            raise ReportError(f"page {p}: TikTok answered code {page.get('code')}: {str(page.get('message'))[:200]}")
        data = _get(page, "data") or {}
        items = _get(data, "list")
        if not isinstance(items, list):
            raise ReportError(f"page {p}: no data.list")
        for i, item in enumerate(items):
            read += 1
            where = f"page {p} data.list[{i}]"
            dims = _get(item, "dimensions") or {}
            metrics = _get(item, "metrics") or {}
            campaign_id = _text(dims.get("campaign_id")) or _text(metrics.get("campaign_id"))
            if campaign_id is None:
                skipped.append(Skipped(where, "no campaign_id dimension (ask data_level AUCTION_CAMPAIGN)"))
                continue
            if "stat_time_day" not in dims:
                skipped.append(Skipped(where, "no stat_time_day dimension: not a daily row"))
                continue
            conv_key = next((key for key in TIKTOK_CONVERSIONS if key in metrics), None)
            value_key = next((key for key in TIKTOK_VALUE if key in metrics), None)
            rows.append(
                PlatformRow(
                    account_id=_text(dims.get("advertiser_id")) or options.account_id,
                    campaign_id=campaign_id,
                    day=_day(dims["stat_time_day"], f"{where}.stat_time_day"),
                    currency=_text(metrics.get("currency")) or options.currency,
                    impressions=_count(metrics.get("impressions"), f"{where}.impressions"),
                    clicks=_count(metrics.get("clicks"), f"{where}.clicks"),
                    cost=_number(metrics.get("spend"), f"{where}.spend"),
                    conversions=_number(metrics.get(conv_key) if conv_key else None, f"{where}.{conv_key}"),
                    value=_number(metrics.get(value_key) if value_key else None, f"{where}.{value_key}"),
                )
            )
    return Parsed("tiktok_report", rows, skipped, read)


# --- Amazon Ads reporting v3 -----------------------------------------------------------------------------------


def amazon_ads_report(payload: Any, options: Options) -> Parsed:
    """The downloaded (gunzipped) GZIP_JSON of a v3 campaign report: an array of rows with ``campaignId``,
    ``date``, ``impressions``, ``clicks``, ``cost`` and one column per attribution window (``purchases7d``,
    ``sales7d`` …); the window is chosen per campaign when the row is placed. Money in the profile's marketplace
    currency (``campaignBudgetCurrencyCode`` when reported, else the import's ``currency``)."""
    if not isinstance(payload, list):
        raise ReportError("an Amazon Ads report is a JSON array of rows")
    rows: list[PlatformRow] = []
    skipped: list[Skipped] = []
    for i, item in enumerate(payload):
        where = f"[{i}]"
        if not isinstance(item, dict):
            raise ReportError(f"{where}: not an object")
        campaign_id = _text(item.get("campaignId"))
        if campaign_id is None:
            skipped.append(Skipped(where, "no campaignId (group the report by campaign)"))
            continue
        day = item.get("date")
        if day is None:
            skipped.append(Skipped(where, "no date: ask timeUnit DAILY"))
            continue
        windows = {
            w: (_number(item.get(f"purchases{w}"), f"{where}.purchases{w}"), _number(item.get(f"sales{w}"), where))
            for w in AMAZON_WINDOWS
            if f"purchases{w}" in item or f"sales{w}" in item
        }
        rows.append(
            PlatformRow(
                account_id=_text(item.get("profileId")) or options.account_id,
                campaign_id=campaign_id,
                day=_day(day, f"{where}.date"),
                currency=_text(item.get("campaignBudgetCurrencyCode")) or options.currency,
                impressions=_count(item.get("impressions"), f"{where}.impressions"),
                clicks=_count(item.get("clicks"), f"{where}.clicks"),
                cost=_number(item.get("cost"), f"{where}.cost"),
                windows=windows,
            )
        )
    return Parsed("amazon_ads_report", rows, skipped, len(payload))


# --- Mailchimp (GET /3.0/reports/{campaign_id}, GET /3.0/reports) ---------------------------------------------


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(f"time_zone {name!r} is not an IANA time zone") from None


def mailchimp_report(payload: Any, options: Options) -> Parsed:
    """One campaign report, or ``{reports: [...]}``: one row per send, booked on ``send_time``'s day in the
    account's time zone. sends = ``emails_sent``, opens = ``opens.unique_opens`` (``opens_total`` counts
    repeats), clicks = ``clicks.unique_subscriber_clicks``, orders and revenue from ``ecommerce`` (revenue
    without shipping and tax, in ``ecommerce.currency_code``). An email has no impressions: its emails sent
    are counted as them, so clicks stay within the funnel."""
    reports = payload.get("reports") if isinstance(payload, dict) and "reports" in payload else [payload]
    if not isinstance(reports, list):
        raise ReportError("reports is not a list")
    zone = _zone(options.time_zone)
    rows: list[PlatformRow] = []
    skipped: list[Skipped] = []
    for i, report in enumerate(reports):
        where = f"reports[{i}]" if len(reports) > 1 or "reports" in payload else "report"
        if not isinstance(report, dict):
            raise ReportError(f"{where}: not an object")
        campaign_id = _text(report.get("id"))
        send_time = report.get("send_time")
        if campaign_id is None or not send_time:
            skipped.append(Skipped(where, "no id or send_time: not a sent campaign's report"))
            continue
        try:
            sent_at = datetime.fromisoformat(str(send_time).replace("Z", "+00:00"))
        except ValueError:
            raise ReportError(f"{where}.send_time: {send_time!r} is not a time") from None
        ecommerce = report.get("ecommerce") or {}
        sends = _count(report.get("emails_sent"), f"{where}.emails_sent")
        rows.append(
            PlatformRow(
                account_id=options.account_id,
                campaign_id=campaign_id,
                day=(sent_at.astimezone(zone) if sent_at.tzinfo else sent_at).date(),
                currency=_text(ecommerce.get("currency_code")) or options.currency,
                impressions=sends,
                clicks=_count(_get(report.get("clicks"), "unique_subscriber_clicks"), f"{where}.clicks"),
                conversions=_number(ecommerce.get("total_orders"), f"{where}.ecommerce.total_orders"),
                value=_number(ecommerce.get("total_revenue"), f"{where}.ecommerce.total_revenue"),
                sends=sends,
                opens=_count(_get(report.get("opens"), "unique_opens"), f"{where}.opens.unique_opens"),
                unsubscribes=_count(report.get("unsubscribed"), f"{where}.unsubscribed"),
            )
        )
    return Parsed("mailchimp_report", rows, skipped, len(reports))


# --- Klaviyo (POST /api/campaign-values-reports) ---------------------------------------------------------------


def klaviyo_campaign_values(payload: Any, options: Options) -> Parsed:
    """``{data: {type: campaign-values-report, attributes: {results: [{groupings, statistics}]}}}``: one
    result per campaign (and message, channel), over the request's timeframe — no day in it, so the import
    names the day it is booked on. sends = ``recipients`` (or ``delivered``), opens = ``opens_unique``,
    clicks = ``clicks_unique`` (never ``opens``/``clicks``, which count repeats), orders = ``conversions``,
    value = ``conversion_value`` (of the conversion metric the request named, in the account's currency)."""
    data = _get(payload, "data") or {}
    results = _get(_get(data, "attributes"), "results")
    if not isinstance(results, list):
        raise ReportError("no data.attributes.results list")
    if options.day is None:
        raise ReportError("a Klaviyo values report carries no day: say which day to book it on (date=YYYY-MM-DD)")
    rows: list[PlatformRow] = []
    skipped: list[Skipped] = []
    for i, result in enumerate(results):
        where = f"results[{i}]"
        groupings = _get(result, "groupings") or {}
        stats = _get(result, "statistics") or {}
        campaign_id = _text(groupings.get("campaign_id"))
        if campaign_id is None:
            skipped.append(Skipped(where, "no campaign_id grouping"))
            continue
        if _get(stats, "recipients", "delivered") is None:
            skipped.append(Skipped(where, "no recipients or delivered statistic: opens cannot be set against sends"))
            continue
        sends = _count(_get(stats, "recipients", "delivered"), f"{where}.recipients")
        # unique opens and clicks only: Klaviyo's ``opens`` and ``clicks`` count every open and click, repeats
        # included (as Mailchimp's opens_total does), so they can exceed the recipients of a true report
        opens = _count(_get(stats, "opens_unique"), f"{where}.opens_unique")
        rows.append(
            PlatformRow(
                account_id=options.account_id,
                campaign_id=campaign_id,
                day=options.day,
                currency=options.currency,
                impressions=sends,
                clicks=_count(_get(stats, "clicks_unique"), f"{where}.clicks_unique"),
                conversions=_number(_get(stats, "conversions", "conversion_uniques"), f"{where}.conversions"),
                value=_number(stats.get("conversion_value"), f"{where}.conversion_value"),
                sends=sends,
                opens=opens,
                unsubscribes=_count(_get(stats, "unsubscribe_uniques", "unsubscribes"), f"{where}.unsubscribes"),
            )
        )
    return Parsed("klaviyo_campaign_values", rows, skipped, len(results))


# --- recognising a payload --------------------------------------------------------------------------------------

JSON_PARSERS: dict[str, Callable[[Any, Options], Parsed]] = {
    "google_ads_api": google_ads_api,
    "meta_insights": meta_insights,
    "tiktok_report": tiktok_report,
    "amazon_ads_report": amazon_ads_report,
    "mailchimp_report": mailchimp_report,
    "klaviyo_campaign_values": klaviyo_campaign_values,
}
CSV_PARSERS: dict[str, Callable[[str, Options], Parsed]] = {
    "google_ads_csv": google_ads_csv,
    "meta_ads_manager_csv": meta_ads_manager_csv,
}


def _first(items: Iterable[Any]) -> Any:
    return next(iter(items), None)


def recognise_json(payload: Any) -> str | None:
    """The format of a JSON payload by its shape, or None."""
    first = _first(payload) if isinstance(payload, list) else payload
    if isinstance(payload, list) and isinstance(first, dict) and ("campaignId" in first or "date" in first):
        return "amazon_ads_report" if "results" not in first else "google_ads_api"
    if not isinstance(first, dict):
        return None
    if "results" in first or "summaryRow" in first or "fieldMask" in first:
        return "google_ads_api"
    data = first.get("data")
    if isinstance(data, dict) and "list" in data:
        return "tiktok_report"
    if isinstance(data, dict) and isinstance(data.get("attributes"), dict) and "results" in data["attributes"]:
        return "klaviyo_campaign_values"
    if isinstance(data, list) and ("paging" in first or any(isinstance(d, dict) and "date_start" in d for d in data)):
        return "meta_insights"
    if "emails_sent" in first or "reports" in first:
        return "mailchimp_report"
    return None


def recognise_csv(text: str) -> str | None:
    head = text[:4096]
    if re.search(r"Amount spent( \([A-Z]{3}\))?", head) and ("Reporting starts" in head or "Day" in head):
        return "meta_ads_manager_csv"
    if "Day" in head and ("Impr." in head or "Cost" in head):
        return "google_ads_csv"
    return None


def decode(raw: bytes) -> str:
    """The payload's text: UTF-16 with its byte-order mark (the Google Ads UI's "Excel CSV"), else UTF-8."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReportError("the report is neither UTF-8 nor UTF-16 text") from None


def parse(raw: bytes, fmt: str | None, options: Options) -> Parsed:
    """The payload read in ``fmt``, or in the format recognised from it (422 when none is)."""
    text = decode(raw)
    stripped = text.lstrip()
    if fmt is None or fmt in JSON_PARSERS:
        if stripped[:1] in ("{", "["):
            try:
                payload = json.loads(stripped, parse_float=Decimal)
            except ValueError as exc:
                raise ReportError(f"the report is not valid JSON: {exc}") from None
            chosen = fmt or recognise_json(payload)
            if chosen is None:
                raise ReportError("the JSON is none of the formats XBM reads; name it with format=")
            if chosen not in JSON_PARSERS:
                raise ReportError(f"{chosen} is a CSV format, and the report is JSON")
            return JSON_PARSERS[chosen](payload, options)
        if fmt is not None:
            raise ReportError(f"{fmt} is a JSON format, and the report is not JSON")
    chosen = fmt or recognise_csv(text)
    if chosen is None:
        raise ReportError("the report is none of the formats XBM reads; name it with format=")
    if chosen not in CSV_PARSERS:
        raise ReportError(f"{chosen} is a JSON format, and the report is not JSON")
    return CSV_PARSERS[chosen](text, options)
