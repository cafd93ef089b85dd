"""The organisation's customer status as compliance computes it from the orders customs released, kept as a
read model and shown beside the plan's own snapshots (plans calls no one: it arrives as an event)."""
