"""indexes for the dashboard (/stats, 看板) at city scale: passengers, isolate scans, applications by day

Measured with bench/stats_bench.py over 100,000 applications on MariaDB (README, "Dashboard at
scale"): the seat's scans are read from the index alone (seat, verdict, kind, trip), isolate
verdicts are found without reading every scan, and a county's applications in a date window are a
range of one index.

Revision ID: e7a1c9d4b2f6
Revises: 5d2e8c41a7b3
Create Date: 2026-12-06 19:20:00
"""
from alembic import op

revision = "e7a1c9d4b2f6"
down_revision = "5d2e8c41a7b3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_events_seat")
        batch_op.create_index("ix_scan_events_seat", ["seat_id", "verdict", "kind", "trip_id"], unique=False)
        batch_op.create_index("ix_scan_events_verdict", ["verdict", "scanned_at"], unique=False)
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index("ix_applications_created", ["county_code", "created_at", "status", "direction"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_created")
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_events_verdict")
        batch_op.drop_index("ix_scan_events_seat")
        batch_op.create_index("ix_scan_events_seat", ["seat_id"], unique=False)
