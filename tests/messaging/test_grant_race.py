"""Two messages racing for one grant (MariaDB, threads): each grant is spent once, the rest stay in the inbox."""
import threading

from sqlalchemy import func, select

from app.extensions import db
from app.models import Message, SubscriptionGrant, Worker
from app.services.messaging import outbox
from tests.messaging.event_helpers import grant, wechat_app


def test_a_grant_is_spent_once_when_messages_race(make_app, backend):
    import pytest

    if backend["BACKEND"] == "sqlite":
        pytest.skip("concurrent writers only race on MariaDB")
    app = wechat_app(make_app)
    with app.app_context():
        worker = Worker(openid="o-race-1")
        db.session.add(worker)
        db.session.commit()
        worker_id = worker.id
        grant(worker_id, "trip_changed", count=3)
    writers = 8
    barrier = threading.Barrier(writers)
    errors = []

    def write(n):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                outbox.to_worker(worker_id, "trip_changed", {"change": f"变更{n}", "departure": None, "note": "-"})
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with app.app_context():
        deliveries = db.session.scalars(select(Message.delivery).where(Message.worker_id == worker_id)).all()
        assert sorted(deliveries) == ["inbox"] * 5 + ["queued"] * 3
        spent = db.session.scalars(select(Message.grant_id).where(Message.grant_id.is_not(None))).all()
        assert len(set(spent)) == 3
        assert db.session.scalar(select(func.count()).select_from(SubscriptionGrant)
                                 .where(SubscriptionGrant.used_at.is_(None))) == 0
