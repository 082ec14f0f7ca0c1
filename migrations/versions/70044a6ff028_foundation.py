"""foundation: reference data, workers, tokens, health events, applications

Revision ID: 70044a6ff028
Revises: 
Create Date: 2026-11-28 18:03:12.983950

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '70044a6ff028'
down_revision = None
branch_labels = None
depends_on = None

# utf8mb4 for Chinese names whatever the server's default; ignored by SQLite.
MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci", "mysql_engine": "InnoDB"}


def upgrade():
    op.create_table('auth_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('subject_kind', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_tokens_token_hash')),
    **MYSQL_TABLE,
    )
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_auth_tokens_subject', ['subject_kind', 'subject_id'], unique=False)

    op.create_table('counties',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_counties')),
    sa.UniqueConstraint('name', name=op.f('uq_counties_name')),
    **MYSQL_TABLE,
    )
    op.create_table('checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.ForeignKeyConstraint(['county_code'], ['counties.code'], name=op.f('fk_checkpoints_county_code_counties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkpoints')),
    sa.UniqueConstraint('code', name=op.f('uq_checkpoints_code')),
    sa.UniqueConstraint('name', name=op.f('uq_checkpoints_name')),
    **MYSQL_TABLE,
    )
    op.create_table('parks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.ForeignKeyConstraint(['county_code'], ['counties.code'], name=op.f('fk_parks_county_code_counties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parks')),
    sa.UniqueConstraint('code', name=op.f('uq_parks_code')),
    sa.UniqueConstraint('name', name=op.f('uq_parks_name')),
    **MYSQL_TABLE,
    )
    op.create_table('enterprises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=True),
    sa.Column('work_location', sa.String(length=255), nullable=True),
    sa.Column('products', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['county_code'], ['counties.code'], name=op.f('fk_enterprises_county_code_counties')),
    sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_enterprises_park_id_parks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprises')),
    sa.UniqueConstraint('name', name=op.f('uq_enterprises_name')),
    **MYSQL_TABLE,
    )
    op.create_table('workers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('session_key_cipher', sa.LargeBinary(length=128), nullable=True),
    sa.Column('consent_version', sa.String(length=32), nullable=True),
    sa.Column('consent_at', sa.DateTime(), nullable=True),
    sa.Column('name', sa.String(length=50), nullable=True),
    sa.Column('id_number_cipher', sa.LargeBinary(length=128), nullable=True),
    sa.Column('id_number_index', sa.String(length=64), nullable=True),
    sa.Column('id_number_mask', sa.String(length=18), nullable=True),
    sa.Column('gender', sa.String(length=8), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('mobile_cipher', sa.LargeBinary(length=128), nullable=True),
    sa.Column('mobile_index', sa.String(length=64), nullable=True),
    sa.Column('mobile_mask', sa.String(length=11), nullable=True),
    sa.Column('hometown_county', sa.String(length=64), nullable=True),
    sa.Column('hometown_township', sa.String(length=64), nullable=True),
    sa.Column('current_address', sa.String(length=255), nullable=True),
    sa.Column('skills', sa.JSON(), nullable=True),
    sa.Column('job_intention', sa.String(length=255), nullable=True),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('employer_name', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['employer_id'], ['enterprises.id'], name=op.f('fk_workers_employer_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workers')),
    sa.UniqueConstraint('id_number_index', name=op.f('uq_workers_id_number_index')),
    sa.UniqueConstraint('openid', name=op.f('uq_workers_openid')),
    **MYSQL_TABLE,
    )
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workers_mobile_index'), ['mobile_index'], unique=False)

    op.create_table('applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.Column('origin_address', sa.String(length=255), nullable=True),
    sa.Column('destination_city', sa.String(length=64), nullable=False),
    sa.Column('destination_address', sa.String(length=255), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('employer_name', sa.String(length=128), nullable=True),
    sa.Column('employer_contact_cipher', sa.LargeBinary(length=128), nullable=True),
    sa.Column('employer_contact_mask', sa.String(length=16), nullable=True),
    sa.Column('earliest_departure', sa.Date(), nullable=False),
    sa.Column('latest_departure', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.String(length=255), nullable=True),
    sa.Column('active_worker_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['county_code'], ['counties.code'], name=op.f('fk_applications_county_code_counties')),
    sa.ForeignKeyConstraint(['employer_id'], ['enterprises.id'], name=op.f('fk_applications_employer_id_enterprises')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_applications_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('active_worker_id', name=op.f('uq_applications_active_worker_id')),
    **MYSQL_TABLE,
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_county', ['county_code', 'status', 'earliest_departure'], unique=False)
        batch_op.create_index('ix_applications_worker', ['worker_id', 'status'], unique=False)

    op.create_table('health_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('temperature', sa.Numeric(precision=4, scale=1), nullable=True),
    sa.Column('symptoms', sa.JSON(), nullable=True),
    sa.Column('contact_with_case', sa.Boolean(), nullable=True),
    sa.Column('places', sa.JSON(), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('location', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_health_events_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_events')),
    **MYSQL_TABLE,
    )
    with op.batch_alter_table('health_events', schema=None) as batch_op:
        batch_op.create_index('ix_health_events_worker_time', ['worker_id', 'occurred_at'], unique=False)



def downgrade():
    with op.batch_alter_table('health_events', schema=None) as batch_op:
        batch_op.drop_index('ix_health_events_worker_time')

    op.drop_table('health_events')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_worker')
        batch_op.drop_index('ix_applications_county')

    op.drop_table('applications')
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workers_mobile_index'))

    op.drop_table('workers')
    op.drop_table('enterprises')
    op.drop_table('parks')
    op.drop_table('checkpoints')
    op.drop_table('counties')
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_auth_tokens_subject')

    op.drop_table('auth_tokens')
