"""openid compared byte for byte on MySQL/MariaDB

WeChat openids are case-sensitive, but utf8mb4_unicode_ci treats "oAbC" and "oabc" as one
value, so two people could share a worker row. SQLite already compares bytes.

Revision ID: b3c41d2e7a10
Revises: 9f81139f5638
Create Date: 2026-11-28 18:45:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "b3c41d2e7a10"
down_revision = "9f81139f5638"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "mysql":
        op.alter_column("workers", "openid", existing_type=sa.String(64), existing_nullable=False,
                        type_=mysql.VARCHAR(64, collation="utf8mb4_bin"))


def downgrade():
    if op.get_bind().dialect.name == "mysql":
        op.alter_column("workers", "openid", existing_type=mysql.VARCHAR(64, collation="utf8mb4_bin"),
                        existing_nullable=False, type_=mysql.VARCHAR(64, collation="utf8mb4_unicode_ci"))
