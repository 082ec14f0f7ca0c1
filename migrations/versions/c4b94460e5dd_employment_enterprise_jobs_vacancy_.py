"""employment: enterprise jobs, vacancy interest, roster, liaison list, isolation details

Revision ID: c4b94460e5dd
Revises: 10c18bfed69b
Create Date: 2026-11-28 20:53:38.971180

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql


# revision identifiers, used by Alembic.
revision = 'c4b94460e5dd'
down_revision = '10c18bfed69b'
branch_labels = None
depends_on = None

MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci", "mysql_engine": "InnoDB"}


def _openid_type():
    # Keep the byte-for-byte collation of b3c41d2e7a10 on MySQL while changing nullability.
    if op.get_bind().dialect.name == "mysql":
        return mysql.VARCHAR(64, collation="utf8mb4_bin")
    return sa.VARCHAR(length=64)


def upgrade():
    op.create_table('enterprise_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('job_type', sa.String(length=64), nullable=False),
    sa.Column('filled', sa.Integer(), nullable=False),
    sa.Column('short', sa.Integer(), nullable=False),
    sa.Column('remarks', sa.String(length=255), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_enterprise_jobs_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_jobs')),
    sa.UniqueConstraint('enterprise_id', 'job_type', name=op.f('uq_enterprise_jobs_enterprise_id')),
    **MYSQL_TABLE,
    )
    op.create_table('liaison_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('unit_name', sa.String(length=128), nullable=False),
    sa.Column('leader_name', sa.String(length=50), nullable=False),
    sa.Column('leader_office_phone', sa.String(length=32), nullable=True),
    sa.Column('leader_mobile_cipher', sa.LargeBinary(length=128), nullable=True),
    sa.Column('leader_mobile_mask', sa.String(length=11), nullable=True),
    sa.Column('liaison_name', sa.String(length=50), nullable=False),
    sa.Column('liaison_office_phone', sa.String(length=32), nullable=True),
    sa.Column('liaison_mobile_cipher', sa.LargeBinary(length=128), nullable=True),
    sa.Column('liaison_mobile_mask', sa.String(length=11), nullable=True),
    sa.Column('liaison_wechat', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['staff_users.id'], name=op.f('fk_liaison_units_updated_by_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_liaison_units')),
    sa.UniqueConstraint('unit_name', name=op.f('uq_liaison_units_unit_name')),
    **MYSQL_TABLE,
    )
    op.create_table('roster_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=128), nullable=False),
    sa.Column('arrival_date', sa.Date(), nullable=False),
    sa.Column('transport', sa.String(length=16), nullable=False),
    sa.Column('transport_number', sa.String(length=32), nullable=True),
    sa.Column('registered_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_roster_entries_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['registered_by'], ['staff_users.id'], name=op.f('fk_roster_entries_registered_by_staff_users')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_roster_entries_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_entries')),
    sa.UniqueConstraint('enterprise_id', 'worker_id', name=op.f('uq_roster_entries_enterprise_id')),
    **MYSQL_TABLE,
    )
    with op.batch_alter_table('roster_entries', schema=None) as batch_op:
        batch_op.create_index('ix_roster_entries_arrival', ['enterprise_id', 'arrival_date'], unique=False)

    op.create_table('vacancy_interests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('contact_allowed', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by'], ['staff_users.id'], name=op.f('fk_vacancy_interests_decided_by_staff_users')),
    sa.ForeignKeyConstraint(['job_id'], ['enterprise_jobs.id'], name=op.f('fk_vacancy_interests_job_id_enterprise_jobs')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_vacancy_interests_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vacancy_interests')),
    sa.UniqueConstraint('job_id', 'worker_id', name=op.f('uq_vacancy_interests_job_id')),
    **MYSQL_TABLE,
    )
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resume_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('remarks', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=False,
                                      server_default=sa.text('CURRENT_TIMESTAMP')))

    with op.batch_alter_table('isolation_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('health_event_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('place', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('starts_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ends_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('note', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('opened_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closed_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_isolation_orders_opened_by_staff_users'), 'staff_users', ['opened_by'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_isolation_orders_health_event_id_health_events'), 'health_events', ['health_event_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_isolation_orders_closed_by_staff_users'), 'staff_users', ['closed_by'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_isolation_orders_decided_by_staff_users'), 'staff_users', ['decided_by'], ['id'])

    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registered_by', sa.Integer(), nullable=True))
        batch_op.alter_column('openid',
               existing_type=_openid_type(),
               nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_workers_registered_by_enterprises'), 'enterprises', ['registered_by'], ['id'])



def downgrade():
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_workers_registered_by_enterprises'), type_='foreignkey')
        batch_op.alter_column('openid',
               existing_type=_openid_type(),
               nullable=False)
        batch_op.drop_column('registered_by')

    with op.batch_alter_table('isolation_orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_isolation_orders_decided_by_staff_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_isolation_orders_closed_by_staff_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_isolation_orders_health_event_id_health_events'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_isolation_orders_opened_by_staff_users'), type_='foreignkey')
        batch_op.drop_column('closed_by')
        batch_op.drop_column('decided_by')
        batch_op.drop_column('opened_by')
        batch_op.drop_column('note')
        batch_op.drop_column('ends_on')
        batch_op.drop_column('starts_on')
        batch_op.drop_column('place')
        batch_op.drop_column('health_event_id')

    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
        batch_op.drop_column('remarks')
        batch_op.drop_column('resume_date')

    op.drop_table('vacancy_interests')
    with op.batch_alter_table('roster_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_roster_entries_arrival')

    op.drop_table('roster_entries')
    op.drop_table('liaison_units')
    op.drop_table('enterprise_jobs')
