"""消息发送 page (the office's admin): tabs by delivery state with counts, the failed list with why, 重新发送 one
or the ticked ones (CSRF), another role gets 403, the menu entry only for the admin."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Message
from tests.builders import make_worker
from tests.console_web.helpers import make_web_staff
from tests.messaging.message_helpers import decided, worker_id

PAGE = "/console/messages"


def _rows(html):
    return [int(i) for i in re.findall(r'<tr data-message="(\d+)"', html)]


def _fail(message_id, failure="gave_up", errcode=-1):
    message = db.session.get(Message, message_id)
    message.delivery, message.failure, message.errcode, message.attempts = "failed", failure, errcode, 8
    message.last_error = "system error"
    db.session.commit()


def _seeded(client):
    worker = worker_id(client, make_worker(client, "zhang"))
    ids = decided(worker, n=3)
    _fail(ids[0], "no_grant", 43101)
    _fail(ids[1], "gave_up", -1)
    return ids


def test_tabs_counts_and_the_failed_list(client):
    make_web_staff(client, "office", role="admin")
    ids = _seeded(client)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert _rows(page.text) == [ids[1], ids[0]]
    assert re.search(r'data-count="failed">2<', page.text) and re.search(r'data-count="inbox">1<', page.text)
    assert "用户未授权" in page.text and "已放弃重试" in page.text and "43101" in page.text
    assert "张*丰" in page.text and "张三丰" not in page.text
    assert 'href="/console/messages"' in page.text  # the admin's menu entry
    assert _rows(client.get(PAGE, query_string={"delivery": "inbox"}).text) == [ids[2]]
    assert _rows(client.get(PAGE, query_string={"template": "trip_assigned"}).text) == []


def test_retry_one_and_bulk(client):
    csrf = make_web_staff(client, "office", role="admin")
    ids = _seeded(client)
    # A row's button sends only its own message, even with other rows ticked.
    answer = client.post(f"{PAGE}/retry", data={"csrf_token": csrf, "one": str(ids[1]), "ids": str(ids[0])})
    assert answer.status_code == 302
    page = client.get(PAGE)
    assert "已将 1 条消息放回发送队列" in page.text and _rows(page.text) == [ids[0]]
    assert "未重发" not in page.text  # the ticked one was not sent along
    client.post(f"{PAGE}/retry", data={"csrf_token": csrf, "ids": [str(ids[0]), str(ids[2])]})
    page = client.get(PAGE)
    assert "用户尚未重新授权该模板" in page.text and "不是发送失败的消息" in page.text
    assert db.session.scalar(select(AuditLog.object_id).where(AuditLog.action == "message.retry")) == ids[1]
    db.session.expire_all()
    assert db.session.get(Message, ids[1]).delivery == "queued"


def test_retry_needs_csrf_and_a_choice(client):
    csrf = make_web_staff(client, "office", role="admin")
    ids = _seeded(client)
    assert client.post(f"{PAGE}/retry", data={"ids": str(ids[1])}).status_code == 403
    client.post(f"{PAGE}/retry", data={"csrf_token": csrf})
    assert "请先勾选要重新发送的消息" in client.get(PAGE).text
    db.session.expire_all()
    assert db.session.get(Message, ids[1]).delivery == "failed"


def test_another_role_gets_403_and_no_menu_entry(client):
    csrf = make_web_staff(client, "yongning")
    ids = _seeded(client)
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}/retry", data={"csrf_token": csrf, "ids": str(ids[1])}).status_code == 403
    assert 'href="/console/messages"' not in client.get("/console/").text


def test_bad_filters_are_the_pages_message(client):
    make_web_staff(client, "office", role="admin")
    page = client.get(PAGE, query_string={"delivery": "lost"})
    assert page.status_code == 422 and "筛选条件有误" in page.text
