"""plans.version: an optimistic version, so two operators editing one draft cannot overwrite each other

Every move, crew change, publish or discard adds one; a change that names the version it was
shown and finds another is refused with 409 plan_changed. Existing plans start at 1.

Revision ID: 5d2e8c41a7b3
Revises: 7338e001e863
Create Date: 2026-12-06 16:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "5d2e8c41a7b3"
down_revision = "7338e001e863"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("version")
