"""Who may call what: the role table of the three services, written once.

From docs/api.md: `admin` does everything; `executive` writes plans and the strategic layer; `supervisor` the
tactical layer (customers, channels, products, SBUs), campaign kinds and event nodes; `specialist` campaigns,
metrics, experiments and reviews; `analyst` reads; `integration` ingests documents and metrics and reads
nothing else. Every role but integration reads everything in its organisation, except what docs/api.md (or the
route, for a stated reason) keeps for admins. Where the services chose more precisely than docs/api.md says, the
table follows the routes (their docstrings say why) — see the notes below.
"""

from __future__ import annotations

ROLES = ("admin", "executive", "supervisor", "specialist", "analyst", "integration")
READ = frozenset({"admin", "executive", "supervisor", "specialist", "analyst"})
ADMIN = frozenset({"admin"})


def writers(*roles: str) -> frozenset[str]:
    return frozenset({"admin", *roles})


#: the objects a plan holds, each with the roles that write it (every reader reads them)
PLAN_CHILDREN: dict[str, frozenset[str]] = {
    "environment-factors": writers("executive"),
    "swot-items": writers("executive"),
    "segments": writers("executive"),
    "customers": writers("supervisor"),
    "channels": writers("supervisor"),
    "products": writers("supervisor"),
    # docs/api.md names no writer for the execution objects; plans lets the layers that own them write them
    "innovations": writers("executive", "supervisor"),
    "reviews": writers("executive", "supervisor", "specialist"),
    "status-snapshots": writers("supervisor"),
    "membership-tiers": writers("supervisor"),
    "service-channels": writers("supervisor"),
}

#: the event subscriptions every service with events serves (admin only: they carry signing secrets)
SUBSCRIPTIONS: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/v1/subscriptions"): ADMIN,
    ("GET", "/v1/subscriptions"): ADMIN,
    ("GET", "/v1/subscriptions/{subscription_id}"): ADMIN,
    ("PATCH", "/v1/subscriptions/{subscription_id}"): ADMIN,
    ("DELETE", "/v1/subscriptions/{subscription_id}"): ADMIN,
    ("GET", "/v1/subscriptions/{subscription_id}/deliveries"): ADMIN,
    ("POST", "/v1/subscriptions/{subscription_id}/deliveries/{delivery_id}/replay"): ADMIN,
}

PLANS: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/v1/orgs/{org_id}"): READ,
    ("POST", "/v1/api-keys"): ADMIN,
    ("GET", "/v1/api-keys"): ADMIN,
    ("GET", "/v1/api-keys/{key_id}"): ADMIN,
    ("DELETE", "/v1/api-keys/{key_id}"): ADMIN,
    ("POST", "/v1/plans"): writers("executive"),
    ("GET", "/v1/plans"): READ,
    ("GET", "/v1/plans/{plan_id}"): READ,
    ("PATCH", "/v1/plans/{plan_id}"): writers("executive"),
    ("DELETE", "/v1/plans/{plan_id}"): writers("executive"),
    ("POST", "/v1/plans/{plan_id}/activate"): writers("executive"),
    ("GET", "/v1/plans/{plan_id}/health"): READ,
    ("GET", "/v1/plans/{plan_id}/audit"): READ,
    ("GET", "/v1/plans/{plan_id}/swot"): READ,
    ("GET", "/v1/plans/{plan_id}/targeting"): READ,
    ("PUT", "/v1/plans/{plan_id}/targeting"): writers("executive"),
    ("GET", "/v1/plans/{plan_id}/positioning"): READ,
    ("PUT", "/v1/plans/{plan_id}/positioning"): writers("executive"),
    ("POST", "/v1/plans/{plan_id}/sbus"): writers("supervisor"),
    ("GET", "/v1/plans/{plan_id}/sbus"): READ,
    ("GET", "/v1/plans/{plan_id}/sbu-grid"): READ,
    ("GET", "/v1/sbus/{sbu_id}"): READ,
    ("PATCH", "/v1/sbus/{sbu_id}"): writers("supervisor"),
    ("POST", "/v1/sbus/{sbu_id}/derive"): writers("supervisor"),
    ("POST", "/v1/sbus/{sbu_id}/retire"): writers("supervisor"),
    ("GET", "/v1/plans/{plan_id}/report"): READ,
}
for _path, _writers in PLAN_CHILDREN.items():
    _collection, _item = f"/v1/plans/{{plan_id}}/{_path}", f"/v1/plans/{{plan_id}}/{_path}/{{item_id}}"
    PLANS |= {
        ("GET", _collection): READ,
        ("POST", _collection): _writers,
        ("GET", _item): READ,
        ("PATCH", _item): _writers,
        ("DELETE", _item): _writers,
    }

CAMPAIGNS: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/v1/campaign-kinds"): READ,
    ("POST", "/v1/campaign-kinds"): writers("supervisor"),
    ("GET", "/v1/campaign-kinds/{key}"): READ,
    ("POST", "/v1/campaigns"): writers("specialist"),
    ("GET", "/v1/campaigns"): READ,
    ("GET", "/v1/campaigns/{campaign_id}"): READ,
    ("PATCH", "/v1/campaigns/{campaign_id}"): writers("specialist"),
    ("POST", "/v1/campaigns/{campaign_id}/transitions"): writers("specialist"),
    ("PUT", "/v1/campaigns/{campaign_id}/metrics"): writers("specialist", "integration"),
    ("POST", "/v1/campaigns/metrics/imports"): writers("specialist", "integration"),
    ("GET", "/v1/campaigns/{campaign_id}/performance"): READ,
    ("GET", "/v1/sbus/{sbu_id}/performance"): READ,
    ("POST", "/v1/campaigns/{campaign_id}/experiments"): writers("specialist"),
    ("GET", "/v1/campaigns/{campaign_id}/experiments"): READ,
    ("GET", "/v1/experiments/{experiment_id}"): READ,
    ("GET", "/v1/experiments/{experiment_id}/analysis"): READ,
    ("POST", "/v1/experiments/{experiment_id}/decision"): writers("specialist"),
    ("GET", "/v1/experiments/{experiment_id}/plan"): READ,
    # event nodes carry a budget for a platform's sales event: a supervisor's decision, like campaign kinds
    ("POST", "/v1/event-nodes"): writers("supervisor"),
    ("GET", "/v1/event-nodes"): READ,
    ("GET", "/v1/event-nodes/{node_id}"): READ,
    ("POST", "/v1/campaigns/{campaign_id}/reviews"): writers("specialist"),
    ("GET", "/v1/campaigns/{campaign_id}/reviews"): READ,
    ("GET", "/v1/campaigns/{campaign_id}/reviews/{review_id}"): READ,
}

INGEST = writers("integration")
COMPLIANCE: dict[tuple[str, str], frozenset[str]] = {
    # item records are fed by the seller's systems (integration), like the documents that use them
    ("PUT", "/v1/compliance/items/{item_no}"): INGEST,
    ("GET", "/v1/compliance/items/{item_no}"): READ,
    ("GET", "/v1/compliance/items"): READ,
    ("GET", "/v1/compliance/customs-profile"): ADMIN,
    ("PUT", "/v1/compliance/customs-profile"): ADMIN,
    ("POST", "/v1/compliance/customs-profiles"): ADMIN,
    ("GET", "/v1/compliance/customs-profiles"): ADMIN,
    ("GET", "/v1/compliance/customs-profiles/{profile_id}"): ADMIN,
    ("PATCH", "/v1/compliance/customs-profiles/{profile_id}"): ADMIN,
    ("DELETE", "/v1/compliance/customs-profiles/{profile_id}"): ADMIN,
    ("POST", "/v1/compliance/payment-institutions"): ADMIN,
    ("GET", "/v1/compliance/payment-institutions"): READ,
    ("GET", "/v1/compliance/payment-institutions/{institution_id}"): READ,
    ("PATCH", "/v1/compliance/payment-institutions/{institution_id}"): ADMIN,
    ("POST", "/v1/compliance/sources"): ADMIN,
    ("GET", "/v1/compliance/sources"): ADMIN,
    ("GET", "/v1/compliance/sources/{source_id}"): ADMIN,
    ("DELETE", "/v1/compliance/sources/{source_id}"): ADMIN,
    ("POST", "/v1/compliance/sources/{source_id}/secret"): ADMIN,
    ("POST", "/v1/compliance/orders"): INGEST,
    ("GET", "/v1/compliance/orders"): READ,
    ("POST", "/v1/compliance/payments"): INGEST,
    ("POST", "/v1/compliance/waybills"): INGEST,
    ("POST", "/v1/compliance/messages"): INGEST,
    ("GET", "/v1/compliance/orders/{ebp_code}/{order_no}"): READ,
    # completing an incomplete order is the sender's work, like the documents
    ("PATCH", "/v1/compliance/orders/{ebp_code}/{order_no}"): INGEST,
    # comparing an order again (and declaring again a refused one) follows a correction: the sender's work too
    ("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/rematch"): INGEST,
    # a return is reported by the seller's systems, like the documents
    ("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/returns"): INGEST,
    # accepting customs' tax bill over XBM's figure settles money: the admin's decision; computing XBM's tax again
    # after an item record is corrected follows the correction, like a rematch
    ("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/tax/accept"): ADMIN,
    ("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/tax/recompute"): INGEST,
    # the declaration XML carries the buyer's ID number in full: only the sender (integration) and admins
    ("GET", "/v1/compliance/declarations/{declaration_id}/xml"): INGEST,
    ("GET", "/v1/compliance/declarations/{declaration_id}/order-xml"): INGEST,
    ("GET", "/v1/compliance/declarations/{declaration_id}/payment-xml"): INGEST,
    ("GET", "/v1/compliance/declarations/{declaration_id}/cancellation-xml"): INGEST,
    ("GET", "/v1/compliance/returns/{return_id}/xml"): INGEST,
    ("GET", "/v1/compliance/summaries/{summary_id}/xml"): INGEST,
    ("GET", "/v1/compliance/summaries"): READ,
    ("GET", "/v1/compliance/summaries/{summary_id}"): READ,
    # the master bill is reported by the seller's systems (or its logistics company's), like the waybills
    ("POST", "/v1/compliance/master-bills"): INGEST,
    ("GET", "/v1/compliance/master-bills/{link_id}/xml"): INGEST,
    ("GET", "/v1/compliance/master-bills/{link_id}"): READ,
    ("GET", "/v1/compliance/returns/{return_id}"): READ,
    ("POST", "/v1/compliance/returns/{return_id}/goods-back"): INGEST,
    ("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/export-returns"): INGEST,
    ("GET", "/v1/compliance/export-returns/{return_id}"): READ,
    ("POST", "/v1/compliance/export-returns/{return_id}/tally"): INGEST,
    ("GET", "/v1/compliance/export-returns/{return_id}/xml"): INGEST,
    ("GET", "/v1/compliance/export-returns/{return_id}/tally-xml"): INGEST,
    # withdrawing a declaration and summarising a month for customs are the seller's own decisions
    ("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/cancellation"): ADMIN,
    ("POST", "/v1/compliance/summaries"): ADMIN,
    # a B2B export declared by customs declaration (报关单): the broker's document names the consignee, like the
    # declaration XML; recording the broker's declaration or routing again follows the seller's systems
    ("GET", "/v1/compliance/orders/{ebp_code}/{order_no}/customs-declaration"): INGEST,
    ("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/customs-declaration/declared"): INGEST,
    ("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/declared-elsewhere"): INGEST,
    ("POST", "/v1/compliance/orders/{ebp_code}/{order_no}/customs-declaration/reroute"): INGEST,
    # exchange rates are set like the item records (the seller's systems), read by everyone
    ("PUT", "/v1/compliance/exchange-rates/{currency}/{day}"): INGEST,
    ("GET", "/v1/compliance/exchange-rates/{currency}/{day}"): READ,
    ("GET", "/v1/compliance/exchange-rates"): READ,
    ("GET", "/v1/compliance/exceptions"): READ,
    ("GET", "/v1/compliance/quota"): READ,
    ("GET", "/v1/compliance/reports/daily"): READ,
    ("GET", "/v1/compliance/customers/summary"): READ,
    ("GET", "/v1/compliance/customers/lifecycle"): READ,
    ("PUT", "/v1/compliance/customers/lifecycle"): ADMIN,
    ("GET", "/v1/compliance/audiences"): ADMIN,
    # erasing a buyer's personal data, and the record of what was erased, are the organisation's own decisions
    ("POST", "/v1/compliance/customers/{customer_id}/erasure"): ADMIN,
    ("GET", "/v1/compliance/erasures"): ADMIN,
}

PERMISSIONS: dict[str, dict[tuple[str, str], frozenset[str]]] = {
    "plans": PLANS | SUBSCRIPTIONS,
    "campaigns": CAMPAIGNS | SUBSCRIPTIONS,
    "compliance": COMPLIANCE | SUBSCRIPTIONS,
}


def allowed(service: str, method: str, path: str) -> frozenset[str]:
    table = PERMISSIONS[service]
    if (method, path) not in table:
        raise LookupError(
            f"{service}: {method} {path} is not in the role table: add it to tests/security/permissions.py "
            "with the roles that may call it"
        )
    return table[(method, path)]
