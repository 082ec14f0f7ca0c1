"""Precompiled statements store and read what their Core statements would, and fail as SQLAlchemy does."""
import uuid
from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import bindparam, insert, select

from app.extensions import db
from app.models import ScanEvent
from app.services.scanning.precompiled import Precompiled

_SCANS = ScanEvent.__table__
_COLUMNS = ("client_event_id", "kind", "mode", "scanned_at", "received_at", "device_id", "actor_kind", "actor_id",
            "temperature", "symptoms", "verdict", "reason", "conflict", "answer")
_INSERT = Precompiled(insert(_SCANS), _COLUMNS)
_BY_ID = Precompiled(select(_SCANS.c.scanned_at, _SCANS.c.temperature, _SCANS.c.symptoms, _SCANS.c.conflict,
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
    missing = Precompiled(select(sa.literal_column("nothing")).select_from(sa.table("no_such_table")))
    with pytest.raises(sa.exc.DBAPIError) as caught:
        missing.rows({})
    assert isinstance(caught.value, (sa.exc.OperationalError, sa.exc.ProgrammingError))
    db.session.rollback()


def test_a_missing_value_takes_the_columns_default(app):
    from app.models import HealthEvent, Worker
    from app.models.base import utcnow

    events = HealthEvent.__table__
    worker = Worker(openid="precompiled-default")
    db.session.add(worker)
    db.session.flush()
    without_recorded_at = Precompiled(insert(events), ("worker_id", "kind", "occurred_at", "actor_kind",
                                                       "recorded_at"))
    before = utcnow().replace(microsecond=0)
    event_id = without_recorded_at.insert({"worker_id": worker.id, "kind": "self_declaration",
                                           "occurred_at": before, "actor_kind": "worker"})
    assert db.session.get(HealthEvent, event_id).recorded_at >= before  # utcnow(), the model's default
    with pytest.raises(KeyError):  # a column with no default must be given
        without_recorded_at.insert({"worker_id": worker.id, "kind": "self_declaration", "actor_kind": "worker"})
    db.session.rollback()


def test_a_lost_server_fails_one_statement_and_the_pool_reconnects(make_app, backend):
    if backend["BACKEND"] != "mariadb":
        pytest.skip("the server dropping connections needs MariaDB")
    app = make_app(DB_PING_IDLE_SECONDS=3600.0)  # no ping at checkout: only the invalidation can save the next one
    with app.app_context():
        first, second, killer = db.engine.connect(), db.engine.connect(), db.engine.connect()
        doomed = [connection.execute(sa.text("SELECT CONNECTION_ID()")).scalar() for connection in (first, second)]
        first.commit(), second.commit()
        first.close(), second.close()  # both back in the pool
        for connection_id in doomed:
            killer.execute(sa.text(f"KILL {int(connection_id)}"))
        killer.commit()
        killer.close()
        db.session.remove()

        with pytest.raises(sa.exc.OperationalError) as caught:
            _BY_ID.rows({"id": 1})
        assert caught.value.connection_invalidated  # the app's 503 handler answers OperationalError
        db.session.rollback()
        for _ in range(3):  # the other dead connection was invalidated with the pool, not handed out
            assert _BY_ID.rows({"id": 1}) == []
            db.session.remove()
