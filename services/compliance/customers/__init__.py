"""The customer register: who bought what, built from the orders customs released (README, customer status)."""
