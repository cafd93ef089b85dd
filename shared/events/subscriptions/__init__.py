"""``/v1/subscriptions`` on every service: tenants' webhook subscriptions, their deliveries and replays
(:mod:`.routes`, bodies in :mod:`.schemas`), and the internal subscriptions one service registers with another,
authorised by the service secret (:mod:`.system`)."""
