"""the counties confirmed for each partner deployment (互认)

- trust_partners.counties: the county codes a partner's keys claimed when an operator added it; a later
  list may not widen them and its keys are trusted only for these. Partners added before this get the
  counties of the list stored now.

Revision ID: f3a9d6c1e2b8
Revises: b81d5e3c9f20
Create Date: 2026-12-06 23:00:00
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "f3a9d6c1e2b8"
down_revision = "b81d5e3c9f20"
branch_labels = None
depends_on = None

KEY_USES = ("trip", "certificate")


def _claimed(document):
    """The counties a stored list's issuer keys claim (as trust_lists.counties_of, without importing the app)."""
    if isinstance(document, str):
        document = json.loads(document)
    return sorted({county for key in document.get("keys") or () if key.get("use") in KEY_USES
                   and key.get("algorithm") == "Ed25519" and isinstance(key.get("counties"), list)
                   for county in key["counties"] if isinstance(county, str)})


def upgrade():
    with op.batch_alter_table("trust_partners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("counties", sa.JSON(), nullable=True))
    partners = sa.table("trust_partners", sa.column("id", sa.Integer()), sa.column("document", sa.JSON()),
                        sa.column("counties", sa.JSON()))
    connection = op.get_bind()
    for partner_id, document in connection.execute(sa.select(partners.c.id, partners.c.document)).all():
        connection.execute(partners.update().where(partners.c.id == partner_id)
                           .values(counties=_claimed(document)))
    with op.batch_alter_table("trust_partners", schema=None) as batch_op:
        batch_op.alter_column("counties", existing_type=sa.JSON(), nullable=False)


def downgrade():
    with op.batch_alter_table("trust_partners", schema=None) as batch_op:
        batch_op.drop_column("counties")
