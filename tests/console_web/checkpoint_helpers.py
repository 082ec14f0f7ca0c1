"""A bus heading to 银川火车站 and the station's staff signed in to the console, for the scan station's tests."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Checkpoint
from tests.builders import publish_trip, qr_of, scan_body
from tests.console_web.helpers import make_web_staff

SCANS = "/api/checkin/v1/scans"


def checkpoint_id(code="yinchuan-railway"):
    """The id of a reference checkpoint by its code."""
    return db.session.scalar(select(Checkpoint.id).where(Checkpoint.code == code))


def bus_to(client, checkpoint, passengers=4, start=0, board=True, hours=2):
    """A published trip arriving at `checkpoint` in `hours`; with `board`, every rider boarded by the captain.

    Returns publish_trip's dict with "qrs": {worker_id: QR text}.
    """
    bus = publish_trip(client, passengers=passengers, start=start)
    trip_id = bus["trip"]["id"]
    arriving = (datetime.now(UTC) + timedelta(hours=hours)).replace(tzinfo=None).isoformat(timespec="minutes")
    patched = client.patch(f"/api/console/v1/trips/{trip_id}", headers=bus["staff"],
                           json={"arrival_checkpoint_id": checkpoint, "expected_arrival_at": arriving})
    assert patched.status_code == 200, patched.json
    bus["qrs"] = {rider["worker_id"]: qr_of(client, rider, trip_id) for rider in bus["riders"]}
    if board:
        for qr in bus["qrs"].values():
            answer = client.post(SCANS, json=scan_body(qr), headers=bus["captain"]["headers"]).json
            assert answer["verdict"] == "allow", answer
    return bus


def station_staff(client, username="railway", checkpoint=None):
    """Checkpoint staff of 银川火车站 (or `checkpoint`) signed in to the console; returns the CSRF token."""
    return make_web_staff(client, username, role="checkpoint_staff", checkpoint_id=checkpoint or checkpoint_id())
