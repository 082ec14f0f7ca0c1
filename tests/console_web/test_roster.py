"""花名册 · 每日随访 pages: the roster with clearance, 零散返岗 registration, the day's follow-up table (one save),
exports; scope (E's HR → 404 page on F), role (403 page), CSRF, bad input said in Chinese with nothing saved."""
import io
import re
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, HealthEvent, IsolationOrder, RosterEntry, StaffUser
from app.services.employment import roster
from app.services.platform.timeutil import local_today
from tests.builders import make_id_number
from tests.console.roster_helpers import XIXIA, YONGNING, enterprise, returnee
from tests.console_web.helpers import make_web_staff

ROSTER = "/console/roster"


def _hr(client, name=YONGNING, username="hr"):
    """An HR clerk of the enterprise signed in to the console: (csrf token, enterprise id, StaffUser)."""
    found = enterprise(name)
    token = make_web_staff(client, username, role="enterprise_hr", enterprise_id=found.id)
    return token, found.id, db.session.scalar(select(StaffUser).where(StaffUser.username == username))


def _registered(staff, enterprise_id, count, days_ago=2, start=0):
    """`count` 零散返岗 returnees registered through the service; returns their worker ids."""
    rows = []
    for n in range(start, start + count):
        body = returnee(n, days_ago=days_ago)
        body["arrival_date"] = local_today() - timedelta(days=days_ago)
        rows.append(roster.register(staff, enterprise_id, body).worker.id)
    return rows


def _workers_on(html):
    return [int(found) for found in re.findall(r'<tr data-worker="(\d+)"', html)]


def _follow_ups():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(HealthEvent).where(HealthEvent.kind == "follow_up"))


def test_hr_lands_on_its_roster_with_masked_rows_and_clearance(client):
    _, eid, staff = _hr(client)
    [worker_id] = _registered(staff, eid, 1)
    landing = client.get(ROSTER)
    assert landing.status_code == 302 and landing.headers["Location"].endswith(f"{ROSTER}/{eid}")
    page = client.get(f"{ROSTER}/{eid}")
    html = page.text
    assert page.status_code == 200 and _workers_on(html) == [worker_id]
    assert "李*光" in html and "李四光" not in html and make_id_number(area="510104", sequence=500) not in html
    assert 'data-clearance="in_observation"' in html and "观察中" in html and "健康观察期内" in html
    assert "零散返岗" in html and "火车 K1234" in html
    # The arrival filter offers the API's arrival states, in the domain's words.
    from app.services.employment.roster import ARRIVAL_STATUSES
    from app.services.employment.roster_exports import ARRIVAL_NAMES
    select_html = re.search(r'<select[^>]*name="arrival_status"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', select_html) == [
        (status, ARRIVAL_NAMES[status]) for status in ARRIVAL_STATUSES]
    # Filters, and the export links carry them.
    assert _workers_on(client.get(f"{ROSTER}/{eid}", query_string={"clearance": "cleared"}).text) == []
    kept = client.get(f"{ROSTER}/{eid}", query_string={"source": "self", "clearance": ""}).text
    assert _workers_on(kept) == [worker_id] and f"{ROSTER}/{eid}/export.xlsx?source=self" in kept
    bad = client.get(f"{ROSTER}/{eid}", query_string={"clearance": "bogus"})
    assert bad.status_code == 422 and "筛选条件有误" in bad.text and "上岗状态" in bad.text


def test_register_a_scattered_returnee(client):
    token, eid, _ = _hr(client)
    form = client.get(f"{ROSTER}/{eid}/register")
    assert form.status_code == 200 and f'value="{local_today().isoformat()}"' in form.text
    body = {**returnee(1), "csrf_token": token}
    done = client.post(f"{ROSTER}/{eid}/register", data=body)
    assert done.status_code == 302 and done.headers["Location"].endswith(f"{ROSTER}/{eid}")
    page = client.get(done.headers["Location"]).text
    assert "已登记零散返岗人员：李*光" in page and len(_workers_on(page)) == 1
    again = client.post(f"{ROSTER}/{eid}/register", data=body)
    assert again.status_code == 409 and "该人员已在本企业花名册中" in again.text
    assert db.session.scalar(select(func.count()).select_from(RosterEntry)) == 1


def test_registration_refuses_bad_input_in_chinese_and_saves_nothing(client):
    token, eid, _ = _hr(client)
    cases = (({"id_number": "510104199001011234"}, "身份证"),
             ({"phone": "12345"}, "手机"),
             ({"arrival_date": (local_today() + timedelta(days=1)).isoformat()}, "返回日期不能晚于今天"),
             ({"transport": "rocket"}, "交通方式"),
             ({"name": "  "}, "姓名"))
    for change, words in cases:
        refused = client.post(f"{ROSTER}/{eid}/register", data={**returnee(2), **change, "csrf_token": token})
        assert refused.status_code == 422, change
        assert words in refused.text and "is-invalid" in refused.text, (change, refused.text[-3000:])
    mismatch = client.post(f"{ROSTER}/{eid}/register", data={**returnee(3), "csrf_token": token})
    assert mismatch.status_code == 302
    other = client.post(f"{ROSTER}/{eid}/register", data={**returnee(3), "name": "王五", "csrf_token": token})
    assert other.status_code == 409 and "身份证号与姓名不符" in other.text
    forged = client.post(f"{ROSTER}/{eid}/register", data=returnee(4))
    assert forged.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(RosterEntry)) == 1


def test_follow_up_table_one_save_for_everyone_and_the_abnormal_one_highlighted(client):
    token, eid, staff = _hr(client)
    workers = _registered(staff, eid, 5)
    url = f"{ROSTER}/{eid}/follow-ups"
    page = client.get(url).text
    assert _workers_on(page) == workers and page.count('name="worker"') == 5 and "保存本表" in page
    form = {"csrf_token": token, "worker": [str(w) for w in workers]}
    for n, worker_id in enumerate(workers[:4]):
        form[f"temperature-{worker_id}"] = "36.5"
        form[f"note-{worker_id}"] = f"第{n}人"
    form[f"temperature-{workers[2]}"] = "37.8"  # fever
    form[f"symptoms-{workers[3]}"] = ["cough"]  # symptom
    saved = client.post(url, data=form)
    assert saved.status_code == 302
    assert _follow_ups() == 4  # the fifth row was left blank: nobody's check
    orders = db.session.scalars(select(IsolationOrder)).all()
    assert sorted((o.worker_id, o.status, o.reason) for o in orders) == sorted(
        [(workers[2], "pending", "fever"), (workers[3], "pending", "symptoms")])
    after = client.get(saved.headers["Location"]).text
    assert "已保存 4 人的今日随访" in after and "2 人异常" in after
    for worker_id in workers[2:4]:
        row = re.search(rf'<tr data-worker="{worker_id}"[^>]*>', after).group(0)
        assert "table-danger" in row and 'data-recorded="abnormal"' in row
    assert 'data-recorded="normal"' in re.search(rf'<tr data-worker="{workers[0]}"[^>]*>', after).group(0)
    assert after.count("异常</span>") == 2 and "隔离单 #" in after and "咳嗽" in after
    assert after.count('name="worker"') == 1  # only the fifth can still be recorded today
    # The roster shows the isolated ones as such.
    listed = client.get(f"{ROSTER}/{eid}", query_string={"clearance": "isolated"}).text
    assert sorted(_workers_on(listed)) == sorted(workers[2:4]) and "隔离中" in listed


def test_a_bad_row_saves_nothing_and_says_why_in_chinese(client):
    token, eid, staff = _hr(client)
    workers = _registered(staff, eid, 3)
    url = f"{ROSTER}/{eid}/follow-ups"
    form = {"csrf_token": token, "worker": [str(w) for w in workers], f"temperature-{workers[0]}": "36.6",
            f"temperature-{workers[1]}": "50", f"note-{workers[2]}": "忘了量体温"}
    refused = client.post(url, data=form)
    assert refused.status_code == 422
    assert "2 人的随访有误，本次未保存任何记录" in refused.text and "请填写体温" in refused.text
    assert "体温应在 34.0 到 43.0 之间" in refused.text  # the API schema's range, in Chinese
    assert 'value="36.6"' in refused.text and 'value="50"' in refused.text  # what was typed stays
    assert _follow_ups() == 0 and db.session.scalar(select(func.count()).select_from(IsolationOrder)) == 0
    # A row the service refuses (a returnee of another enterprise) also saves nothing.
    other_token_enterprise = enterprise(XIXIA).id
    assert other_token_enterprise != eid
    stranger = client.post(url, data={"csrf_token": token, "worker": [str(workers[0]), "999999"],
                                      f"temperature-{workers[0]}": "36.6", "temperature-999999": "36.6"})
    assert stranger.status_code == 422 and "该人员不在本企业花名册中" in stranger.text and _follow_ups() == 0
    nothing = client.post(url, data={"csrf_token": token, "worker": [str(w) for w in workers]})
    assert "没有填写任何人的体温" in client.get(nothing.headers["Location"]).text
    # A row whose worker is no row id (² passes str.isdigit(), a huge one overflows INT) is nobody's: skipped.
    for odd in ("²", "99999999999999999999999"):
        skipped = client.post(url, data={"csrf_token": token, "worker": [odd], f"temperature-{odd}": "36.6"})
        assert skipped.status_code == 302 and "没有填写任何人的体温" in client.get(skipped.headers["Location"]).text
    assert _follow_ups() == 0
    forged = client.post(url, data={"worker": [str(workers[0])], f"temperature-{workers[0]}": "36.6"})
    assert forged.status_code == 403 and _follow_ups() == 0


def test_other_enterprises_roster_is_the_404_page(client):
    token, eid, _ = _hr(client)
    other = enterprise(XIXIA).id
    for url in (f"{ROSTER}/{other}", f"{ROSTER}/{other}/register", f"{ROSTER}/{other}/follow-ups",
                f"{ROSTER}/{other}/export.xlsx", f"{ROSTER}/attachment3.xlsx?enterprise_id={other}"):
        refused = client.get(url)
        assert refused.status_code == 404 and "未找到" in refused.text, url
    posted = client.post(f"{ROSTER}/{other}/register", data={**returnee(1), "csrf_token": token})
    assert posted.status_code == 404 and db.session.scalar(select(func.count()).select_from(RosterEntry)) == 0


def test_roles_without_the_roster(client):
    make_web_staff(client, "officer", role="health_officer")
    for url in (ROSTER, f"{ROSTER}/{enterprise(YONGNING).id}"):
        assert client.get(url).status_code == 403, url


def test_county_operator_chooses_an_enterprise_and_reads_follow_ups(client, app):
    _, eid, staff = _hr(client)
    [worker_id] = _registered(staff, eid, 1)
    client = app.test_client()  # another browser
    token = make_web_staff(client, "yongning")  # 永宁县
    chooser = client.get(ROSTER).text
    assert f'data-enterprise="{eid}"' in chooser and f'data-enterprise="{enterprise(XIXIA).id}"' not in chooser
    assert "导出附件3" in chooser
    named = client.get(ROSTER, query_string={"name": "新材料"}).text
    assert f'data-enterprise="{eid}"' in named and named.count("data-enterprise=") == 1
    bad = client.get(ROSTER, query_string={"page": "x"})
    assert bad.status_code == 422 and "筛选条件有误" in bad.text
    page = client.get(f"{ROSTER}/{eid}/follow-ups").text
    assert _workers_on(page) == [worker_id] and 'name="worker"' not in page and "今日未随访" in page
    refused = client.post(f"{ROSTER}/{eid}/follow-ups", data={"csrf_token": token, "worker": str(worker_id),
                                                              f"temperature-{worker_id}": "36.5"})
    assert refused.status_code == 403 and _follow_ups() == 0
    assert client.get(f"{ROSTER}/{enterprise(XIXIA).id}").status_code == 404


def test_exports_keep_the_filter_and_are_audited(client):
    _, eid, staff = _hr(client)
    _registered(staff, eid, 2)
    sheet = client.get(f"{ROSTER}/{eid}/export.xlsx", query_string={"source": "self"})
    assert sheet.status_code == 200 and "attachment" in sheet.headers["Content-Disposition"]
    rows = [row for row in load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True)
            if row and "李四光" in row]
    assert len(rows) == 2
    none = load_workbook(io.BytesIO(client.get(f"{ROSTER}/{eid}/export.xlsx",
                                               query_string={"source": "trip"}).data)).active
    assert not [row for row in none.iter_rows(values_only=True) if row and "李四光" in row]
    a3 = client.get(f"{ROSTER}/attachment3.xlsx", query_string={"enterprise_id": eid})
    assert a3.status_code == 200
    actions = [a.action for a in db.session.scalars(select(AuditLog).where(AuditLog.action.like("export.%")))]
    assert actions.count("export.roster") == 2 and actions.count("export.attachment3") == 1
    bad = client.get(f"{ROSTER}/{eid}/export.xlsx", query_string={"clearance": "bogus"})
    assert bad.status_code == 302 and "导出条件有误" in client.get(bad.headers["Location"]).text
