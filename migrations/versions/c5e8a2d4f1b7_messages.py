"""messages to workers and staff (订阅消息 outbox and in-app inbox) and one-time subscription grants

Revision ID: c5e8a2d4f1b7
Revises: f3a9d6c1e2b8
Create Date: 2026-12-07 01:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = "c5e8a2d4f1b7"
down_revision = "f3a9d6c1e2b8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "subscription_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=32), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_subscription_grants_unused", "subscription_grants", ["worker_id", "template", "used_at"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_kind", sa.String(length=8), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("template", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=96), nullable=True),
        sa.Column("title", sa.String(length=40), nullable=False),
        sa.Column("body", sa.String(length=500), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("page", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("delivery", sa.String(length=8), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("errcode", sa.Integer(), nullable=True),
        sa.Column("failure", sa.String(length=24), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"]),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"]),
        sa.ForeignKeyConstraint(["grant_id"], ["subscription_grants.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_messages_due", "messages", ["delivery", "next_attempt_at"])
    op.create_index("ix_messages_worker", "messages", ["worker_id", "id"])
    op.create_index("ix_messages_staff", "messages", ["staff_user_id", "read_at"])


def downgrade():
    op.drop_index("ix_messages_staff", table_name="messages")
    op.drop_index("ix_messages_worker", table_name="messages")
    op.drop_index("ix_messages_due", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_subscription_grants_unused", table_name="subscription_grants")
    op.drop_table("subscription_grants")
