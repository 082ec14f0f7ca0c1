"""内容审核 page: flagged worker texts by tab, the worker masked, 处理 with an outcome, scope, roles, CSRF, the menu."""
import re

import requests
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, ContentCheck
from tests.builders import PRIVACY_VERSION, profile
from tests.console_web.helpers import make_web_staff
from tests.miniprogram_api.wechat_helpers import verdicts, wechat_login
from tests.miniprogram_api.wechat_helpers import wechat, wechat_app  # noqa: F401  (fixtures)

PAGE = "/console/content"


def _flag_texts(client, mock):
    """A 永宁县 worker with a text to review, and one of no known county whose text waits for a recheck."""
    verdicts(mock, {"老乡群": "review", "杨和镇": requests.ConnectTimeout("slow")})
    headers = wechat_login(client, mock, "o-1")
    assert client.put("/api/mp/v1/me", json=profile(1, job_intention="进老乡群"), headers=headers).status_code == 200
    other = wechat_login(client, mock, "o-2")
    body = {"consent_version": PRIVACY_VERSION, "current_address": "永宁县杨和镇"}
    assert client.put("/api/mp/v1/me", json=body, headers=other).status_code == 200
    db.session.remove()
    review = db.session.scalar(select(ContentCheck.id).where(ContentCheck.status == "review"))
    pending = db.session.scalar(select(ContentCheck.id).where(ContentCheck.status == "pending"))
    return review, pending


def _rows(html):
    return [int(found) for found in re.findall(r'<tr data-check="(\d+)"', html)]


def test_open_tab_first_with_the_text_and_the_worker_masked(wechat_app, wechat):
    client = wechat_app.test_client()
    review, pending = _flag_texts(client, wechat)
    make_web_staff(client, "office", role="admin")
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.text
    assert _rows(html) == [review]
    assert "进老乡群" in html and "求职意向" in html and "需人工审核" in html
    assert "张*丰" in html and "张三丰" not in html and "139****0001" in html and "13900000001" not in html
    assert re.search(r'data-tab="open">待处理 <span[^>]*>1</span>', html)
    assert re.search(r'data-tab="pending">待复查 <span[^>]*>1</span>', html)
    assert re.search(r'data-tab="all">全部 <span[^>]*>2</span>', html)
    assert 'href="/console/content"' in html and ">内容审核</a>" in html  # the menu entry
    pending_tab = client.get(PAGE, query_string={"status": "pending"}).text
    assert _rows(pending_tab) == [pending] and "永宁县杨和镇" in pending_tab
    assert 'name="outcome"' not in pending_tab  # nothing to handle while WeChat has not judged it
    assert sorted(_rows(client.get(PAGE, query_string={"status": "all"}).text)) == sorted([review, pending])
    bad = client.get(PAGE, query_string={"status": "nonsense"})
    assert bad.status_code == 422 and "筛选条件有误" in bad.text


def test_handle_with_an_outcome(wechat_app, wechat):
    client = wechat_app.test_client()
    review, _ = _flag_texts(client, wechat)
    token = make_web_staff(client, "yongning")
    form = {"csrf_token": token, "outcome": "contacted", "note": "已电话提醒修改", "back": "/console/content?status=open"}
    response = client.post(f"{PAGE}/{review}/handle", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/content?status=open")
    follow = client.get(response.headers["Location"])
    assert "已处理：已联系本人" in follow.text and _rows(follow.text) == []
    handled = client.get(PAGE, query_string={"status": "handled"}).text
    assert _rows(handled) == [review] and "已联系本人" in handled and "已电话提醒修改" in handled
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.object_type == "content_check")) \
        == "content_check.handle"
    again = client.post(f"{PAGE}/{review}/handle", data={"csrf_token": token, "outcome": "ok"})
    assert again.status_code == 409 and "该内容已由他人处理" in again.text
    wrong = client.post(f"{PAGE}/{review}/handle", data={"csrf_token": token, "outcome": "maybe"})
    assert wrong.status_code == 422 and "处理结果" in wrong.text


def test_scope_roles_and_csrf(wechat_app, wechat):
    client = wechat_app.test_client()
    review, pending = _flag_texts(client, wechat)
    token = make_web_staff(client, "xixia", county_code="640105")
    assert _rows(client.get(PAGE, query_string={"status": "all"}).text) == []  # another county's workers
    outside = client.post(f"{PAGE}/{review}/handle", data={"csrf_token": token, "outcome": "ok"})
    assert outside.status_code == 404
    assert client.post(f"{PAGE}/{review}/handle", data={"outcome": "ok"}).status_code == 403  # no CSRF token
    assert db.session.get(ContentCheck, review).handled_at is None
    client.post("/console/logout", data={"csrf_token": token})
    officer = make_web_staff(client, "weijian", role="health_officer")
    assert client.get(PAGE).status_code == 403
    assert 'href="/console/content"' not in client.get("/console/isolation").text
    client.post("/console/logout", data={"csrf_token": officer})
    assert client.get(PAGE).status_code in (302, 303)  # signed out: to the login page
