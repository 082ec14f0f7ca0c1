"""The revocation feed never skips a row committed out of id order (`signing.revocations_since`).

Ids are handed out at INSERT and seen at COMMIT: a transaction holding a lower id can commit after
one holding a higher id (two staff closing trips at once; writes through two Galera nodes). A
scanner that synced in between must still get the lower one.
"""
from datetime import timedelta

from app.extensions import db
from app.models import Revocation
from app.models.base import utcnow
from app.services.credentials import signing


def _revoke(serial, age_seconds=0, id=None):
    row = Revocation(id=id, kind="trip", serial=serial, reason="cancelled",
                     revoked_at=utcnow() - timedelta(seconds=age_seconds))
    db.session.add(row)
    db.session.commit()
    return row.id


def test_a_lower_id_committed_late_is_still_sent(app):
    settled = _revoke(1001, age_seconds=600)
    later = _revoke(1003, id=settled + 30)  # a higher id, committed first
    rows, cursor, more = signing.revocations_since(0)
    assert [r.serial for r in rows] == [1001, 1003] and not more
    assert cursor == settled  # not past the young row: a lower id may still be in flight
    _revoke(1002, id=settled + 15)  # the lower id's transaction commits now
    rows, cursor, _ = signing.revocations_since(cursor)
    assert [r.serial for r in rows] == [1002, 1003] and cursor == settled


def test_the_cursor_moves_past_rows_once_they_settle(app):
    app.config["REVOCATION_SETTLE_SECONDS"] = 0
    _revoke(2001)
    last = _revoke(2002)
    rows, cursor, more = signing.revocations_since(0)
    assert [r.serial for r in rows] == [2001, 2002] and cursor == last and not more
    assert signing.revocations_since(cursor)[0] == []


def test_a_full_page_of_young_rows_still_moves_on(app):
    for serial in range(3001, 3006):
        last = _revoke(serial)
    rows, cursor, more = signing.revocations_since(0, limit=3)
    assert more and cursor == rows[-1].id  # else a scanner would fetch the same page forever
    rows, cursor, more = signing.revocations_since(cursor, limit=3)
    assert [r.serial for r in rows] == [3004, 3005] and not more and cursor < last
