"""审计日志 page: entries newest first in words, filters (user, action, group, days, object), links, the admin only."""
import re
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, StaffUser
from app.services.platform import audit
from tests.console_web.helpers import make_web_staff

PAGE = "/console/audit"


def _entries(html):
    return re.findall(r'<tr data-entry="\d+" data-action="([^"]+)"', html)


def _record(actor_kind, actor_id, action, object_type, object_id=None, at=None, **details):
    audit.record(actor_kind, actor_id, action, object_type, object_id, **details)
    db.session.flush()
    if at:
        db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first().at = at
    db.session.commit()


def _seeded(client):
    """An admin signed in, a county clerk, and a few entries of theirs; returns (admin id, clerk id)."""
    make_web_staff(client, "office", role="admin")
    make_web_staff(client.application.test_client(), "yongning")
    ids = dict(db.session.execute(select(StaffUser.username, StaffUser.id)).all())
    _record("staff", ids["yongning"], "application.approve", "application", 7, at=datetime(2020, 2, 24, 16, 30))
    _record("staff", ids["office"], "export.liaison_units", "liaison_unit", None, rows=3, full_mobiles=True,
            at=datetime(2020, 2, 25, 3, 0))
    _record("worker", 5, "read.full_phone", "worker", 6, at=datetime(2020, 2, 26, 3, 0), role="captain")
    return ids["office"], ids["yongning"]


def test_entries_in_words_newest_first(client):
    _seeded(client)
    page = client.get(PAGE)
    assert page.status_code == 200
    shown = _entries(page.text)
    assert shown[:3] == ["read.full_phone", "export.liaison_units", "application.approve"]
    html = page.text
    assert "查看完整手机号" in html and "导出附件1（联络员）" in html and "通过报名" in html
    assert re.search(r"2020-02-25</span>\s*<span[^>]*>00:30<", html)  # Beijing time
    assert "yongning" in html and "含完整手机号</span> 是" in html
    assert 'href="/console/applications/7"' in html  # the object's page
    assert "务工人员 —（#5）" in html


def test_filters(client):
    _seeded(client)
    only = lambda **query: _entries(client.get(PAGE, query_string=query).text)  # noqa: E731
    assert only(user="yongning") == ["application.approve"]
    assert only(action="export.liaison_units") == ["export.liaison_units"]
    assert only(action="group:personal_data") == ["read.full_phone", "export.liaison_units"]
    assert only(day_from="2020-02-25", day_to="2020-02-25") == ["export.liaison_units", "application.approve"]
    assert only(object_type="application", object_id="7") == ["application.approve"]
    assert only(actor="worker:5") == ["read.full_phone"]
    kept = client.get(PAGE, query_string={"action": "group:personal_data", "user": "office"}).text
    assert '<option value="group:personal_data" selected>' in kept and 'value="office"' in kept


def test_bad_filters_are_said_on_the_page(client):
    _seeded(client)
    for query, words in (({"day_from": "2020-02-30"}, "开始日期"), ({"day_from": "2020-02-26", "day_to": "2020-02-25"}, "结束日期"),
                         ({"action": "group:nope"}, "未知的操作分组"), ({"per_page": "7"}, "每页条数"),
                         ({"actor": "robot:1"}, "操作人")):
        page = client.get(PAGE, query_string=query)
        assert page.status_code == 422 and words in page.text and _entries(page.text) == [], query


def test_an_account_change_made_on_its_page_is_in_the_log(client):
    from tests.console_web.helpers import csrf_of

    make_web_staff(client, "office", role="admin")
    form = client.get("/console/accounts/new").text
    client.post("/console/accounts", data={"csrf_token": csrf_of(form), "username": "xixia", "role": "county_operator",
                                           "county_code": "640105", "password": "a-typed-password"})
    account_id = db.session.scalar(select(StaffUser.id).where(StaffUser.username == "xixia"))
    detail = client.get(f"/console/accounts/{account_id}").text
    about = re.search(r'href="([^"]+)">此账号的变更记录', detail).group(1).replace("&amp;", "&")
    page = client.get(about).text
    assert _entries(page) == ["staff.create"] and "新建账号" in page and "a-typed-password" not in page
    assert "县区专班" in page and "西夏区" in page  # the details in words, not county_operator / 640105


def test_other_roles_get_the_403_page(client):
    make_web_staff(client, "yongning")
    for query in ({}, {"action": "group:nope"}):
        page = client.get(PAGE, query_string=query)
        assert page.status_code == 403 and "无权访问" in page.text
    assert "审计日志" not in client.get("/console/password").text
