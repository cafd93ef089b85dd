"""The customer register: who bought what, built from the orders customs released (RULES.md §2–3)."""
