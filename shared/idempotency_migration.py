"""The idempotency table's DDL (:func:`shared.idempotency.idempotency_table`), written once for every service's
Alembic migrations, versioned as :mod:`shared.events.migration` is: a migration calls the step that was current
when it was written, so an old migration keeps producing exactly the schema it always produced."""

from __future__ import annotations

from types import ModuleType

import sqlalchemy as sa

from shared.db import UTCDateTime


def create_idempotency_table_v1(op: ModuleType) -> None:
    """``idempotency_keys`` as XBM's first migrations created it (before the principal was kept)."""
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("headers", sa.String(length=4000), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_keys_scope_key")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_keys_expires_at"), ["expires_at"], unique=False)


def drop_idempotency_table_v1(op: ModuleType) -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_expires_at"))
    op.drop_table("idempotency_keys")


def add_idempotency_principal(op: ModuleType) -> None:
    """v2: the principal (API key id) a recorded answer belongs to; only it gets the replay."""
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("principal", sa.String(length=64), nullable=True))


def drop_idempotency_principal(op: ModuleType) -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_column("principal")
