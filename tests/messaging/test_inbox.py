"""The worker's inbox (GET /api/mp/v1/messages, POST /messages/read): newest first, cursor paging, read marks,
and one worker never sees or touches another's messages."""
from sqlalchemy import select

from app.extensions import db
from app.models import Message, StaffUser
from tests.builders import login, make_staff
from tests.messaging.message_helpers import alert, decided, worker_id
from tests.messaging.message_helpers import templated_app  # noqa: F401  (this module's `app` fixture)

MESSAGES = "/api/mp/v1/messages"


def test_messages_newest_first_with_unread_count(client):
    headers = login(client, "zhang")
    ids = decided(worker_id(client, headers), n=3)
    answer = client.get(MESSAGES, headers=headers)
    assert answer.status_code == 200
    assert [item["id"] for item in answer.json["items"]] == ids[::-1]
    assert answer.json["unread"] == 3 and answer.json["next_before"] is None
    first = answer.json["items"][0]
    assert first["template"] == "application_decided" and first["title"] == "报名审核结果通知"
    assert first["read"] is False and first["page"] == "pages/applications/detail?id=3"
    assert "审核结果：已通过" in first["body"] and "审核时间：2020年2月24日 09:30" in first["body"]  # Beijing time
    assert first["created_at"].endswith("+08:00")
    assert set(first) == {"id", "template", "title", "body", "page", "created_at", "read"}  # no delivery internals


def test_cursor_pages_without_gaps_or_repeats(client):
    headers = login(client, "zhang")
    ids = decided(worker_id(client, headers), n=5)
    first = client.get(MESSAGES, query_string={"limit": 2}, headers=headers).json
    assert [item["id"] for item in first["items"]] == [ids[4], ids[3]] and first["next_before"] == ids[3]
    decided(worker_id(client, headers), n=1)  # a new message arrives between pages
    second = client.get(MESSAGES, query_string={"limit": 2, "before": first["next_before"]}, headers=headers).json
    assert [item["id"] for item in second["items"]] == [ids[2], ids[1]]
    third = client.get(MESSAGES, query_string={"limit": 2, "before": second["next_before"]}, headers=headers).json
    assert [item["id"] for item in third["items"]] == [ids[0]] and third["next_before"] is None


def test_unread_only_and_marking_read(client):
    headers = login(client, "zhang")
    ids = decided(worker_id(client, headers), n=3)
    marked = client.post(f"{MESSAGES}/read", json={"ids": [ids[0], ids[0]]}, headers=headers)
    assert marked.status_code == 200 and marked.json == {"marked": 1, "unread": 2}
    unread = client.get(MESSAGES, query_string={"unread": 1}, headers=headers).json
    assert [item["id"] for item in unread["items"]] == [ids[2], ids[1]]
    again = client.post(f"{MESSAGES}/read", json={"ids": [ids[0]]}, headers=headers)
    assert again.json == {"marked": 0, "unread": 2}  # already read: nothing changes
    everything = client.post(f"{MESSAGES}/read", json={"all": True}, headers=headers)
    assert everything.json == {"marked": 2, "unread": 0}
    assert all(item["read"] for item in client.get(MESSAGES, headers=headers).json["items"])


def test_one_worker_never_sees_or_marks_anothers_messages(client):
    zhang, li = login(client, "zhang"), login(client, "li")
    theirs = decided(worker_id(client, li), n=2)
    mine = decided(worker_id(client, zhang), n=1)
    assert [item["id"] for item in client.get(MESSAGES, headers=zhang).json["items"]] == mine
    assert client.get(MESSAGES, query_string={"before": theirs[1] + 1}, headers=zhang).json["items"] == []
    answer = client.post(f"{MESSAGES}/read", json={"ids": theirs + mine}, headers=zhang)
    assert answer.json == {"marked": 1, "unread": 0}  # only the caller's own, others' ids say nothing
    assert client.post(f"{MESSAGES}/read", json={"all": True}, headers=zhang).json["marked"] == 0
    db.session.expire_all()
    assert all(db.session.get(Message, i).read_at is None for i in theirs)
    assert client.get(MESSAGES, headers=li).json["unread"] == 2


def test_staff_alerts_never_show_in_a_workers_inbox(client):
    headers = login(client, "zhang")
    make_staff(client, "yongning")
    staff_id = db.session.scalar(select(StaffUser.id).where(StaffUser.username == "yongning"))
    alert([staff_id])
    assert client.get(MESSAGES, headers=headers).json == {"items": [], "unread": 0, "next_before": None}


def test_bad_queries_and_bodies_are_422(client):
    headers = login(client, "zhang")
    for query in ({"limit": 0}, {"limit": 51}, {"before": 0}, {"before": "x"}, {"unread": "maybe"}):
        answer = client.get(MESSAGES, query_string=query, headers=headers)
        assert answer.status_code == 422 and answer.json["error"]["code"] == "validation_error", query
    for body in ({}, {"ids": []}, {"ids": [1], "all": True}, {"all": False}, {"ids": ["x"]}, {"ids": [1], "x": 1},
                 {"ids": list(range(1, 202))}):
        answer = client.post(f"{MESSAGES}/read", json=body, headers=headers)
        assert answer.status_code == 422 and answer.json["error"]["code"] == "validation_error", body


def test_login_required(client):
    assert client.get(MESSAGES).status_code == 401
    assert client.post(f"{MESSAGES}/read", json={"all": True}).status_code == 401
