"""Retention of messages: an erased worker's messages and grants go with them; any message older than
RETENTION_DAYS goes, with the used grants no message refers to; the rest stays."""
from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models import Application, AuthToken, HealthEvent, Message, StaffUser, SubscriptionGrant, Worker
from app.models.base import utcnow
from app.services.messaging import outbox
from app.services.office.retention import purge_expired
from tests.builders import application, make_staff, make_worker
from tests.messaging.event_helpers import grant


def _worker_id(client, name, n):
    make_worker(client, name=name, n=n)
    return db.session.scalar(select(Worker.id).where(Worker.openid == f"dev-{name}"))


def _message(worker_id, change="车次已取消"):
    outbox.to_worker(worker_id, "trip_changed", {"change": change, "departure": None, "note": "-"})
    db.session.commit()


def test_an_erased_worker_loses_messages_and_grants_and_old_messages_go(client, app):
    leaving = _worker_id(client, "leaving", 0)
    staying = _worker_id(client, "staying", 1)
    client.post("/api/mp/v1/applications", json=application(), headers=make_worker(client, name="staying", n=1))
    for worker_id in (leaving, staying):
        _message(worker_id)
        grant(worker_id, "trip_changed")
    make_staff(client, "weijian", role="health_officer")
    officer = db.session.scalar(select(StaffUser.id).where(StaffUser.username == "weijian"))
    outbox.to_staff([officer], "隔离单待处理", "随访异常")
    db.session.commit()
    old_spent = SubscriptionGrant(worker_id=staying, template="trip_changed", template_id="t", used_at=utcnow())
    db.session.add(old_spent)
    db.session.commit()

    past = utcnow() - timedelta(days=app.config["RETENTION_DAYS"] + 1)
    db.session.execute(update(Worker).where(Worker.id == leaving).values(updated_at=past, last_login_at=past))
    db.session.execute(update(HealthEvent).values(occurred_at=past))
    db.session.execute(update(AuthToken).values(expires_at=past))
    db.session.execute(update(Message).where(Message.recipient_kind == "staff").values(created_at=past))
    db.session.execute(update(SubscriptionGrant).where(SubscriptionGrant.id == old_spent.id).values(used_at=past))
    db.session.commit()
    _message(staying, "出发时间调整")  # a recent one stays

    preview = purge_expired(dry_run=True)
    assert (preview["messages"], preview["subscription_grants"]) == (1, 1)
    counts = purge_expired()
    assert counts["workers"] == 1 and (counts["messages"], counts["subscription_grants"]) == (1, 1)
    assert db.session.scalars(select(Message.worker_id)).all() == [staying, staying]
    assert db.session.scalars(select(SubscriptionGrant.worker_id)).all() == [staying]
    assert db.session.get(Application, db.session.scalar(select(Application.id))).worker_id == staying
    db.session.execute(update(Message).values(created_at=past))
    db.session.commit()
    assert purge_expired()["messages"] == 2 and db.session.scalar(select(Message.id)) is None
    assert db.session.scalars(select(SubscriptionGrant.worker_id)).all() == [staying]  # unused: still good


def test_content_flags_done_with_for_the_period_go_open_ones_stay(client, app):
    """Review finding 12: handled, passed and replaced flags older than RETENTION_DAYS are purged (they quote texts)."""
    from app.models import ContentCheck
    from app.services.people import content_security
    from app.services.people.content_security import Verdict

    worker_id = _worker_id(client, "flagged", 0)
    worker = db.session.get(Worker, worker_id)
    stored = worker.job_intention
    for field, text, status in (("job_intention", stored, "review"), ("skills", "旧技能", "review"),
                                ("current_address", "已处理的地址", "review"), ("employer_name", "通过的单位", "pending")):
        content_security.record(worker, [Verdict(field, text, 1, status)])
    db.session.flush()
    db.session.execute(update(ContentCheck).where(ContentCheck.field == "current_address")
                       .values(handled_at=utcnow(), handled_by=None, outcome="ok"))
    db.session.execute(update(ContentCheck).where(ContentCheck.field == "employer_name").values(status="pass"))
    db.session.commit()
    assert purge_expired()["content_checks"] == 0  # all recent
    past = utcnow() - timedelta(days=app.config["RETENTION_DAYS"] + 1)
    db.session.execute(update(ContentCheck).values(created_at=past))
    db.session.commit()
    assert purge_expired(dry_run=True)["content_checks"] == 3
    assert purge_expired()["content_checks"] == 3
    # Only the unhandled flag of a text still stored stays: staff have yet to look at it.
    assert db.session.scalars(select(ContentCheck.field)).all() == ["job_intention"]
