"""隔离管理 pages: orders by state, the drawer with the health record, open / activate / release / dismiss, the feed,
the export link, scope (another county → 404 page), roles (403 page) and CSRF."""
import io
import re
from datetime import timedelta

import openpyxl
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, HealthEvent, IsolationOrder, StaffUser
from app.services.platform.timeutil import local_today
from tests.builders import make_id_number
from tests.console.roster_helpers import ROSTER, XIXIA, hr, register
from tests.console_web.helpers import make_web_staff

LIST = "/console/isolation"
HX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/console/isolation?status=pending"}
PLACE = "永宁县集中隔离点（望远宾馆）"


def _abnormal(client, n=0, name=None, **body):
    """A 零散返岗 returnee of 永宁 whose follow-up shows fever: a pending order; returns (worker id, order id)."""
    headers, enterprise_id = hr(client, **({"name": name} if name else {}), username=f"hr{n}")
    row = register(client, headers, enterprise_id, n=n, days_ago=2, **body)
    response = client.post(f"{ROSTER.format(enterprise_id)}/{row['worker_id']}/follow-ups",
                           json={"temperature": 38.2}, headers=headers)
    assert response.status_code == 201, response.json
    return row["worker_id"], response.json["isolation_order_id"]


def _order(order_id):
    db.session.expire_all()
    return db.session.get(IsolationOrder, order_id)


def _ids_on(html):
    return [int(found) for found in re.findall(r'<tr data-order="(\d+)"', html)]


def _events(worker_id, kind):
    return db.session.scalar(select(func.count()).select_from(HealthEvent).where(
        HealthEvent.worker_id == worker_id, HealthEvent.kind == kind))


def test_list_by_state_with_masked_rows_and_counts(client):
    _, pending = _abnormal(client, 0)
    worker, other = _abnormal(client, 1)
    token = make_web_staff(client, "weijian", role="health_officer")
    client.post(f"{LIST}/{other}/activate", data={"csrf_token": token, "kind": "home", "place": "家中"})
    page = client.get(LIST)
    assert page.status_code == 200
    html = page.text
    assert sorted(_ids_on(html)) == sorted([pending, other])
    assert "李*光" in html and "李四光" not in html and make_id_number(area="510104", sequence=500) not in html
    assert "510104********" in html and "发热" in html
    assert re.search(r'data-tab="pending">待处理 <span[^>]*>1</span>', html)
    assert re.search(r'data-tab="active">隔离中 <span[^>]*>1</span>', html)
    assert _ids_on(client.get(LIST, query_string={"status": "pending"}).text) == [pending]
    assert _ids_on(client.get(LIST, query_string={"status": "active", "kind": "home"}).text) == [other]
    assert _ids_on(client.get(LIST, query_string={"kind": "centralized"}).text) == []
    assert _ids_on(client.get(LIST, query_string={"worker_id": worker}).text) == [other]
    # An empty form field is no filter.
    assert len(_ids_on(client.get(LIST, query_string={"status": "", "kind": "", "worker_id": ""}).text)) == 2


def test_invalid_filters_say_so_on_the_page(client):
    make_web_staff(client, "weijian", role="health_officer")
    for query, word in (({"status": "bogus"}, "状态"), ({"kind": "hotel"}, "隔离方式"), ({"per_page": "0"}, "每页条数"),
                        ({"worker_id": "x"}, "人员编号")):
        page = client.get(LIST, query_string=query)
        assert page.status_code == 422, query
        assert "筛选条件有误" in page.text and word in page.text and 'role="search"' in page.text


def test_paging_keeps_the_filters(client):
    ids = [_abnormal(client, n)[1] for n in range(3)]
    make_web_staff(client, "weijian", role="health_officer")
    first = client.get(LIST, query_string={"per_page": 2, "status": "pending"}).text
    assert _ids_on(first) == ids[::-1][:2] and "第 1/2 页" in first
    assert "page=2" in first and "status=pending" in first
    assert _ids_on(client.get(LIST, query_string={"per_page": 2, "status": "pending", "page": 2}).text) == ids[:1]


def test_drawer_and_page_show_the_order_and_the_health_record(client):
    worker, order_id = _abnormal(client)
    make_web_staff(client, "weijian", role="health_officer")
    drawer = client.get(f"{LIST}/{order_id}", headers=HX)
    assert drawer.status_code == 200 and "<html" not in drawer.text
    html = drawer.text
    assert "隔离单 #" in html and "李*光" in html and "李四光" not in html
    assert 'data-kind="follow_up"' in html and "体温 38.2℃" in html and "企业随访" in html
    assert 'data-order-status="pending"' in html and "开始隔离" in html and "撤销原因" in html
    assert 'name="back" value="/console/isolation?status=pending"' in html
    page = client.get(f"{LIST}/{order_id}")
    assert page.status_code == 200 and "<html" in page.text and "健康档案" in page.text


def test_activate_then_release_with_a_note(client):
    worker, order_id = _abnormal(client)
    token = make_web_staff(client, "weijian", role="health_officer")
    back = f"{LIST}?status=pending"
    activated = client.post(f"{LIST}/{order_id}/activate", data={
        "csrf_token": token, "back": back, "kind": "centralized", "place": PLACE, "starts_on": "", "ends_on": ""})
    assert activated.status_code == 302 and activated.headers["Location"] == back
    order = _order(order_id)
    assert (order.status, order.kind, order.place) == ("active", "centralized", PLACE)
    assert order.ends_on == local_today() + timedelta(days=13)
    assert "已开始集中隔离" in client.get(back).text
    assert _events(worker, "isolation_start") == 1
    drawer = client.get(f"{LIST}/{order_id}", headers=HX).text
    assert "解除隔离" in drawer and "开始隔离</button>" not in drawer
    released = client.post(f"{LIST}/{order_id}/release", data={"csrf_token": token, "note": "核酸阴性，期满解除"})
    assert released.status_code == 302
    order = _order(order_id)
    assert (order.status, order.note) == ("released", "核酸阴性，期满解除")
    assert _events(worker, "isolation_end") == 1
    # Released: nothing is left to do, the page says so instead of offering a button.
    again = client.post(f"{LIST}/{order_id}/release", data={"csrf_token": token})
    assert again.status_code == 409 and "只有隔离中的隔离单可以解除" in again.text
    assert _events(worker, "isolation_end") == 1


def test_bad_activation_shows_the_message_and_changes_nothing(client):
    worker, order_id = _abnormal(client)
    token = make_web_staff(client, "weijian", role="health_officer")
    today = local_today()
    for data, words in (({"kind": "centralized", "place": ""}, "隔离地点"),
                        ({"kind": "hotel", "place": PLACE}, "隔离方式"),
                        ({"kind": "home", "place": PLACE, "starts_on": "2020-13-01"}, "开始日期"),
                        ({"kind": "home", "place": PLACE, "starts_on": today.isoformat(),
                          "ends_on": (today - timedelta(days=1)).isoformat()}, "结束日期 不能早于开始日期")):
        page = client.post(f"{LIST}/{order_id}/activate", data={"csrf_token": token, **data})
        assert page.status_code == 422, data
        assert "未开始隔离" in page.text and words in page.text, data
        assert f'value="{data["place"]}"' in page.text  # what was typed is kept to correct it
        assert _order(order_id).status == "pending"
    assert _events(worker, "isolation_start") == 0


def test_dismiss_needs_a_reason(client):
    worker, order_id = _abnormal(client)
    token = make_web_staff(client, "weijian", role="health_officer")
    blank = client.post(f"{LIST}/{order_id}/dismiss", data={"csrf_token": token, "note": "  "})
    assert blank.status_code == 422 and "未撤销" in blank.text and "说明" in blank.text
    assert _order(order_id).status == "pending"
    dismissed = client.post(f"{LIST}/{order_id}/dismiss", data={"csrf_token": token, "note": "体温录入错误",
                                                                 "back": "https://evil.example/elsewhere"})
    assert dismissed.status_code == 302 and dismissed.headers["Location"] == LIST  # never off the isolation pages
    order = _order(order_id)
    assert (order.status, order.note) == ("dismissed", "体温录入错误")
    assert "已撤销隔离单" in client.get(LIST).text
    assert _events(worker, "isolation_start") == 0
    activate_late = client.post(f"{LIST}/{order_id}/activate", data={"csrf_token": token, "kind": "home", "place": "家中"})
    assert activate_late.status_code == 409 and "只有待处理的隔离单可以开始隔离" in activate_late.text


def test_open_an_order_for_a_person_of_the_feed(client):
    headers, enterprise_id = hr(client)
    row = register(client, headers, enterprise_id, days_ago=0)
    token = make_web_staff(client, "weijian", role="health_officer", county_code="640121")
    listing = client.get(LIST).text
    assert f'data-worker="{row["worker_id"]}"' in listing  # the feed lists the returnee with 开单
    assert f'/console/isolation/new?worker_id={row["worker_id"]}' in listing
    form = client.get(f"{LIST}/new", query_string={"worker_id": row["worker_id"]})
    assert form.status_code == 200 and "李*光" in form.text and "健康档案" in form.text
    bad = client.post(f"{LIST}/new", data={"csrf_token": token, "worker_id": row["worker_id"], "kind": "home",
                                           "place": " "})
    assert bad.status_code == 422 and "未开单" in bad.text and "隔离地点" in bad.text
    assert db.session.scalar(select(func.count()).select_from(IsolationOrder)) == 0
    opened = client.post(f"{LIST}/new", data={"csrf_token": token, "worker_id": row["worker_id"], "kind": "home",
                                              "place": "家中", "note": "密接"})
    assert opened.status_code == 302 and f"worker_id={row['worker_id']}" in opened.headers["Location"]
    order = db.session.scalar(select(IsolationOrder))
    assert (order.status, order.kind, order.reason) == ("active", "home", "health_officer")
    assert "已开具居家隔离单" in client.get(opened.headers["Location"]).text
    twice = client.post(f"{LIST}/new", data={"csrf_token": token, "worker_id": row["worker_id"], "kind": "home",
                                             "place": "家中"})
    assert twice.status_code == 409 and "已有待处理或进行中的隔离单" in twice.text
    assert 'data-testid="open-order"' in client.get(f"{LIST}/new", query_string={"worker_id": row["worker_id"]}).text
    assert client.get(f"{LIST}/new").status_code == 200  # without a person: how to choose one
    assert client.get(f"{LIST}/new", query_string={"worker_id": "abc"}).status_code == 422


def test_feed_fragment_refreshes_on_its_own(client):
    headers, enterprise_id = hr(client)
    register(client, headers, enterprise_id, days_ago=0)
    make_web_staff(client, "weijian", role="health_officer")
    page = client.get(LIST).text
    assert 'hx-trigger="every 30s"' in page and "X-Console-Background" in page
    fragment = client.get(f"{LIST}/feed", headers={"HX-Request": "true", "X-Console-Background": "1"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'data-testid="feed-row"' in fragment.text and "零散返岗" in fragment.text and "李*光" in fragment.text


def test_export_keeps_the_filter(client):
    _abnormal(client, 0)
    _, active = _abnormal(client, 1)
    token = make_web_staff(client, "weijian", role="health_officer")
    client.post(f"{LIST}/{active}/activate", data={"csrf_token": token, "kind": "home", "place": "家中"})
    page = client.get(LIST, query_string={"status": "active", "kind": "home"}).text
    link = re.search(r'href="([^"]+)" data-testid="export"', page).group(1).replace("&amp;", "&")
    assert link.startswith("/console/isolation/export.xlsx?") and "status=active" in link and "kind=home" in link
    response = client.get(link)
    assert response.status_code == 200 and "filename*=UTF-8''" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    text = " ".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell)
    assert text.count("隔离中") == 1 and "待处理" not in text and make_id_number(area="510104", sequence=501) not in text
    full = client.get("/console/isolation/export.xlsx", query_string={"full_ids": "true"})
    assert full.status_code == 200
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "export.isolation")
                             .order_by(AuditLog.id.desc()).limit(1)).details["full_id_numbers"] is True
    assert client.get("/console/isolation/export.xlsx", query_string={"status": "bogus"}).status_code == 422


def test_another_countys_order_is_not_found(client):
    _, order_id = _abnormal(client, name=XIXIA)  # an enterprise of 西夏区
    token = make_web_staff(client, "weijian", role="health_officer", county_code="640121")
    assert _ids_on(client.get(LIST).text) == []
    for response in (client.get(f"{LIST}/{order_id}"),
                     client.post(f"{LIST}/{order_id}/activate", data={"csrf_token": token, "kind": "home", "place": "家中"}),
                     client.post(f"{LIST}/{order_id}/activate", data={"csrf_token": token, "kind": "bad"}),
                     client.post(f"{LIST}/{order_id}/dismiss", data={"csrf_token": token, "note": "x"}),
                     client.post(f"{LIST}/{order_id}/dismiss", data={"csrf_token": token}),
                     client.post(f"{LIST}/{order_id}/release", data={"csrf_token": token})):
        assert response.status_code == 404 and "未找到" in response.text and "没有找到该隔离单" in response.text
    drawer = client.get(f"{LIST}/{order_id}", headers=HX)  # htmx: the message goes to the page's alert area
    assert drawer.headers["HX-Retarget"] == "#alerts" and "没有找到该隔离单" in drawer.text
    assert _order(order_id).status == "pending"
    worker = _order(order_id).worker_id
    assert client.get(f"{LIST}/new", query_string={"worker_id": worker}).status_code == 404
    opened = client.post(f"{LIST}/new", data={"csrf_token": token, "worker_id": worker, "kind": "home", "place": "家中"})
    assert opened.status_code == 404


def test_county_operator_gets_the_403_page(client):
    _, order_id = _abnormal(client)
    token = make_web_staff(client)  # 永宁县 county operator
    for response in (client.get(LIST), client.get(f"{LIST}/feed"), client.get(f"{LIST}/{order_id}"),
                     client.get(f"{LIST}/new"), client.get(f"{LIST}/export.xlsx"),
                     client.post(f"{LIST}/{order_id}/activate", data={"csrf_token": token, "kind": "home", "place": "家中"}),
                     client.post(f"{LIST}/{order_id}/dismiss", data={"csrf_token": token, "note": "x"})):
        assert response.status_code == 403 and "无权访问" in response.text
    assert _order(order_id).status == "pending"
    assert "隔离管理" not in client.get("/console/applications").text  # not in the menu


def test_post_without_csrf_is_refused(client):
    _, order_id = _abnormal(client)
    make_web_staff(client, "weijian", role="health_officer")
    for url, data in ((f"{LIST}/{order_id}/activate", {"kind": "home", "place": "家中"}),
                      (f"{LIST}/{order_id}/dismiss", {"note": "x"}), (f"{LIST}/new", {"worker_id": "1"})):
        for token in (None, "forged"):
            response = client.post(url, data={**data, **({"csrf_token": token} if token else {})})
            assert response.status_code == 403 and "<html" in response.text
    assert _order(order_id).status == "pending"


def test_admin_sees_every_county(client):
    _, here = _abnormal(client, 0)
    _, there = _abnormal(client, 1, name=XIXIA)
    make_web_staff(client, "office", role="admin")
    assert sorted(_ids_on(client.get(LIST).text)) == sorted([here, there])


def test_the_service_says_which_steps_are_open_and_counts_by_state_in_one_query(client, app):
    from sqlalchemy import event

    from app.services.employment import isolation
    from console.web import isolation_view

    _, pending = _abnormal(client, 0)
    _, active = _abnormal(client, 1)
    _, dismissed = _abnormal(client, 2)
    token = make_web_staff(client, "weijian", role="health_officer")
    client.post(f"{LIST}/{active}/activate", data={"csrf_token": token, "kind": "home", "place": "家中"})
    client.post(f"{LIST}/{dismissed}/dismiss", data={"csrf_token": token, "note": "体温录入错误"})
    steps = {order_id: isolation.steps_open(_order(order_id)) for order_id in (pending, active, dismissed)}
    assert steps == {pending: ("activate", "dismiss"), active: ("release",), dismissed: ()}
    assert [isolation.is_open(_order(order_id)) for order_id in (pending, active, dismissed)] == [True, True, False]
    # The drawer offers exactly the open steps.
    assert "开始隔离" in client.get(f"{LIST}/{pending}").text and "撤销原因" in client.get(f"{LIST}/{pending}").text
    released = client.get(f"{LIST}/{active}").text
    assert "解除隔离" in released and "撤销原因" not in released and 'name="starts_on"' not in released
    closed = client.get(f"{LIST}/{dismissed}").text
    assert "撤销原因" not in closed and 'name="starts_on"' not in closed
    # The tabs' counts: one GROUP BY, the same figures as listing each state.
    officer = db.session.scalar(select(StaffUser).where(StaffUser.username == "weijian"))
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        counted = isolation_view.counts(officer, {"kind": "home"})
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len([sql for sql in statements if "isolation_orders" in sql]) == 1
    assert counted == {None: 1, "pending": 0, "active": 1, "released": 0, "dismissed": 0}
    everything = isolation_view.counts(officer, {})
    assert everything == {None: 3, **{status: isolation.list_orders(officer, {"status": status})[2]
                                      for status in isolation.STATUSES}}
    assert everything["dismissed"] == 1 and everything["pending"] == 1
