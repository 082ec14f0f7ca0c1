"""No-shows who boarded after all (未乘车更正): a boarding uploaded after the trip was closed.

Closing a trip revokes the seat of every passenger with no accepted boarding (reason no_show)
and moves their application back to approved, to be planned onto another bus. An offline
upload may later bring a boarding scanned before the close: judged as of then it is accepted,
flagged revoked_after_scan, and the application moves on to travelled. One planned again,
cancelled or rejected since keeps its status: the flag alone records what happened.
"""
from sqlalchemy import and_, select

from app.extensions import db
from app.models import Application, Revocation, Seat
from app.services.platform import audit

REASON = "离线补传显示已乘车"


def travelled_after_all(accepted):
    """Move to travelled the applications of no-shows whom these accepted scans show boarded before the close.

    `accepted`: `checkin.record_health` entries (event, Decision, seat_facts.Seen, Scanner). No statement
    is run unless a boarding names a seat revoked on a closed trip. The caller commits.
    """
    boarded = {event.boarded_seat_id: (event, scanner) for event, _, seen, scanner in accepted
               if event.boarded_seat_id is not None and seen.seat_status == "revoked"
               and seen.trip.status == "closed"}
    if not boarded:
        return
    # Locked as plans.publish locks the approved applications it assigns: one of the two goes first.
    found = db.session.execute(
        select(Seat.id, Application)
        .join(Application, Application.id == Seat.application_id)
        .join(Revocation, and_(Revocation.serial == Seat.id, Revocation.reason == "no_show"))
        .where(Seat.id.in_(boarded), Application.status == "approved")
        .with_for_update()
    ).all()
    for seat_id, application in found:
        application.move_to("travelled", REASON)
        event, scanner = boarded[seat_id]
        audit.record(scanner.kind, scanner.id, "application.travelled_after_all", "application", application.id,
                     seat_id=seat_id, scan_event_id=event.id)
