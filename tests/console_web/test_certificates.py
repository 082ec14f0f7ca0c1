"""健康证明 pages: issue by the ID number on the card (not found alike outside the county), the missing conditions of a
refused check, status tabs with counts and paging, the drawer with the QR and 打印, revoke with a fixed reason, scope
(another county → 404 page), roles (403 page), CSRF, and never a full ID number in the HTML."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, HealthCertificate, HealthEvent
from app.services.credentials import certificates, signing
from tests.builders import make_id_number, make_worker, submit_application
from tests.certificate_helpers import decode_png, pdf_text
from tests.console_web.helpers import make_web_staff

LIST = "/console/certificates"
NEW = f"{LIST}/new"
HX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/console/certificates?status=valid"}


def _outbound(client, n=0, **profile):
    """An outbound worker of 永宁县 (640121) with a green declaration; returns (worker id, full ID number)."""
    headers = make_worker(client, name=f"worker{n}", n=n, **profile)
    submit_application(client, headers)
    return client.get("/api/mp/v1/me", headers=headers).json["id"], make_id_number(sequence=100 + n)


@pytest.fixture
def keys(app):
    signing.ensure_key("certificate")


def _issue(client, token, id_number, temperature="36.6", symptoms=()):
    return client.post(NEW, data={"csrf_token": token, "id_number": id_number, "temperature": temperature,
                                  "symptoms": list(symptoms)})


def _issued(client, token, id_number):
    response = _issue(client, token, id_number)
    assert response.status_code == 302, response.text
    return int(re.fullmatch(r".*/console/certificates/(\d+)", response.headers["Location"]).group(1))


def _serials_on(html):
    return [int(found) for found in re.findall(r'<tr data-serial="(\d+)"', html)]


def _row(serial):
    db.session.expire_all()
    return db.session.get(HealthCertificate, serial)


def test_an_officer_issues_by_the_id_number_and_gets_the_certificate_to_print(client, keys):
    worker, id_number = _outbound(client)
    token = make_web_staff(client, "weijian", role="health_officer", county_code="640121")
    form = client.get(NEW)
    assert form.status_code == 200 and 'name="id_number"' in form.text and "咳嗽" in form.text
    response = _issue(client, token, id_number.lower().replace("x", "X"))
    assert response.status_code == 302
    serial = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(response.headers["Location"])
    html = page.text
    assert page.status_code == 200 and f"已出具健康证明 {serial}" in html
    assert "张*丰" in html and id_number[-4:] in html and "行前体温检测：36.6℃" in html and "有效" in html
    assert f'src="/console/certificates/{serial}.png"' in html and f'href="/console/certificates/{serial}.pdf"' in html
    assert id_number not in html and "张三丰" not in html
    png = client.get(f"{LIST}/{serial}.png")
    assert png.status_code == 200 and png.mimetype == "image/png" and decode_png(png.data) == _row(serial).text
    pdf = client.get(f"{LIST}/{serial}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"] and "健康证明" in pdf_text(pdf.data)
    row = _row(serial)
    assert (row.worker_id, row.issued_by_kind, row.basis["check_temperature"]) == (worker, "staff", "36.6")
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "certificate.issue"))
    assert (entry.actor_kind, entry.object_id) == ("staff", serial)


def test_a_refused_check_says_what_is_missing_and_is_kept_in_the_record(client, keys):
    worker, id_number = _outbound(client)
    token = make_web_staff(client, "weijian", role="health_officer", county_code="640121")
    refused = _issue(client, token, id_number, "37.9", ["cough"])
    assert refused.status_code == 409
    html = refused.text
    assert "未出具" in html and "尚缺的条件" in html and 'data-code="pre_trip_check_fever"' in html
    assert "张*丰" in html and id_number not in html  # the person masked; the number is not typed back
    assert 'value="37.9"' in html and re.search(r'value="cough"\s+id="issue-symptom-cough"\s+checked', html)
    check = db.session.scalar(select(HealthEvent).where(HealthEvent.kind == "pre_trip_check"))
    assert check.worker_id == worker and str(check.temperature) == "37.9"
    assert db.session.scalar(select(HealthCertificate.id)) is None


def test_an_id_number_outside_the_county_reads_as_unknown(client, keys):
    _, id_number = _outbound(client)
    token = make_web_staff(client, "xixia", role="health_officer", county_code="640105")
    elsewhere = _issue(client, token, id_number)
    unknown = _issue(client, token, make_id_number(sequence=777))
    for response in (elsewhere, unknown):
        assert response.status_code == 404 and "未出具：没有找到该人员" in response.text
        assert id_number not in response.text
    assert elsewhere.text.count("张*丰") == unknown.text.count("张*丰") == 0
    malformed = _issue(client, token, "64010419900101123")
    assert malformed.status_code == 422 and "身份证号" in malformed.text
    bad_temperature = _issue(client, token, id_number, "hot")
    assert bad_temperature.status_code == 422 and "体温" in bad_temperature.text and id_number not in bad_temperature.text
    assert db.session.scalar(select(HealthEvent.id).where(HealthEvent.kind == "pre_trip_check")) is None


def test_tabs_count_by_status_and_paging_keeps_the_filter(client, keys):
    ids = [_outbound(client, n)[1] for n in range(4)]
    token = make_web_staff(client, "weijian", role="health_officer", county_code="640121")
    serials = [_issued(client, token, id_number) for id_number in ids]
    client.post(f"{LIST}/{serials[0]}/revoke", data={"csrf_token": token, "reason": "worker_request"})
    expired = _row(serials[1])
    expired.issued_at -= timedelta(days=10)
    expired.valid_until -= timedelta(days=10)
    db.session.commit()
    html = client.get(LIST).text
    assert sorted(_serials_on(html)) == sorted(serials)
    for tab, count in (("valid", 2), ("revoked", 1), ("expired", 1)):
        assert re.search(rf'data-tab="{tab}">[^<]+ <span[^>]*>{count}</span>', html), tab
    assert _serials_on(client.get(LIST, query_string={"status": "revoked"}).text) == [serials[0]]
    assert _serials_on(client.get(LIST, query_string={"status": "expired"}).text) == [serials[1]]
    first = client.get(LIST, query_string={"status": "valid", "per_page": 1}).text
    assert _serials_on(first) == [serials[3]] and "第 1/2 页" in first
    assert "status=valid" in re.search(r'href="([^"]+)">下一页', first).group(1)
    assert "已撤销" in html and "已过期" in html
    assert all(id_number not in html for id_number in ids)
    for query, word in (({"status": "bogus"}, "状态"), ({"per_page": "0"}, "每页条数"), ({"worker_id": "x"}, "人员编号")):
        page = client.get(LIST, query_string=query)
        assert page.status_code == 422 and "筛选条件有误" in page.text and word in page.text


def test_the_drawer_revokes_with_a_fixed_reason(client, keys):
    _, id_number = _outbound(client)
    token = make_web_staff(client, "weijian", role="health_officer", county_code="640121")
    serial = _issued(client, token, id_number)
    drawer = client.get(f"{LIST}/{serial}", headers=HX)
    assert drawer.status_code == 200 and "<html" not in drawer.text and 'data-testid="drawer-body"' in drawer.text
    assert all(f'<option value="{code}">{word}</option>' in drawer.text
               for code, word in certificates.STAFF_REVOKE_REASONS.items())
    assert 'name="back" value="/console/certificates?status=valid"' in drawer.text
    bad = client.post(f"{LIST}/{serial}/revoke", data={"csrf_token": token, "reason": "bored"})
    assert bad.status_code == 422 and "撤销原因" in bad.text and _row(serial).revoked_at is None
    done = client.post(f"{LIST}/{serial}/revoke", data={"csrf_token": token, "reason": "issued_in_error",
                                                        "note": "录错体温", "back": "/console/certificates?status=valid"})
    assert done.status_code == 302 and done.headers["Location"] == "/console/certificates?status=valid"
    assert f"已撤销健康证明 {serial}：误签发" in client.get(done.headers["Location"]).text
    assert _row(serial).revoke_reason == "issued_in_error"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "certificate.revoke"))
    assert (entry.actor_kind, entry.details["note"]) == ("staff", "录错体温")
    assert serial in [row["serial"] for row in client.get("/api/checkin/v1/revocations",
                                                          query_string={"kind": "certificate"}).json["revocations"]]
    again = client.post(f"{LIST}/{serial}/revoke", data={"csrf_token": token, "reason": "other"})
    assert again.status_code == 409 and "该健康证明已撤销" in again.text
    page = client.get(f"{LIST}/{serial}").text
    assert "误签发" in page and 'action="/console/certificates/%d/revoke"' % serial not in page


def test_another_county_gets_404_pages_and_other_roles_403(client, keys):
    _, id_number = _outbound(client)
    token = make_web_staff(client, "weijian", role="health_officer", county_code="640121")
    serial = _issued(client, token, id_number)
    client.post("/console/logout", data={"csrf_token": token})
    token = make_web_staff(client, "xixia", role="health_officer", county_code="640105")
    assert _serials_on(client.get(LIST).text) == []
    for response in (client.get(f"{LIST}/{serial}"), client.get(f"{LIST}/{serial}.png"),
                     client.get(f"{LIST}/{serial}.pdf"),
                     client.post(f"{LIST}/{serial}/revoke", data={"csrf_token": token, "reason": "other"})):
        assert response.status_code == 404 and "未找到" in response.text
    assert _row(serial).revoked_at is None
    client.post("/console/logout", data={"csrf_token": token})
    token = make_web_staff(client)  # a county operator of 永宁县
    for response in (client.get(LIST), client.get(NEW), client.get(f"{LIST}/{serial}"),
                     client.get(f"{LIST}/{serial}.png"), _issue(client, token, id_number),
                     client.post(f"{LIST}/{serial}/revoke", data={"csrf_token": token, "reason": "other"})):
        assert response.status_code == 403 and "无权访问" in response.text
    assert "健康证明" not in client.get("/console/applications").text  # not in the menu
    client.post("/console/logout", data={"csrf_token": token})
    make_web_staff(client, "office", role="admin")
    menu = client.get("/console/applications").text
    assert 'href="/console/certificates"' in menu and _serials_on(client.get(LIST).text) == [serial]
    assert f'href="/console/certificates/{serial}"' in client.get("/console/audit").text  # 出具健康证明 links to it


def test_posts_without_csrf_are_refused(client, keys):
    _, id_number = _outbound(client)
    token = make_web_staff(client, "weijian", role="health_officer", county_code="640121")
    serial = _issued(client, token, id_number)
    for url, data in ((NEW, {"id_number": id_number, "temperature": "36.5"}),
                      (f"{LIST}/{serial}/revoke", {"reason": "other"})):
        for forged in (None, "forged"):
            response = client.post(url, data={**data, **({"csrf_token": forged} if forged else {})})
            assert response.status_code == 403 and "<html" in response.text
    assert _row(serial).revoked_at is None
    assert db.session.scalar(select(HealthCertificate.id).where(HealthCertificate.id != serial)) is None


def test_the_status_counts_are_one_query_in_scope(client, keys):
    from sqlalchemy import event

    from app.models import StaffUser

    _, id_number = _outbound(client)
    token = make_web_staff(client, "weijian", role="health_officer", county_code="640121")
    _issued(client, token, id_number)
    officer = db.session.scalar(select(StaffUser).where(StaffUser.username == "weijian"))
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        counted = certificates.count_by_status(officer)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert counted == {"valid": 1, "revoked": 0, "expired": 0} and len(statements) == 1
