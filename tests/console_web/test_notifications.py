"""通知 page: the signed-in account's own alerts newest first, unread bold, 标为已读 one or all (CSRF), paging,
the header's unread badge on every page, and the mini-program link code."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import StaffUser
from tests.builders import login
from tests.console_web.helpers import make_web_staff, web_login
from tests.messaging.message_helpers import alert

PAGE = "/console/notifications"


def _staff_id(username):
    return db.session.scalar(select(StaffUser.id).where(StaffUser.username == username))


def _shown(html):
    return [(int(i), read) for i, read in re.findall(r'data-notification="(\d+)" data-read="(yes|no)"', html)]


def _badge(html):
    found = re.search(r'data-testid="unread-badge">([^<]+)<', html)
    return found.group(1) if found else None


def test_own_alerts_newest_first_unread_bold(client):
    make_web_staff(client, "yongning")
    make_web_staff(client.application.test_client(), "helan", county_code="640122")
    ids = alert([_staff_id("yongning")], subject="新的出行报名待审核") + alert([_staff_id("yongning")], kind="车次待发布")
    alert([_staff_id("helan")], subject="贺兰县的提醒")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert _shown(page.text) == [(ids[1], "no"), (ids[0], "no")]
    assert "贺兰县的提醒" not in page.text and "事项：新的出行报名待审核" in page.text
    assert 'class="fw-bold">车次待发布<' in page.text and "时间：2020年2月24日 10:00" in page.text  # Beijing time
    assert _badge(page.text) == "2"


def test_mark_one_then_all_read(client):
    csrf = make_web_staff(client, "yongning")
    ids = alert([_staff_id("yongning")]) + alert([_staff_id("yongning")])
    done = client.post(f"{PAGE}/read", data={"csrf_token": csrf, "ids": str(ids[0])})
    assert done.status_code == 302
    page = client.get(PAGE)
    assert "已将 1 条通知标为已读" in page.text
    assert _shown(page.text) == [(ids[1], "no"), (ids[0], "yes")] and _badge(page.text) == "1"
    assert _shown(client.get(PAGE, query_string={"unread": "1"}).text) == [(ids[1], "no")]
    client.post(f"{PAGE}/read", data={"csrf_token": csrf, "all": "1"})
    page = client.get(PAGE)
    assert _shown(page.text) == [(ids[1], "yes"), (ids[0], "yes")] and _badge(page.text) is None


def test_another_accounts_alert_cannot_be_marked(client):
    csrf = make_web_staff(client, "yongning")
    make_web_staff(client.application.test_client(), "helan", county_code="640122")
    [theirs] = alert([_staff_id("helan")])
    client.post(f"{PAGE}/read", data={"csrf_token": csrf, "ids": str(theirs)})
    assert "没有需要标为已读的通知" in client.get(PAGE).text
    other = client.application.test_client()
    web_login(other, "helan")
    assert _shown(other.get(PAGE).text) == [(theirs, "no")]


def test_marking_needs_the_csrf_token(client):
    make_web_staff(client, "yongning")
    ids = alert([_staff_id("yongning")])
    refused = client.post(f"{PAGE}/read", data={"all": "1"})
    assert refused.status_code == 403
    assert _shown(client.get(PAGE).text) == [(ids[0], "no")]


def test_paging(client):
    make_web_staff(client, "yongning")
    ids = [i for _ in range(23) for i in alert([_staff_id("yongning")])]
    first = client.get(PAGE)
    assert [i for i, _ in _shown(first.text)] == ids[::-1][:20] and "第 1/2 页" in first.text
    second = client.get(PAGE, query_string={"page": "2"})
    assert [i for i, _ in _shown(second.text)] == ids[::-1][20:]
    assert client.get(PAGE, query_string={"page": "²"}).status_code == 200  # a bad page number is page 1


def test_the_badge_is_on_every_page(client):
    make_web_staff(client, "office", role="admin")
    alert([_staff_id("office")])
    for url in ("/console/", "/console/audit", "/console/password", "/console/applications/999999"):
        assert _badge(client.get(url).text) == "1", url  # a 404 page inside the console too


def test_the_link_code_is_shown_once_and_links_the_mini_program(client):
    csrf = make_web_staff(client, "yongning")
    assert "未绑定" in client.get(PAGE).text
    page = client.post(f"{PAGE}/link-code", data={"csrf_token": csrf})
    assert page.status_code == 200
    code = re.search(r'data-testid="link-code">(\d{6})<', page.text).group(1)
    assert code not in client.get(PAGE).text  # not kept in a cookie or the URL
    worker = login(client, "zhang")
    assert client.post("/api/mp/v1/me/staff-link", json={"code": code}, headers=worker).status_code == 201
    assert "已绑定小程序用户" in client.get(PAGE).text
    assert client.post(f"{PAGE}/unlink", data={"csrf_token": csrf}).status_code == 302
    page = client.get(PAGE)
    assert "已解除小程序绑定" in page.text and "未绑定" in page.text
    assert client.post(f"{PAGE}/link-code", data={}).status_code == 403  # CSRF


def test_signed_out_goes_to_sign_in(client):
    answer = client.get(PAGE)
    assert answer.status_code == 302 and "/console/login" in answer.headers["Location"]
