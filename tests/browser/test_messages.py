"""Messages in the browser: a county clerk reads their alerts (通知: the header's badge, unread bold, 标为已读, 全部标为
已读) and links the mini-program with a one-time code; the office's admin reads 消息发送 and sends failed ones again."""
import json
import re
import urllib.request

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Message, StaffUser
from app.services.accounts import staff
from tests.browser.helpers import check_a11y, shoot, sign_in
from tests.builders import STAFF_PASSWORD, login, make_worker
from tests.messaging.message_helpers import alert, decided, worker_id


def _post(live, path, body, headers):
    """POST JSON to the served app (the mini-program's request reaches gunicorn, as the code lives in its cache)."""
    request = urllib.request.Request(live.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={**headers, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status


def _staff_id(username):
    return db.session.scalar(select(StaffUser.id).where(StaffUser.username == username))


def test_a_clerk_reads_alerts_and_links_the_mini_program(page, live):
    staff.create_staff("yongning", STAFF_PASSWORD, "county_operator", county_code="640121", display_name="王永宁",
                       by=staff.CLI)
    alert([_staff_id("yongning")], subject="新的出行报名待审核", note="永宁县 3 条报名", kind="报名待审核")
    alert([_staff_id("yongning")], subject="车次 宁A12345 待发布", note="明天 07:30 发车", kind="车次待发布")
    sign_in(page, live, "yongning")
    badge = page.get_by_test_id("unread-badge")
    expect(badge).to_have_text("2")

    page.get_by_test_id("notifications-link").click()
    page.wait_for_url("**/console/notifications")
    expect(page.locator("[data-read=no]")).to_have_count(2)
    check_a11y(page)
    shoot(page, "notifications-unread")

    page.get_by_role("button", name="标为已读 车次待发布").click()
    expect(page.locator("#alerts")).to_contain_text("已将 1 条通知标为已读")
    expect(badge).to_have_text("1")
    page.get_by_test_id("read-all").click()
    expect(page.locator("#alerts")).to_contain_text("已将 1 条通知标为已读")
    expect(page.locator("[data-read=no]")).to_have_count(0)
    expect(badge).to_have_count(0)

    page.get_by_role("button", name="生成绑定码").click()
    code = page.get_by_test_id("link-code").inner_text()
    assert re.fullmatch(r"\d{6}", code)
    check_a11y(page)
    shoot(page, "notifications-link-code")
    if not live.app.config.get("REDIS_URL"):
        return  # without Redis each gunicorn worker keeps its own codes: the mini-program's post may reach another
    worker = make_worker(live.client, "zhang")
    assert _post(live, "/api/mp/v1/me/staff-link", {"code": code}, worker) == 201
    page.reload()
    expect(page.get_by_test_id("link-state")).to_contain_text("已绑定小程序用户 张*丰")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="解除绑定").click()
    expect(page.locator("#alerts")).to_contain_text("已解除小程序绑定")


def test_the_office_sends_failed_messages_again(page, live):
    staff.create_staff("office", STAFF_PASSWORD, "admin", display_name="刘主任", by=staff.CLI)
    worker = worker_id(live.client, make_worker(live.client, "zhang"))
    ids = decided(worker, n=4)
    for message_id, failure, errcode in ((ids[0], "no_grant", 43101), (ids[1], "gave_up", -1),
                                         (ids[2], "bad_data", 47003)):
        message = db.session.get(Message, message_id)
        message.delivery, message.failure, message.errcode, message.attempts = "failed", failure, errcode, 3
        message.last_error = "argument invalid!" if errcode == 47003 else "system error"
    db.session.commit()
    login(live.client, "li")

    sign_in(page, live, "office")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="消息发送").click()
    page.wait_for_url("**/console/messages")
    expect(page.locator("[data-count=failed]")).to_have_text("3")
    expect(page.locator("tr[data-message]")).to_have_count(3)
    expect(page.locator("tbody")).to_contain_text("用户未授权")
    check_a11y(page)
    shoot(page, "messages-failed")

    page.get_by_role("button", name=f"重新发送 消息 #{ids[1]}").click()
    expect(page.locator("#alerts")).to_contain_text("已将 1 条消息放回发送队列")
    expect(page.locator("[data-count=failed]")).to_have_text("2")
    expect(page.locator("[data-count=queued]")).to_have_text("1")

    page.get_by_role("checkbox", name="全选本页").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="批量重新发送").click()
    expect(page.locator("#alerts")).to_contain_text("已将 1 条消息放回发送队列")
    expect(page.locator("#alerts")).to_contain_text("用户尚未重新授权该模板")
    expect(page.locator("tr[data-message]")).to_have_count(1)
    check_a11y(page)
    shoot(page, "messages-after-retry")
    page.locator("[data-state=queued]").click()
    expect(page.locator("tr[data-message]")).to_have_count(2)
    shoot(page, "messages-queued")
