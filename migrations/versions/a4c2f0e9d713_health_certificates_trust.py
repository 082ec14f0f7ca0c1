"""health certificates (健康证明) and mutual recognition (互认): key purposes, revocation kinds, partners

- signing_keys.purpose: "trip" (every existing key), "certificate" or "root".
- revocations.kind: "trip" (every existing row) or "certificate"; a serial is unique within its kind.
- health_certificates: what this deployment issued; trust_partners: the lists it imported.
- scan_events.certificate_issuer / certificate_serial: a certificate scanned at a checkpoint.

Revision ID: a4c2f0e9d713
Revises: e7a1c9d4b2f6
Create Date: 2026-12-06 22:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "a4c2f0e9d713"
down_revision = "e7a1c9d4b2f6"
branch_labels = None
depends_on = None

MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci", "mysql_engine": "InnoDB"}


def upgrade():
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purpose", sa.String(length=16), server_default="trip", nullable=False))
    with op.batch_alter_table("revocations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="trip", nullable=False))
        batch_op.drop_constraint("uq_revocations_serial", type_="unique")
        batch_op.create_unique_constraint("uq_revocations_kind_serial", ["kind", "serial"])
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("certificate_issuer", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("certificate_serial", sa.Integer(), nullable=True))
    op.create_table(
        "health_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("kid", sa.String(length=8), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("valid_until", sa.DateTime(), nullable=False),
        sa.Column("issued_by_kind", sa.String(length=8), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["county_code"], ["counties.code"], name=op.f("fk_health_certificates_county_code_counties")),
        sa.ForeignKeyConstraint(["issued_by_id"], ["staff_users.id"], name=op.f("fk_health_certificates_issued_by_id_staff_users")),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], name=op.f("fk_health_certificates_worker_id_workers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_certificates")),
        **MYSQL_TABLE,
    )
    with op.batch_alter_table("health_certificates", schema=None) as batch_op:
        batch_op.create_index("ix_health_certificates_worker", ["worker_id", "issued_at"], unique=False)
    op.create_table(
        "trust_partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=512), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("list_issued_at", sa.DateTime(), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_partners")),
        sa.UniqueConstraint("deployment_id", name=op.f("uq_trust_partners_deployment_id")),
        **MYSQL_TABLE,
    )


def downgrade():
    op.drop_table("trust_partners")
    with op.batch_alter_table("health_certificates", schema=None) as batch_op:
        batch_op.drop_index("ix_health_certificates_worker")
    op.drop_table("health_certificates")
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.drop_column("certificate_serial")
        batch_op.drop_column("certificate_issuer")
    op.execute("DELETE FROM revocations WHERE kind = 'certificate'")
    with op.batch_alter_table("revocations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_revocations_kind_serial", type_="unique")
        batch_op.create_unique_constraint("uq_revocations_serial", ["serial"])
        batch_op.drop_column("kind")
    op.execute("DELETE FROM signing_keys WHERE purpose <> 'trip'")
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.drop_column("purpose")
