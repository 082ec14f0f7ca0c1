"""Staff who also use the mini-program: the console's one-time code links a mini-program login to the account,
that login may then subscribe to staff alerts, and `outbox.to_staff` spends its grant and queues the alert."""
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Message, StaffUser, SubscriptionGrant
from app.services.messaging import staff_link
from app.services.messaging import outbox
from tests.builders import login, make_staff, make_worker
from tests.messaging.message_helpers import TEMPLATE_IDS, WECHAT, alert, worker_id
from tests.messaging.message_helpers import templated_app  # noqa: F401  (this module's `app` fixture)

LINK = "/api/mp/v1/me/staff-link"
CODE = "/api/console/v1/me/miniprogram-link/code"
STATUS = "/api/console/v1/me/miniprogram-link"


def _staff(username="yongning"):
    return db.session.scalar(select(StaffUser).where(StaffUser.username == username))


def _linked(client, staff_headers, worker_headers):
    code = client.post(CODE, headers=staff_headers)
    assert code.status_code == 201 and code.json["expires_in"] == 600 and len(code.json["code"]) == 6
    answer = client.post(LINK, json={"code": code.json["code"]}, headers=worker_headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def test_a_code_links_the_login_to_the_account(client):
    staff_headers = make_staff(client, "yongning")
    _staff().display_name = "刘建国"
    db.session.commit()
    worker = make_worker(client, "zhang")
    assert client.get(LINK, headers=worker).json == {"linked": False, "staff_name": None, "role": None}
    assert client.get(STATUS, headers=staff_headers).json == {"linked": False, "worker_name": None}
    assert _linked(client, staff_headers, worker) == {"linked": True, "staff_name": "刘*国", "role": "county_operator"}
    assert client.get(STATUS, headers=staff_headers).json == {"linked": True, "worker_name": "张*丰"}
    assert _staff().worker_id == worker_id(client, worker)
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "staff.link_miniprogram")).one()
    assert entry.object_id == _staff().id and entry.actor_kind == "worker"


def test_a_code_works_once_and_a_new_code_ends_the_old_one(client):
    staff_headers = make_staff(client, "yongning")
    first = client.post(CODE, headers=staff_headers).json["code"]
    second = client.post(CODE, headers=staff_headers).json["code"]
    worker = login(client, "zhang")
    if first != second:
        stale = client.post(LINK, json={"code": first}, headers=worker)
        assert stale.status_code == 422 and stale.json["error"]["code"] == "link_code_invalid"
    assert client.post(LINK, json={"code": second}, headers=worker).status_code == 201
    again = client.post(LINK, json={"code": second}, headers=login(client, "li"))
    assert again.status_code == 422 and again.json["error"]["code"] == "link_code_invalid"


def test_wrong_codes_stop_being_tried(client):
    staff_headers = make_staff(client, "yongning")
    code = client.post(CODE, headers=staff_headers).json["code"]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    worker = login(client, "zhang")
    for _ in range(staff_link.MAX_WRONG_CODES):
        assert client.post(LINK, json={"code": wrong}, headers=worker).json["error"]["code"] == "link_code_invalid"
    blocked = client.post(LINK, json={"code": code}, headers=worker)  # even the right one, once blocked
    assert blocked.status_code == 422 and blocked.json["error"]["code"] == "link_code_attempts"
    assert _staff().worker_id is None


def test_one_login_links_one_account(client):
    worker = login(client, "zhang")
    _linked(client, make_staff(client, "yongning"), worker)
    other = make_staff(client, "helan", county_code="640122")
    code = client.post(CODE, headers=other).json["code"]
    taken = client.post(LINK, json={"code": code}, headers=worker)
    assert taken.status_code == 409 and taken.json["error"]["code"] == "staff_link_taken"
    assert _staff("helan").worker_id is None


def test_relinking_moves_the_account_to_the_new_login(client):
    staff_headers = make_staff(client, "yongning")
    _linked(client, staff_headers, login(client, "old-phone"))
    new = login(client, "new-phone")
    _linked(client, staff_headers, new)
    assert _staff().worker_id == worker_id(client, new)


def test_unlink_from_either_side(client):
    staff_headers = make_staff(client, "yongning")
    worker = login(client, "zhang")
    _linked(client, staff_headers, worker)
    assert client.delete(LINK, headers=worker).status_code == 204
    assert _staff().worker_id is None
    missing = client.delete(LINK, headers=worker)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "staff_link_missing"
    _linked(client, staff_headers, worker)
    assert client.delete(STATUS, headers=staff_headers).status_code == 204
    assert client.get(LINK, headers=worker).json["linked"] is False
    assert client.delete(STATUS, headers=staff_headers).status_code == 404
    vias = db.session.scalars(select(AuditLog.details).where(AuditLog.action == "staff.unlink_miniprogram")).all()
    assert [details["via"] for details in vias] == ["miniprogram", "console"]


def test_bad_codes_are_422(client):
    worker = login(client, "zhang")
    for body in ({}, {"code": "12345"}, {"code": "1234567"}, {"code": "abcdef"}, {"code": "１２３４５６"},
                 {"code": "123456\n"}):
        answer = client.post(LINK, json=body, headers=worker)
        assert answer.status_code == 422 and answer.json["error"]["code"] == "validation_error", body


def test_a_linked_login_subscribes_to_staff_alerts_and_receives_them(client, make_app):
    staff_headers = make_staff(client, "yongning")
    worker = login(client, "zhang")
    _linked(client, staff_headers, worker)
    offered = [item["key"] for item in client.get("/api/mp/v1/subscriptions", headers=worker).json["templates"]]
    assert "staff_alert" in offered
    results = {TEMPLATE_IDS["staff_alert"]: "accept", TEMPLATE_IDS["trip_assigned"]: "accept", "errMsg": "ok"}
    answer = client.post("/api/mp/v1/subscriptions", json={"results": results}, headers=worker)
    assert answer.status_code == 200 and answer.json["unused"] == {"staff_alert": 1, "trip_assigned": 1}

    staff_id, linked_worker = _staff().id, worker_id(client, worker)
    with make_app(**WECHAT).app_context():  # WeChat configured: a grant is spent and the alert queued
        first, second = alert([staff_id]), alert([staff_id])
        queued = db.session.get(Message, first[0])
        assert (queued.delivery, queued.recipient_kind, queued.staff_user_id, queued.worker_id) == \
            ("queued", "staff", staff_id, linked_worker)
        assert db.session.get(SubscriptionGrant, queued.grant_id).used_at is not None
        assert db.session.get(Message, second[0]).delivery == "inbox"  # one accept, one message
    db.session.rollback()  # end this session's snapshot (MariaDB's repeatable read) to see the other app's writes
    # The alert stays the staff member's: in the console's list, never in that login's worker inbox.
    assert client.get("/api/mp/v1/messages", headers=worker).json["items"] == []
    assert client.get("/api/console/v1/notifications", headers=staff_headers).json["unread"] == 2


def test_an_unlinked_account_only_gets_console_alerts(client, make_app):
    make_staff(client, "yongning")
    with make_app(**WECHAT).app_context():
        [message_id] = alert([_staff().id])
        assert db.session.get(Message, message_id).delivery == "inbox"
        assert outbox.to_staff([], "x", "y") == []
