"""mutual recognition at the checkpoint (互认): workers registered from another city's certificate

- workers.registered_checkpoint_id: a worker a checkpoint registered from a partner's health certificate
  and their ID card (no openid yet); they claim the row when they sign up in the mini-program.
- ix_scan_events_certificate: a partner's certificate names its worker here by the scan that registered it.

Revision ID: b81d5e3c9f20
Revises: a4c2f0e9d713
Create Date: 2026-12-06 22:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "b81d5e3c9f20"
down_revision = "a4c2f0e9d713"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registered_checkpoint_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_workers_registered_checkpoint", "checkpoints",
                                    ["registered_checkpoint_id"], ["id"])
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.create_index("ix_scan_events_certificate", ["certificate_issuer", "certificate_serial"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_events_certificate")
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_constraint("fk_workers_registered_checkpoint", type_="foreignkey")
        batch_op.drop_column("registered_checkpoint_id")
