"""staff who also use the mini-program (员工绑定小程序)

- staff_users.worker_id: the mini-program login a staff member linked to their console account (one each
  way, unique), so their staff alerts can also go out as subscribe messages.

Revision ID: d8f2b6a41c93
Revises: d81f4c6a2e93
Create Date: 2026-12-07 02:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "d8f2b6a41c93"
down_revision = "d81f4c6a2e93"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint("uq_staff_users_worker_id", ["worker_id"])
        batch_op.create_foreign_key("fk_staff_users_worker_id_workers", "workers", ["worker_id"], ["id"])


def downgrade():
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_constraint("fk_staff_users_worker_id_workers", type_="foreignkey")
        batch_op.drop_constraint("uq_staff_users_worker_id", type_="unique")
        batch_op.drop_column("worker_id")
