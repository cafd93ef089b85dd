"""``xbm plan import``: a whole 13N1 plan from one YAML file, created through the plans API in order.

The file uses the API's field names (docs/api.md). Objects refer to each other by name instead of by id: wherever the
API takes ``<thing>_id`` the file may write ``<thing>: <name>`` (``segment``, ``target_segment``, ``customer``,
``channel``, ``product``, ``factor``), and ``targeting`` takes ``segments: [names]``. An environment factor
has no name in the API, so it may carry a ``ref`` that SWOT items name in ``factor``; ``ref`` is not sent.
Products are named by ``name`` or ``sku``. Top-level keys::

    plan                 the body of POST /v1/plans (name, period_start, period_end, base_currency, trade_direction)
    environment_factors  swot_items  segments  targeting  positioning          (strategic layer)
    customers  channels  products  sbus                                          (tactical layer)
    innovations  reviews  status_snapshots  membership_tiers  service_channels (the rest, sent as written)
    activate             true to POST /v1/plans/{id}/activate at the end

Every reference is checked before the first request, so a file with a dangling name sends nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from xbm.cli.errors import usage

# (file key, API path under the plan, the name objects are referred to by)
LISTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("environment_factors", "environment-factors", ("ref",)),
    ("swot_items", "swot-items", ()),
    ("segments", "segments", ("name",)),
    ("customers", "customers", ("name",)),
    ("channels", "channels", ("name",)),
    ("products", "products", ("name", "sku")),
    ("sbus", "sbus", ()),
    ("innovations", "innovations", ()),
    ("reviews", "reviews", ()),
    ("status_snapshots", "status-snapshots", ()),
    ("membership_tiers", "membership-tiers", ()),
    ("service_channels", "service-channels", ()),
)
SINGLE = ("targeting", "positioning")
KNOWN_KEYS = {"plan", "activate", *SINGLE, *(key for key, _, _ in LISTS)}
MAX_ITEMS = 1000
# the references a field may make: field in the file -> (API field, file key of the objects it names)
REFERENCES: dict[str, dict[str, tuple[str, str]]] = {
    "swot_items": {"factor": ("factor_id", "environment_factors")},
    "customers": {"segment": ("segment_id", "segments")},
    "sbus": {
        "customer": ("customer_id", "customers"),
        "channel": ("channel_id", "channels"),
        "product": ("product_id", "products"),
    },
    "positioning": {"target_segment": ("target_segment_id", "segments")},
}


@dataclass(frozen=True)
class Step:
    """One request of the import: what to send, and under which names to remember the created id."""

    label: str
    method: str
    path: str  # may hold {plan_id}
    build: Callable[[dict[str, dict[str, str]]], dict[str, Any] | None]  # ids known so far -> request body
    kind: str | None = None
    names: tuple[str, ...] = ()


@dataclass
class PlanFile:
    plan: dict[str, Any]
    steps: list[Step] = field(default_factory=list)


def _plain(value: Any) -> Any:
    """YAML dates become the strings the API expects."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise usage(f"{where} must be a mapping")
    return value


def _items(document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = document.get(key) or []
    if not isinstance(value, list):
        raise usage(f"{key} must be a list")
    if len(value) > MAX_ITEMS:
        raise usage(f"{key} has more than {MAX_ITEMS} entries")
    return [_mapping(item, f"{key}[{i}]") for i, item in enumerate(value)]


def _names(items: list[dict[str, Any]], key: str, name_fields: tuple[str, ...]) -> list[tuple[str, ...]]:
    seen: set[str] = set()
    result = []
    for i, item in enumerate(items):
        names = tuple(str(item[f]) for f in name_fields if item.get(f) is not None)
        for name in names:
            if name in seen:
                raise usage(f"{key}[{i}]: the name {name!r} is used twice")
            seen.add(name)
        result.append(names)
    return result


def _resolver(key: str, item: dict[str, Any], where: str, known: dict[str, set[str]]) -> Callable[..., dict]:
    """Check the item's references now; return the function that swaps names for ids at send time."""
    refs = REFERENCES.get(key, {})
    for ref_field, (api_field, target) in refs.items():
        if ref_field in item and api_field in item:
            raise usage(f"{where}: give {ref_field} or {api_field}, not both")
        if ref_field in item and str(item[ref_field]) not in known[target]:
            raise usage(f"{where}: {ref_field} {item[ref_field]!r} names nothing in {target}")
    body = {k: v for k, v in item.items() if k != "ref"}

    def build(ids: dict[str, dict[str, str]]) -> dict[str, Any]:
        out = dict(body)
        for ref_field, (api_field, target) in refs.items():
            if ref_field in out:
                out[api_field] = ids[target][str(out.pop(ref_field))]
        return out

    return build


def _targeting_step(value: Any, known: dict[str, set[str]]) -> Step:
    targeting = _mapping(value, "targeting")
    names = targeting.get("segments", [])
    if set(targeting) - {"segments", "segment_ids"} or not isinstance(names, list):
        raise usage("targeting takes segments: [segment names] (or segment_ids)")
    for name in names:
        if str(name) not in known["segments"]:
            raise usage(f"targeting: segment {name!r} names nothing in segments")
    given = list(targeting.get("segment_ids") or [])

    def build(ids: dict[str, dict[str, str]]) -> dict[str, Any]:
        return {"segment_ids": given + [ids["segments"][str(n)] for n in names]}

    return Step("targeting", "PUT", "/v1/plans/{plan_id}/targeting", build)


def parse(text: str) -> PlanFile:
    """Read and check a plan file; the steps it returns send the plan once run in order."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise usage(f"the plan file is not valid YAML: {exc}") from None
    document = _plain(_mapping(document, "the plan file"))
    unknown = sorted(set(document) - KNOWN_KEYS)
    if unknown:
        raise usage(f"unknown top-level key(s) {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_KEYS))}")
    plan = _mapping(document.get("plan"), "plan")

    items = {key: _items(document, key) for key, _, _ in LISTS}
    named = {key: _names(items[key], key, fields) for key, _, fields in LISTS}
    known = {key: {n for names in named[key] for n in names} for key in named}
    steps: list[Step] = []
    singles_after = {"segments": ["targeting", "positioning"]}
    for key, path, _ in LISTS:
        for i, item in enumerate(items[key]):
            label = f"{key}[{i}]" + (f" {named[key][i][0]}" if named[key][i] else "")
            build = _resolver(key, item, f"{key}[{i}]", known)
            steps.append(Step(label, "POST", f"/v1/plans/{{plan_id}}/{path}", build, key, named[key][i]))
        for single in singles_after.get(key, []):
            if document.get(single) is None:
                continue
            if single == "targeting":
                steps.append(_targeting_step(document[single], known))
            else:
                body = _mapping(document[single], single)
                build = _resolver(single, body, single, known)
                steps.append(Step(single, "PUT", f"/v1/plans/{{plan_id}}/{single}", build))
    activate = document.get("activate", False)
    if not isinstance(activate, bool):
        raise usage("activate must be true or false")
    if activate:
        steps.append(Step("activate", "POST", "/v1/plans/{plan_id}/activate", lambda _: None))
    return PlanFile(plan=plan, steps=steps)
