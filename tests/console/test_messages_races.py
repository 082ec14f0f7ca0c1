"""Races on MariaDB: admins sending one failed message again at once queue it once; one login linked once."""
import threading
import time

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Message, StaffUser
from app.services.messaging import deliveries, staff_link
from tests.builders import login, make_staff, make_worker
from tests.messaging.message_helpers import decided, worker_id


def test_one_failed_message_retried_six_times_at_once_is_queued_once(mariadb_app, monkeypatch):
    checked = deliveries._why_not

    def slow_check(message, links):
        time.sleep(0.2)  # between reading the row and writing it: every request has read it by now, unless locked
        return checked(message, links)

    monkeypatch.setattr(deliveries, "_why_not", slow_check)
    with mariadb_app.app_context():
        client = mariadb_app.test_client()
        first, second = make_staff(client, "office", role="admin"), make_staff(client, "office-b", role="admin")
        [message_id] = decided(worker_id(client, make_worker(client, "zhang")), n=1)
        message = db.session.get(Message, message_id)
        message.delivery, message.failure, message.errcode, message.attempts = "failed", "gave_up", -1, 8
        db.session.commit()
    answers, barrier = [], threading.Barrier(6)

    def retry(headers):
        with mariadb_app.app_context():
            barrier.wait()
            answer = mariadb_app.test_client().post("/api/console/v1/messages/retry", json={"ids": [message_id]},
                                                    headers=headers)
            answers.append(answer.json)

    threads = [threading.Thread(target=retry, args=(headers,)) for headers in (first, second) * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(answer["retried"]) for answer in answers) == [0, 0, 0, 0, 0, 1]
    assert [s["reason"] for answer in answers for s in answer["skipped"]] == ["not_failed"] * 5
    with mariadb_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditLog)
                                 .where(AuditLog.action == "message.retry")) == 1
        assert db.session.get(Message, message_id).delivery == "queued"


def test_one_login_posting_two_accounts_codes_at_once_links_one(mariadb_app, monkeypatch):
    record = staff_link.audit.record

    def slow_record(*args, **kwargs):
        time.sleep(0.2)  # after both requests found the login unlinked: the unique index decides
        return record(*args, **kwargs)

    monkeypatch.setattr(staff_link.audit, "record", slow_record)
    with mariadb_app.app_context():
        client = mariadb_app.test_client()
        codes = [client.post("/api/console/v1/me/miniprogram-link/code", headers=make_staff(client, name)).json["code"]
                 for name in ("yongning", "helan")]
        worker = login(client, "zhang")
    statuses, barrier = [], threading.Barrier(2)

    def link(code):
        with mariadb_app.app_context():
            barrier.wait()
            statuses.append(mariadb_app.test_client().post("/api/mp/v1/me/staff-link", json={"code": code},
                                                           headers=worker).status_code)

    threads = [threading.Thread(target=link, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409]
    with mariadb_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffUser)
                                 .where(StaffUser.worker_id.is_not(None))) == 1
