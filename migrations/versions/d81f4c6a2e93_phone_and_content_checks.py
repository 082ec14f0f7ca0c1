"""the worker's WeChat-verified mobile (workers.mobile_verified_at) and content checks (内容安全, msgSecCheck)

Revision ID: d81f4c6a2e93
Revises: c5e8a2d4f1b7
Create Date: 2026-12-07 02:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "d81f4c6a2e93"
down_revision = "c5e8a2d4f1b7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("workers") as batch:
        batch.add_column(sa.Column("mobile_verified_at", sa.DateTime(), nullable=True))
    op.create_table(
        "content_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("content", sa.String(length=700), nullable=False),
        sa.Column("scene", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("label", sa.Integer(), nullable=True),
        sa.Column("trace_id", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_check_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.Column("handled_by", sa.Integer(), nullable=True),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("note", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"]),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["handled_by"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_content_checks_status", "content_checks", ["status", "next_check_at"])
    op.create_index("ix_content_checks_worker", "content_checks", ["worker_id", "field"])


def downgrade():
    op.drop_index("ix_content_checks_worker", table_name="content_checks")
    op.drop_index("ix_content_checks_status", table_name="content_checks")
    op.drop_table("content_checks")
    with op.batch_alter_table("workers") as batch:
        batch.drop_column("mobile_verified_at")
