"""Events between XBM's services and to its tenants' webhooks (docs/events.md).

- :mod:`shared.events.contracts`: the base of every event payload model (its type name lives on the class)
- :mod:`shared.events.tables`: the outbox, delivery, subscription and inbox tables each service declares
- :mod:`shared.events.outbox`: :func:`~shared.events.outbox.publish` in the caller's transaction, the envelope
- :mod:`shared.events.relay`: delivering the outbox, signed with Standard Webhooks
- :mod:`shared.events.subscriptions`: ``/v1/subscriptions`` (routes, schemas) and the internal subscriptions
  between services
- :mod:`shared.events.inbox`: receiving another service's events, dispatched to ``@handles`` handlers
- :mod:`shared.events.migration`: the tables' DDL, once, for each service's Alembic migration
"""
