"""Which service must answer which public path: one table for the nginx gateway and the Kubernetes Ingress."""

from __future__ import annotations

# (path the client asks for, service that must get it, path the service must see)
ROUTES: list[tuple[str, str, str]] = [
    ("/v1/orgs", "plans", "/v1/orgs"),
    ("/v1/api-keys/k1", "plans", "/v1/api-keys/k1"),
    ("/v1/auth/token", "plans", "/v1/auth/token"),
    ("/v1/auth/jwks", "plans", "/v1/auth/jwks"),
    ("/v1/plans", "plans", "/v1/plans"),
    ("/v1/plans/p1/sbu-grid?limit=5", "plans", "/v1/plans/p1/sbu-grid?limit=5"),
    ("/v1/sbus/s1", "plans", "/v1/sbus/s1"),
    ("/v1/sbus/s1/derive", "plans", "/v1/sbus/s1/derive"),
    ("/v1/sbus/s1/retire", "plans", "/v1/sbus/s1/retire"),
    ("/v1/sbus/s1/performance", "campaigns", "/v1/sbus/s1/performance"),
    ("/v1/campaign-kinds", "campaigns", "/v1/campaign-kinds"),
    ("/v1/campaigns/c1/metrics", "campaigns", "/v1/campaigns/c1/metrics"),
    ("/v1/campaigns/c1/performance", "campaigns", "/v1/campaigns/c1/performance"),
    ("/v1/experiments/e1/analysis", "campaigns", "/v1/experiments/e1/analysis"),
    ("/v1/event-nodes", "campaigns", "/v1/event-nodes"),
    ("/v1/compliance/orders", "compliance", "/v1/compliance/orders"),
    ("/v1/compliance/webhooks/src1", "compliance", "/v1/compliance/webhooks/src1"),
    ("/plans/v1/subscriptions", "plans", "/v1/subscriptions"),
    ("/plans/v1/subscriptions/s1/deliveries?limit=5", "plans", "/v1/subscriptions/s1/deliveries?limit=5"),
    ("/campaigns/v1/subscriptions/s1", "campaigns", "/v1/subscriptions/s1"),
    ("/compliance/v1/subscriptions/s1/deliveries/d1/replay", "compliance", "/v1/subscriptions/s1/deliveries/d1/replay"),
]

# paths no service may be reached on through the public entry
UNROUTED: list[str] = ["/v1/subscriptions", "/v1/subscriptions/s1", "/v1/plansx", "/metrics", "/readyz", "/docs"]

SERVICES = ("plans", "campaigns", "compliance")
