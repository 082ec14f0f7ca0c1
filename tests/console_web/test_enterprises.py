"""企业与岗位（附件2） pages: list and filters, register and edit, job rows, interested workers and 录用, the export;
scope (404 page), role (403 page), CSRF, bad input said in Chinese with nothing changed."""
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Enterprise, EnterpriseJob, Park, VacancyInterest
from tests.builders import make_mobile, make_worker
from tests.console.roster_helpers import XIXIA, YONGNING, checkpoint_id, enterprise
from tests.console_web.helpers import make_web_staff

LIST = "/console/enterprises"


def _ids_on(html):
    return [int(found) for found in re.findall(r'<tr data-enterprise="(\d+)"', html)]


def _job(enterprise_id, job_type):
    db.session.expire_all()
    return db.session.scalar(select(EnterpriseJob).where(EnterpriseJob.enterprise_id == enterprise_id,
                                                        EnterpriseJob.job_type == job_type))


def _interest(client, job_id, n, contact_allowed):
    headers = make_worker(client, name=f"w{n}", n=n, declare=False)
    response = client.post(f"/api/mp/v1/vacancies/{job_id}/interest", json={"contact_allowed": contact_allowed},
                           headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_list_filters_by_scope_name_and_county(client):
    make_web_staff(client)  # 永宁县
    page = client.get(LIST)
    assert page.status_code == 200
    ids = _ids_on(page.text)
    assert enterprise(YONGNING).id in ids and enterprise(XIXIA).id not in ids
    assert "企业与岗位（附件2）" in page.text and "登记企业" in page.text
    named = client.get(LIST, query_string={"name": "新材料"}).text
    assert _ids_on(named) == [enterprise(YONGNING).id]
    assert 'value="新材料"' in named and "name=%E6%96%B0%E6%9D%90%E6%96%99" in named  # the export keeps the filter
    assert _ids_on(client.get(LIST, query_string={"name": "没有这家"}).text) == []
    bad = client.get(LIST, query_string={"county_code": "12"})
    assert bad.status_code == 422 and "筛选条件有误" in bad.text and "所在县区" in bad.text


def test_register_and_edit_an_enterprise(client):
    token = make_web_staff(client)
    form = client.get(f"{LIST}/new")
    assert form.status_code == 200 and 'name="name"' in form.text
    created = client.post(f"{LIST}/new", data={"csrf_token": token, "name": " 永宁服装厂 ", "work_location": "永宁县杨和镇",
                                               "products": "防护服", "resume_date": "2020-02-20", "county_code": ""})
    assert created.status_code == 302, created.text
    row = db.session.scalar(select(Enterprise).where(Enterprise.name == "永宁服装厂"))
    assert (row.county_code, row.products) == ("640121", "防护服")
    assert "已登记企业：永宁服装厂" in client.get(created.headers["Location"]).text
    again = client.post(f"{LIST}/new", data={"csrf_token": token, "name": "永宁服装厂"})
    assert again.status_code == 409 and "已有同名企业" in again.text
    elsewhere = client.post(f"{LIST}/new", data={"csrf_token": token, "name": "别处厂", "county_code": "640122"})
    assert elsewhere.status_code == 403 and "只能登记本县区的企业" in elsewhere.text and 'name="name"' in elsewhere.text
    assert db.session.scalar(select(Enterprise).where(Enterprise.name == "别处厂")) is None
    forged = client.post(f"{LIST}/new", data={"name": "伪造厂"})
    assert forged.status_code == 403 and db.session.scalar(select(Enterprise).where(Enterprise.name == "伪造厂")) is None

    edit = f"{LIST}/{row.id}/edit"
    assert 'value="防护服"' in client.get(edit).text
    saved = client.post(edit, data={"csrf_token": token, "name": "永宁服装厂", "county_code": "", "park_id": "",
                                    "work_location": "", "products": "口罩", "resume_date": "", "remarks": "急需缝纫工"})
    assert saved.status_code == 302
    db.session.expire_all()
    row = db.session.get(Enterprise, row.id)
    assert (row.products, row.remarks, row.work_location, row.resume_date) == ("口罩", "急需缝纫工", None, None)
    bad_date = client.post(edit, data={"csrf_token": token, "name": "永宁服装厂", "resume_date": "2020-13-01",
                                       "products": "别的"})
    assert bad_date.status_code == 422 and "填写有误" in bad_date.text and "应为日期" in bad_date.text
    db.session.expire_all()
    assert db.session.get(Enterprise, row.id).products == "口罩"


def test_hr_sees_its_own_enterprise_only(client):
    own, other = enterprise(YONGNING), enterprise(XIXIA)
    token = make_web_staff(client, "hr", role="enterprise_hr", enterprise_id=own.id)
    landing = client.get(LIST)
    assert landing.status_code == 302 and landing.headers["Location"].endswith(f"{LIST}/{own.id}")
    page = client.get(f"{LIST}/{own.id}")
    assert page.status_code == 200 and own.name in page.text
    assert 'href="/console/enterprises/export.xlsx"' in page.text  # its own 附件2 row, from its own page
    sheet = load_workbook(io.BytesIO(client.get(f"{LIST}/export.xlsx").data)).active
    assert {row[1] for row in sheet.iter_rows(min_row=3, values_only=True) if row[1]} == {own.name}
    for url in (f"{LIST}/{other.id}", f"{LIST}/{other.id}/edit"):
        refused = client.get(url)
        assert refused.status_code == 404 and "未找到" in refused.text, url
    posted = client.post(f"{LIST}/{other.id}/jobs", data={"csrf_token": token, "job_type": "偷偷加"})
    assert posted.status_code == 404 and _job(other.id, "偷偷加") is None
    # HR keeps its details but neither renames nor registers.
    form = client.get(f"{LIST}/{own.id}/edit").text
    assert 'name="products"' in form and 'name="name"' not in form and 'name="county_code"' not in form
    assert client.get(f"{LIST}/new").status_code == 403
    renamed = client.post(f"{LIST}/{own.id}/edit", data={"csrf_token": token, "name": "改名", "products": "纱线"})
    assert renamed.status_code == 302  # the name is not one of HR's fields: it is not sent on
    db.session.expire_all()
    assert (db.session.get(Enterprise, own.id).name, db.session.get(Enterprise, own.id).products) == (own.name, "纱线")


def test_wrong_role_gets_the_403_page(client):
    make_web_staff(client, "checkpoint", role="checkpoint_staff", checkpoint_id=checkpoint_id())
    for url in (LIST, f"{LIST}/{enterprise(YONGNING).id}", f"{LIST}/export.xlsx"):
        refused = client.get(url)
        assert refused.status_code == 403 and "无权" in refused.text, url


def test_job_rows_add_edit_delete(client):
    token = make_web_staff(client, "hr", role="enterprise_hr", enterprise_id=enterprise(YONGNING).id)
    eid = enterprise(YONGNING).id
    jobs = f"{LIST}/{eid}/jobs"
    added = client.post(jobs, data={"csrf_token": token, "job_type": "叉车工", "filled": "2", "short": "5"})
    assert added.status_code == 302 and added.headers["Location"].endswith("#jobs")
    job = _job(eid, "叉车工")
    assert (job.filled, job.short) == (2, 5)
    page = client.get(f"{LIST}/{eid}").text
    assert "已添加工种：叉车工" in page and f'data-job="{job.id}"' in page
    # Bad input: the Chinese message in the page, nothing changed.
    negative = client.post(f"{jobs}/{job.id}", data={"csrf_token": token, "job_type": "叉车工", "filled": "-1",
                                                     "short": "5"})
    assert negative.status_code == 422 and "解决用工人数" in negative.text and 'class="table-danger"' in negative.text
    assert _job(eid, "叉车工").filled == 2
    taken = client.post(jobs, data={"csrf_token": token, "job_type": "叉车工"})
    assert taken.status_code == 409 and "该企业已有这个工种" in taken.text
    blank = client.post(jobs, data={"csrf_token": token, "job_type": "  "})
    assert blank.status_code == 422 and "工种" in blank.text
    changed = client.post(f"{jobs}/{job.id}", data={"csrf_token": token, "job_type": "叉车工", "filled": "3",
                                                    "short": "4", "remarks": "持证"})
    assert changed.status_code == 302 and (_job(eid, "叉车工").filled, _job(eid, "叉车工").remarks) == (3, "持证")
    deleted = client.post(f"{jobs}/{job.id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302 and _job(eid, "叉车工") is None
    # Without the CSRF token nothing happens.
    forged = client.post(jobs, data={"job_type": "伪造"})
    assert forged.status_code == 403 and _job(eid, "伪造") is None


def test_interests_masked_and_hire_moves_the_counts(client):
    job = db.session.scalar(select(EnterpriseJob).where(EnterpriseJob.job_type == "纺织工"))
    eid, short_before, filled_before = job.enterprise_id, job.short, job.filled
    token = make_web_staff(client, "hr", role="enterprise_hr", enterprise_id=eid)
    hidden = _interest(client, job.id, 1, contact_allowed=False)
    shown = _interest(client, job.id, 2, contact_allowed=True)
    page = client.get(f"{LIST}/{eid}").text
    assert f'data-interest="{hidden}"' in page and f'data-interest="{shown}"' in page
    assert make_mobile(1) not in page and make_mobile(2) in page  # full only where the worker allowed contact
    assert "张*丰" in page and "未同意联系" in page
    audited = db.session.scalars(select(AuditLog).where(AuditLog.action == "read.full_contact")).all()
    assert len(audited) == 1
    # The job row is in use now: deleting it says why, nothing removed.
    in_use = client.post(f"{LIST}/{eid}/jobs/{job.id}/delete", data={"csrf_token": token})
    assert in_use.status_code == 409 and "不能删除" in in_use.text and _job(eid, "纺织工") is not None
    assert client.post(f"{LIST}/{eid}/interests/{hidden}/hire").status_code == 403  # no CSRF token
    hired = client.post(f"{LIST}/{eid}/interests/{hidden}/hire", data={"csrf_token": token})
    assert hired.status_code == 302
    after = _job(eid, "纺织工")
    assert (after.filled, after.short) == (filled_before + 1, short_before - 1)
    assert db.session.get(VacancyInterest, hidden).status == "hired"
    text = client.get(hired.headers["Location"]).text
    assert "已录用（纺织工）" in text and 'data-status="hired"' in text
    twice = client.post(f"{LIST}/{eid}/interests/{hidden}/hire", data={"csrf_token": token})
    assert "不能再录用" in client.get(twice.headers["Location"]).text
    only_hired = client.get(f"{LIST}/{eid}", query_string={"status": "hired"}).text
    assert f'data-interest="{hidden}"' in only_hired and f'data-interest="{shown}"' not in only_hired
    other_job = client.get(f"{LIST}/{eid}", query_string={"job_id": job.id + 1000}).text
    assert "data-interest=" not in other_job and "暂无求职意向" in other_job
    odd = client.get(f"{LIST}/{eid}", query_string={"status": "bogus", "job_id": job.id})
    assert odd.status_code == 200 and "筛选条件有误" in odd.text and f'data-interest="{shown}"' in odd.text


def test_export_keeps_the_filter_and_is_audited(client):
    make_web_staff(client, "admin", role="admin")
    park_id = db.session.scalar(select(Park.id).where(Park.code == "yc-etdz"))
    response = client.get(f"{LIST}/export.xlsx", query_string={"park_id": park_id})
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    names = {row[1] for row in sheet.iter_rows(min_row=3, values_only=True) if row[1]}
    assert XIXIA in names and YONGNING not in names
    named = load_workbook(io.BytesIO(client.get(f"{LIST}/export.xlsx", query_string={"name": "新材料"}).data)).active
    assert {row[1] for row in named.iter_rows(min_row=3, values_only=True) if row[1]} == {YONGNING}
    exports = db.session.scalars(select(AuditLog).where(AuditLog.action == "export.enterprise_sheet")).all()
    assert len(exports) == 2
    bad = client.get(f"{LIST}/export.xlsx", query_string={"park_id": "x"})
    assert bad.status_code == 302 and "导出条件有误" in client.get(bad.headers["Location"]).text
