"""staff accounts and transport: plans, convoys, trips, seats, revocations, signing keys, audit log

Revision ID: 9f81139f5638
Revises: 70044a6ff028
Create Date: 2026-11-28 18:20:08.259015

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9f81139f5638'
down_revision = '70044a6ff028'
branch_labels = None
depends_on = None

MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci", "mysql_engine": "InnoDB"}


def upgrade():
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    **MYSQL_TABLE,
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_object', ['object_type', 'object_id'], unique=False)

    op.create_table('revocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.Integer(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revocations')),
    sa.UniqueConstraint('serial', name=op.f('uq_revocations_serial')),
    **MYSQL_TABLE,
    )
    op.create_table('signing_keys',
    sa.Column('kid', sa.String(length=8), nullable=False),
    sa.Column('algorithm', sa.String(length=16), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=64), nullable=False),
    sa.Column('private_key_cipher', sa.LargeBinary(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('valid_from', sa.DateTime(), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_signing_keys')),
    **MYSQL_TABLE,
    )
    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=True),
    sa.Column('park_id', sa.Integer(), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('checkpoint_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoints.id'], name=op.f('fk_staff_users_checkpoint_id_checkpoints')),
    sa.ForeignKeyConstraint(['county_code'], ['counties.code'], name=op.f('fk_staff_users_county_code_counties')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_staff_users_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_staff_users_park_id_parks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_users')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_users_username')),
    **MYSQL_TABLE,
    )
    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=True),
    sa.Column('park_id', sa.Integer(), nullable=True),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=False),
    sa.Column('load_factor', sa.Numeric(precision=3, scale=2), nullable=False),
    sa.Column('vehicle_types', sa.JSON(), nullable=False),
    sa.Column('notice', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['county_code'], ['counties.code'], name=op.f('fk_plans_county_code_counties')),
    sa.ForeignKeyConstraint(['created_by'], ['staff_users.id'], name=op.f('fk_plans_created_by_staff_users')),
    sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_plans_park_id_parks')),
    sa.ForeignKeyConstraint(['published_by'], ['staff_users.id'], name=op.f('fk_plans_published_by_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    **MYSQL_TABLE,
    )
    op.create_table('convoys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.Column('destination', sa.String(length=64), nullable=False),
    sa.Column('departure_date', sa.Date(), nullable=False),
    sa.Column('leader_worker_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['leader_worker_id'], ['workers.id'], name=op.f('fk_convoys_leader_worker_id_workers')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_convoys_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_convoys')),
    **MYSQL_TABLE,
    )
    with op.batch_alter_table('convoys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_convoys_plan_id'), ['plan_id'], unique=False)

    op.create_table('trips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('convoy_id', sa.Integer(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=True),
    sa.Column('park_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.Column('destination', sa.String(length=64), nullable=False),
    sa.Column('departure_date', sa.Date(), nullable=False),
    sa.Column('departure_time', sa.Time(), nullable=False),
    sa.Column('departure_place', sa.String(length=255), nullable=True),
    sa.Column('route', sa.String(length=255), nullable=True),
    sa.Column('vehicle_type', sa.String(length=32), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('plate', sa.String(length=16), nullable=True),
    sa.Column('driver_name', sa.String(length=50), nullable=True),
    sa.Column('driver_phone_cipher', sa.LargeBinary(length=128), nullable=True),
    sa.Column('driver_phone_mask', sa.String(length=16), nullable=True),
    sa.Column('responsible_name', sa.String(length=50), nullable=True),
    sa.Column('responsible_phone_cipher', sa.LargeBinary(length=128), nullable=True),
    sa.Column('responsible_phone_mask', sa.String(length=16), nullable=True),
    sa.Column('medic_name', sa.String(length=50), nullable=True),
    sa.Column('medic_phone_cipher', sa.LargeBinary(length=128), nullable=True),
    sa.Column('medic_phone_mask', sa.String(length=16), nullable=True),
    sa.Column('captain_worker_id', sa.Integer(), nullable=True),
    sa.Column('vice_captain_worker_id', sa.Integer(), nullable=True),
    sa.Column('notice', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['captain_worker_id'], ['workers.id'], name=op.f('fk_trips_captain_worker_id_workers')),
    sa.ForeignKeyConstraint(['convoy_id'], ['convoys.id'], name=op.f('fk_trips_convoy_id_convoys')),
    sa.ForeignKeyConstraint(['county_code'], ['counties.code'], name=op.f('fk_trips_county_code_counties')),
    sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_trips_park_id_parks')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_trips_plan_id_plans')),
    sa.ForeignKeyConstraint(['vice_captain_worker_id'], ['workers.id'], name=op.f('fk_trips_vice_captain_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trips')),
    **MYSQL_TABLE,
    )
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trips_convoy_id'), ['convoy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_trips_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index('ix_trips_scope', ['county_code', 'departure_date'], unique=False)

    op.create_table('seats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trip_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('seat_no', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('live_application_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_seats_application_id_applications')),
    sa.ForeignKeyConstraint(['trip_id'], ['trips.id'], name=op.f('fk_seats_trip_id_trips')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_seats_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seats')),
    sa.UniqueConstraint('live_application_id', name=op.f('uq_seats_live_application_id')),
    **MYSQL_TABLE,
    )
    with op.batch_alter_table('seats', schema=None) as batch_op:
        batch_op.create_index('ix_seats_trip', ['trip_id', 'status'], unique=False)
        batch_op.create_index('ix_seats_worker', ['worker_id', 'status'], unique=False)

    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('volunteer_captain', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('decided_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_applications_decided_by_staff_users'), 'staff_users', ['decided_by'], ['id'])



def downgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_applications_decided_by_staff_users'), type_='foreignkey')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decided_by')
        batch_op.drop_column('volunteer_captain')

    with op.batch_alter_table('seats', schema=None) as batch_op:
        batch_op.drop_index('ix_seats_worker')
        batch_op.drop_index('ix_seats_trip')

    op.drop_table('seats')
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.drop_index('ix_trips_scope')
        batch_op.drop_index(batch_op.f('ix_trips_plan_id'))
        batch_op.drop_index(batch_op.f('ix_trips_convoy_id'))

    op.drop_table('trips')
    with op.batch_alter_table('convoys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_convoys_plan_id'))

    op.drop_table('convoys')
    op.drop_table('plans')
    op.drop_table('staff_users')
    op.drop_table('signing_keys')
    op.drop_table('revocations')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_object')

    op.drop_table('audit_log')
