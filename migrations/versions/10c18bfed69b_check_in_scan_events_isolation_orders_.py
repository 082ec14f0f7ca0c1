"""check-in: scan events, isolation orders, trip arrival and closing

Revision ID: 10c18bfed69b
Revises: b3c41d2e7a10
Create Date: 2026-11-28 18:45:20.720066

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '10c18bfed69b'
down_revision = 'b3c41d2e7a10'
branch_labels = None
depends_on = None

MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci", "mysql_engine": "InnoDB"}


def upgrade():
    op.create_table('scan_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_event_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('scanned_at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=True),
    sa.Column('location', sa.String(length=128), nullable=True),
    sa.Column('serial', sa.Integer(), nullable=True),
    sa.Column('trip_id', sa.Integer(), nullable=True),
    sa.Column('seat_id', sa.Integer(), nullable=True),
    sa.Column('worker_id', sa.Integer(), nullable=True),
    sa.Column('temperature', sa.Numeric(precision=4, scale=1), nullable=True),
    sa.Column('symptoms', sa.JSON(), nullable=True),
    sa.Column('verdict', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('conflict', sa.Boolean(), nullable=False),
    sa.Column('conflict_reason', sa.String(length=32), nullable=True),
    sa.Column('boarded_seat_id', sa.Integer(), nullable=True),
    sa.Column('arrived_seat_id', sa.Integer(), nullable=True),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoints.id'], name=op.f('fk_scan_events_checkpoint_id_checkpoints')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_events')),
    sa.UniqueConstraint('arrived_seat_id', name=op.f('uq_scan_events_arrived_seat_id')),
    sa.UniqueConstraint('boarded_seat_id', name=op.f('uq_scan_events_boarded_seat_id')),
    sa.UniqueConstraint('client_event_id', name=op.f('uq_scan_events_client_event_id')),
    **MYSQL_TABLE,
    )
    with op.batch_alter_table('scan_events', schema=None) as batch_op:
        batch_op.create_index('ix_scan_events_seat', ['seat_id'], unique=False)
        batch_op.create_index('ix_scan_events_trip', ['trip_id', 'kind'], unique=False)

    op.create_table('isolation_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('trip_id', sa.Integer(), nullable=True),
    sa.Column('checkpoint_id', sa.Integer(), nullable=True),
    sa.Column('scan_event_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoints.id'], name=op.f('fk_isolation_orders_checkpoint_id_checkpoints')),
    sa.ForeignKeyConstraint(['scan_event_id'], ['scan_events.id'], name=op.f('fk_isolation_orders_scan_event_id_scan_events')),
    sa.ForeignKeyConstraint(['trip_id'], ['trips.id'], name=op.f('fk_isolation_orders_trip_id_trips')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_isolation_orders_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_isolation_orders')),
    **MYSQL_TABLE,
    )
    with op.batch_alter_table('isolation_orders', schema=None) as batch_op:
        batch_op.create_index('ix_isolation_orders_worker', ['worker_id', 'status'], unique=False)

    with op.batch_alter_table('health_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scan_event_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_health_events_scan_event_id_scan_events'), 'scan_events', ['scan_event_id'], ['id'])

    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arrival_checkpoint_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('expected_arrival_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_trips_arrival_checkpoint_id_checkpoints'), 'checkpoints', ['arrival_checkpoint_id'], ['id'])



def downgrade():
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_trips_arrival_checkpoint_id_checkpoints'), type_='foreignkey')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('expected_arrival_at')
        batch_op.drop_column('arrival_checkpoint_id')

    with op.batch_alter_table('health_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_health_events_scan_event_id_scan_events'), type_='foreignkey')
        batch_op.drop_column('scan_event_id')

    with op.batch_alter_table('isolation_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_isolation_orders_worker')

    op.drop_table('isolation_orders')
    with op.batch_alter_table('scan_events', schema=None) as batch_op:
        batch_op.drop_index('ix_scan_events_trip')
        batch_op.drop_index('ix_scan_events_seat')

    op.drop_table('scan_events')
