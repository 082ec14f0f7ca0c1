"""workers.birth_date encrypted (birth_date_cipher): beside the ID mask it gave the whole ID number

The mask keeps ID digits 1–6 and 15–18; the plain birth date was digits 7–14. Existing dates are
encrypted with the app's DATA_KEY (AES-256-GCM, context "worker.birth_date"), in batches, then
the plain column is dropped. Downgrade decrypts them back.

Revision ID: 7338e001e863
Revises: c4b94460e5dd
Create Date: 2026-12-02 19:05:00
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "7338e001e863"
down_revision = "c4b94460e5dd"
branch_labels = None
depends_on = None

_CONTEXT = "worker.birth_date"
_BATCH = 1000
_WORKERS = sa.table("workers", sa.column("id", sa.Integer), sa.column("birth_date", sa.Date),
                    sa.column("birth_date_cipher", sa.LargeBinary))


def _cipher():
    # The migration runs inside the app (flask db upgrade), so the key is the one the app reads with.
    from app import crypto

    return crypto.cipher()


def _columns():
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns("workers")}


def _convert(source, target, transform):
    """Fill `target` from `source` for every row that has one, a batch of ids at a time."""
    bind = op.get_bind()
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(_WORKERS.c.id, _WORKERS.c[source])
            .where(_WORKERS.c.id > last_id, _WORKERS.c[source].is_not(None))
            .order_by(_WORKERS.c.id).limit(_BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            _WORKERS.update().where(_WORKERS.c.id == sa.bindparam("row_id")).values({target: sa.bindparam("value")}),
            [{"row_id": row_id, "value": transform(value)} for row_id, value in rows],
        )
        last_id = rows[-1][0]


def upgrade():
    field_cipher = _cipher()
    # MariaDB commits each ALTER on its own: checking first lets a run that stopped half-way be re-run.
    if "birth_date_cipher" not in _columns():
        op.add_column("workers", sa.Column("birth_date_cipher", sa.LargeBinary(length=128), nullable=True))
    if "birth_date" in _columns():
        _convert("birth_date", "birth_date_cipher",
                 lambda value: field_cipher.encrypt(_as_date(value).isoformat(), _CONTEXT))
        with op.batch_alter_table("workers", schema=None) as batch_op:
            batch_op.drop_column("birth_date")


def downgrade():
    field_cipher = _cipher()
    if "birth_date" not in _columns():
        op.add_column("workers", sa.Column("birth_date", sa.Date(), nullable=True))
    if "birth_date_cipher" in _columns():
        _convert("birth_date_cipher", "birth_date",
                 lambda value: date.fromisoformat(field_cipher.decrypt(bytes(value), _CONTEXT)))
        with op.batch_alter_table("workers", schema=None) as batch_op:
            batch_op.drop_column("birth_date_cipher")


def _as_date(value):
    # SQLite hands a lightweight table's Date column back as text.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
