"""Prepared statements store and read what their Core statements would, and fail as SQLAlchemy does."""
import uuid
from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import bindparam, insert, select

from app.extensions import db
from app.models import ScanEvent
from app.services.prepared import Prepared

_SCANS = ScanEvent.__table__
_COLUMNS = ("client_event_id", "kind", "mode", "scanned_at", "received_at", "device_id", "actor_kind", "actor_id",
            "temperature", "symptoms", "verdict", "reason", "conflict", "answer")
_INSERT = Prepared(insert(_SCANS), _COLUMNS)
_BY_ID = Prepared(select(_SCANS.c.scanned_at, _SCANS.c.temperature, _SCANS.c.symptoms, _SCANS.c.conflict,
                         _SCANS.c.answer).where(_SCANS.c.id == bindparam("id")))


def _row(**overrides):
    return {"client_event_id": str(uuid.uuid4()), "kind": "board", "mode": "online",
            "scanned_at": datetime(2026, 2, 23, 8, 30, 15, 250000), "received_at": datetime(2026, 2, 23, 8, 30, 16),
            "device_id": "phone", "actor_kind": "worker", "actor_id": 1, "temperature": Decimal("37.4"),
            "symptoms": ["咳嗽", "乏力"], "verdict": "isolate", "reason": "fever", "conflict": True,
            "answer": {"message": "体温异常，请隔离", "passenger": None}, **overrides}


def test_an_insert_stores_what_the_orm_reads_back(app):
    row_id = _INSERT.insert(_row())
    db.session.commit()

    stored = db.session.get(ScanEvent, row_id)
    assert (stored.kind, stored.temperature, stored.symptoms, stored.conflict) == ("board", Decimal("37.4"),
                                                                                  ["咳嗽", "乏力"], True)
    assert stored.scanned_at.replace(microsecond=0) == datetime(2026, 2, 23, 8, 30, 15)  # MariaDB keeps seconds
    assert stored.answer == {"message": "体温异常，请隔离", "passenger": None}


def test_rows_come_back_with_the_columns_types(app):
    row_id = _INSERT.insert(_row(conflict=False, symptoms=[]))

    (scanned_at, temperature, symptoms, conflict, answer), = _BY_ID.rows({"id": row_id})
    assert isinstance(scanned_at, datetime) and scanned_at.replace(microsecond=0) == datetime(2026, 2, 23, 8, 30, 15)
    assert (temperature, symptoms, bool(conflict), answer["message"]) == (Decimal("37.4"), [], False, "体温异常，请隔离")
    assert _BY_ID.rows({"id": row_id + 1000}) == []


def test_a_duplicate_is_sqlalchemys_integrity_error_and_the_session_goes_on(app):
    first = _row()
    _INSERT.insert(first)
    db.session.commit()

    with pytest.raises(sa.exc.IntegrityError):
        _INSERT.insert(_row(client_event_id=first["client_event_id"]))
    db.session.rollback()
    _INSERT.insert(_row())
    db.session.commit()
    assert db.session.scalar(select(sa.func.count()).select_from(_SCANS)) == 2


def test_a_driver_error_is_wrapped(app):
    missing = Prepared(select(sa.literal_column("nothing")).select_from(sa.table("no_such_table")))
    with pytest.raises(sa.exc.DBAPIError) as caught:
        missing.rows({})
    assert isinstance(caught.value, (sa.exc.OperationalError, sa.exc.ProgrammingError))
    db.session.rollback()
