"""idempotency requests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 15:00:00

Written by hand: servicekit.idempotency.idempotency_table (Idempotency-Key on creating RPCs).
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_requests',
    sa.Column('principal', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('response', sa.LargeBinary(), nullable=True),
    sa.Column('grpc_status', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('principal', 'key', 'method', name='pk_idempotency_requests')
    )
    with op.batch_alter_table('idempotency_requests', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_requests_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('idempotency_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_requests_created_at')

    op.drop_table('idempotency_requests')
