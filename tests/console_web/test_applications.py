"""申请审核 pages: filters and paging, the detail drawer, single and bulk decisions, scope, CSRF."""
import re

from app.extensions import db
from app.models import Application
from tests.builders import declare_health, make_id_number, make_mobile, make_worker, submit_application
from tests.console_web.helpers import make_web_staff

LIST = "/console/applications"
HX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/console/applications?status=submitted"}


def _applications(client, count, start=0, **overrides):
    """`count` workers (张三丰) with submitted applications; returns their ids."""
    return [submit_application(client, make_worker(client, name=f"w{n}", n=n), **overrides)
            for n in range(start, start + count)]


def _ids_on(html):
    return [int(found) for found in re.findall(r'<tr data-application="(\d+)"', html)]


def _status(application_id):
    db.session.expire_all()
    return db.session.get(Application, application_id).status


def test_list_shows_masked_rows_with_health_and_status(client):
    make_web_staff(client)
    [application_id] = _applications(client, 1)
    page = client.get(LIST)
    assert page.status_code == 200
    html = page.text
    assert _ids_on(html) == [application_id]
    assert "张*丰" in html and "张三丰" not in html
    assert make_id_number(sequence=100) not in html and make_mobile(0) not in html
    assert "640104********" in html or "*" * 8 in html
    assert 'data-health="green"' in html and "正常" in html
    assert 'data-status="submitted"' in html and "待审核" in html
    assert "共 1 条" in html and "宁波某电子有限公司" in html


def test_filters_match_the_api(client):
    make_web_staff(client)
    [outbound] = _applications(client, 1)
    [inbound] = _applications(client, 1, start=1, direction="inbound", origin="甘肃省定西市", destination_city="银川市")
    assert _ids_on(client.get(LIST, query_string={"direction": "inbound"}).text) == [inbound]
    assert _ids_on(client.get(LIST, query_string={"destination": "宁波"}).text) == [outbound]
    # An empty form field is no filter, as when the filter bar is sent untouched.
    everything = client.get(LIST, query_string={"status": "", "direction": "", "destination": "", "date_from": ""})
    assert sorted(_ids_on(everything.text)) == sorted([outbound, inbound])
    assert _ids_on(client.get(LIST, query_string={"status": "approved"}).text) == []
    far = client.get(LIST, query_string={"date_from": "2099-01-01"}).text
    assert _ids_on(far) == [] and "没有符合条件的报名" in far
    # The filter bar keeps what was asked.
    kept = client.get(LIST, query_string={"direction": "inbound", "destination": "银川"}).text
    assert '<option value="inbound" selected>' in kept and 'value="银川"' in kept


def test_invalid_filters_say_so_on_the_page(client):
    make_web_staff(client)
    for query, words in (({"status": "bogus"}, "状态"), ({"date_from": "2020-13-45"}, "出发日期从"),
                         ({"per_page": "9999"}, "每页条数"), ({"page": "x"}, "页码")):
        page = client.get(LIST, query_string=query)
        assert page.status_code == 422, query
        assert "筛选条件有误" in page.text and words in page.text
        assert 'role="search"' in page.text  # the filter bar is still there to correct it


def test_paging_keeps_the_filters(client):
    make_web_staff(client)
    ids = _applications(client, 5)
    first = client.get(LIST, query_string={"per_page": 2, "status": "submitted"}).text
    assert _ids_on(first) == ids[:2] and "共 5 条" in first and "第 1/3 页" in first
    assert "page=2" in first and "status=submitted" in first
    third = client.get(LIST, query_string={"per_page": 2, "status": "submitted", "page": 3}).text
    assert _ids_on(third) == ids[4:]


def test_drawer_and_page_show_masked_identity_and_health_record(client):
    make_web_staff(client)
    headers = make_worker(client)
    declare_health(client, headers, temperature=36.8, places=["浙江宁波"])
    application_id = submit_application(client, headers)
    drawer = client.get(f"{LIST}/{application_id}", headers=HX)
    assert drawer.status_code == 200
    html = drawer.text
    assert "<html" not in html and 'class="offcanvas-header"' in html
    assert "张*丰" in html and "张三丰" not in html
    assert make_id_number(sequence=100) not in html and make_mobile(0) not in html
    assert 'data-health="green"' in html and "健康状况正常" in html
    record = html[html.index('data-testid="health-record"'):]
    assert record.count("健康申报") == 2 and record.index("36.8") < record.index("36.5")  # newest first
    assert "浙江宁波" in record and "本人" in record
    # The drawer's forms return to the list it was opened from.
    assert 'name="back" value="/console/applications?status=submitted"' in html
    page = client.get(f"{LIST}/{application_id}")
    assert page.status_code == 200 and "<html" in page.text and "健康档案" in page.text
    assert "张三丰" not in page.text


def test_approve_and_reject_one(client):
    token = make_web_staff(client)
    first, second = _applications(client, 2)
    approved = client.post(f"{LIST}/{first}/approve", data={"csrf_token": token, "back": f"{LIST}?status=submitted"})
    assert approved.status_code == 302 and approved.headers["Location"].endswith("/console/applications?status=submitted")
    assert "已通过 1 条" in client.get(approved.headers["Location"]).text
    assert _status(first) == "approved"
    no_reason = client.post(f"{LIST}/{second}/reject", data={"csrf_token": token, "reason": "  "})
    assert "驳回时请填写原因" in client.get(no_reason.headers["Location"]).text and _status(second) == "submitted"
    too_long = client.post(f"{LIST}/{second}/reject", data={"csrf_token": token, "reason": "长" * 256})
    assert "驳回原因" in client.get(too_long.headers["Location"]).text and _status(second) == "submitted"
    rejected = client.post(f"{LIST}/{second}/reject", data={"csrf_token": token, "reason": "目的地暂不接收"})
    assert "已驳回 1 条" in client.get(rejected.headers["Location"]).text
    assert _status(second) == "rejected"
    assert db.session.get(Application, second).status_reason == "目的地暂不接收"
    # Already decided: a clear message, nothing changed.
    again = client.post(f"{LIST}/{second}/approve", data={"csrf_token": token})
    assert "未处理 1 条：该报名当前状态不能审核" in client.get(again.headers["Location"]).text
    assert _status(second) == "rejected"
    repeated = client.post(f"{LIST}/{first}/approve", data={"csrf_token": token})
    assert "1 条原已通过，未改动" in client.get(repeated.headers["Location"]).text


def test_drawer_offers_only_open_decisions(client):
    token = make_web_staff(client)
    [application_id] = _applications(client, 1)
    html = client.get(f"{LIST}/{application_id}", headers=HX).text
    assert f"{application_id}/approve" in html and f"{application_id}/reject" in html
    assert 'data-confirm="确定驳回该报名？"' in html
    client.post(f"{LIST}/{application_id}/reject", data={"csrf_token": token, "reason": "x"})
    html = client.get(f"{LIST}/{application_id}", headers=HX).text
    assert "/approve" not in html and "/reject" not in html and "已驳回" in html


def test_bulk_approve_and_reject(client):
    token = make_web_staff(client)
    ids = _applications(client, 4)
    client.post(f"{LIST}/{ids[3]}/reject", data={"csrf_token": token, "reason": "x"})
    approved = client.post(f"{LIST}/decisions", data={"csrf_token": token, "decision": "approve", "ids": ids,
                                                      "reason": "typed for a rejection", "back": f"{LIST}?per_page=20"})
    assert approved.headers["Location"].endswith("/console/applications?per_page=20")
    message = client.get(approved.headers["Location"]).text
    assert "已通过 3 条" in message and "未处理 1 条：该报名当前状态不能审核" in message
    assert [_status(i) for i in ids] == ["approved", "approved", "approved", "rejected"]
    assert db.session.get(Application, ids[0]).status_reason is None  # the 驳回原因 field goes with 驳回 only
    no_reason = client.post(f"{LIST}/decisions", data={"csrf_token": token, "decision": "reject", "ids": ids[:2]})
    assert "驳回时请填写原因" in client.get(no_reason.headers["Location"]).text
    assert _status(ids[0]) == "approved"
    rejected = client.post(f"{LIST}/decisions", data={"csrf_token": token, "decision": "reject", "ids": ids[:2],
                                                      "reason": "车辆不足"})
    assert "已驳回 2 条" in client.get(rejected.headers["Location"]).text
    assert [_status(i) for i in ids[:2]] == ["rejected", "rejected"]
    nothing = client.post(f"{LIST}/decisions", data={"csrf_token": token, "decision": "approve"})
    assert "请先勾选要处理的报名" in client.get(nothing.headers["Location"]).text
    bad = client.post(f"{LIST}/decisions", data={"csrf_token": token, "decision": "maybe", "ids": ids[:1]})
    assert "未处理：操作 应为以下之一" in client.get(bad.headers["Location"]).text
    forged = client.post(f"{LIST}/decisions", data={"csrf_token": token, "decision": "approve", "ids": ["1 or 1=1"]})
    assert "未处理：勾选的报名 应为整数" in client.get(forged.headers["Location"]).text


def test_back_never_leaves_the_review_pages(client):
    token = make_web_staff(client)
    [application_id] = _applications(client, 1)
    for back in ("https://evil.example/console/applications", "/console/password", "//evil.example"):
        response = client.post(f"{LIST}/{application_id}/approve", data={"csrf_token": token, "back": back})
        assert response.headers["Location"] in ("/console/applications", "http://localhost/console/applications")


def test_post_without_csrf_is_refused(client):
    make_web_staff(client)
    [application_id] = _applications(client, 1)
    for url, data in ((f"{LIST}/{application_id}/approve", {}), (f"{LIST}/{application_id}/reject", {"reason": "x"}),
                      (f"{LIST}/decisions", {"decision": "approve", "ids": [application_id]})):
        response = client.post(url, data={**data, "csrf_token": "forged"})
        assert response.status_code == 403 and "<html" in response.text
    assert _status(application_id) == "submitted"


def test_another_countys_application_is_not_found(client):
    token = make_web_staff(client, "helan", county_code="640122")
    [application_id] = _applications(client, 1)  # 永宁县
    assert _ids_on(client.get(LIST).text) == []
    for response in (client.get(f"{LIST}/{application_id}"),
                     client.post(f"{LIST}/{application_id}/approve", data={"csrf_token": token}),
                     client.post(f"{LIST}/{application_id}/reject", data={"csrf_token": token, "reason": "x"})):
        assert response.status_code == 404
        assert response.content_type.startswith("text/html") and "未找到" in response.text
    bulk = client.post(f"{LIST}/decisions", data={"csrf_token": token, "decision": "approve", "ids": [application_id]})
    assert "未处理 1 条：没有找到这条报名" in client.get(bulk.headers["Location"]).text
    assert _status(application_id) == "submitted"
    # For htmx the message goes into the page's alert area.
    drawer = client.get(f"{LIST}/{application_id}", headers=HX)
    assert drawer.headers["HX-Retarget"] == "#alerts" and "不在您的管辖范围" not in drawer.text


def test_park_operator_sees_its_enterprises_and_admin_sees_all(client):
    from app.models import Enterprise

    reference = client.get("/api/mp/v1/reference").json
    enterprise = next(e for e in reference["enterprises"] if e["county_code"] == "640122")
    park_id = db.session.get(Enterprise, enterprise["id"]).park_id
    [to_park] = _applications(client, 1, direction="inbound", origin="甘肃省定西市", county_code="640122",
                              destination_city="银川市", employer_id=enterprise["id"])
    db.session.get(Application, to_park).employer_name = None  # chosen from the list: the page names the enterprise
    db.session.commit()
    [elsewhere] = _applications(client, 1, start=1)
    make_web_staff(client, "park", role="park_operator", park_id=park_id)
    html = client.get(LIST).text
    assert _ids_on(html) == [to_park] and enterprise["name"] in html
    assert client.get(f"{LIST}/{elsewhere}").status_code == 404
    client.post("/console/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html)[1]})
    make_web_staff(client, "boss", role="admin")
    assert sorted(_ids_on(client.get(LIST).text)) == sorted([to_park, elsewhere])


def test_other_roles_get_the_403_page(client):
    token = make_web_staff(client, "doctor", role="health_officer")
    [application_id] = _applications(client, 1)
    for response in (client.get(LIST), client.get(f"{LIST}/{application_id}"),
                     client.post(f"{LIST}/{application_id}/approve", data={"csrf_token": token}),
                     client.post(f"{LIST}/decisions", data={"csrf_token": token, "decision": "approve",
                                                           "ids": [application_id]})):
        assert response.status_code == 403 and "无权访问" in response.text
    assert _status(application_id) == "submitted"
    assert "申请审核" not in client.get("/console/password").text


def test_page_numbers_show_the_ends_and_the_neighbourhood(app):
    from console.web.applications_view import paging

    assert paging(5, 10, 200)["numbers"] == [1, None, 3, 4, 5, 6, 7, None, 20]
    assert paging(1, 50, 0)["numbers"] == [1] and paging(1, 50, 0)["pages"] == 1
    assert paging(2, 20, 60)["numbers"] == [1, 2, 3]
