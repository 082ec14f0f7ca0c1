"""Interested workers as the enterprise sees them, hires, and the 附件2 export."""
import io
import threading

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Enterprise, EnterpriseJob
from tests.builders import make_mobile, make_staff, make_worker

API = "/api/console/v1"
MP = "/api/mp/v1"
SHEET_HEADERS = ["序号", "企业名称", "所在市县及工作地点", "生产物资种类", "开工复工时间", "解决用工工种", "解决用工人数",
                 "缺工工种", "缺工人数", "备注"]


def _sample_job(job_type):
    return db.session.scalar(select(EnterpriseJob).where(EnterpriseJob.job_type == job_type))


def _interest(client, job_id, n, contact_allowed):
    headers = make_worker(client, name=f"w{n}", n=n, declare=False)
    response = client.post(f"{MP}/vacancies/{job_id}/interest", json={"contact_allowed": contact_allowed},
                           headers=headers)
    assert response.status_code == 201, response.json
    return headers, response.json["id"]


def test_hr_sees_masked_workers_until_they_allow_contact(client):
    job = _sample_job("纺织工")
    hr = make_staff(client, "hr", role="enterprise_hr", enterprise_id=job.enterprise_id)
    _interest(client, job.id, 1, contact_allowed=False)
    _interest(client, job.id, 2, contact_allowed=True)
    withdrawn_headers, _ = _interest(client, job.id, 3, contact_allowed=True)
    client.delete(f"{MP}/vacancies/{job.id}/interest", headers=withdrawn_headers)
    response = client.get(f"{API}/enterprises/{job.enterprise_id}/interests", headers=hr)
    assert response.status_code == 200 and response.json["total"] == 2
    hidden, shown = response.json["items"]
    assert hidden["worker"]["name"] == "张*丰" and hidden["worker"]["mobile"] == "139****0001"
    assert shown["worker"]["name"] == "张三丰" and shown["worker"]["mobile"] == make_mobile(2)
    assert make_mobile(1) not in response.get_data(as_text=True)
    assert make_mobile(3) not in response.get_data(as_text=True)
    reads = db.session.scalars(select(AuditLog).where(AuditLog.action == "read.full_contact")).all()
    assert [(r.actor_id, r.object_id) for r in reads] == [(reads[0].actor_id, shown["worker"]["id"])]
    only_hired = client.get(f"{API}/enterprises/{job.enterprise_id}/interests?status=hired", headers=hr).json
    assert only_hired["total"] == 0


def test_other_scopes_do_not_see_interested_workers(client):
    job = _sample_job("纺织工")  # 西夏区, 银川经济技术开发区
    _, interest_id = _interest(client, job.id, 1, contact_allowed=True)
    other_enterprise = db.session.scalar(select(Enterprise.id).where(Enterprise.id != job.enterprise_id))
    outsiders = [make_staff(client, "hr", role="enterprise_hr", enterprise_id=other_enterprise),
                 make_staff(client, "helan", county_code="640122")]
    for headers in outsiders:
        listed = client.get(f"{API}/enterprises/{job.enterprise_id}/interests", headers=headers)
        assert listed.status_code == 404 and listed.json["error"]["code"] == "enterprise_not_found"
        hired = client.post(f"{API}/enterprises/{job.enterprise_id}/interests/{interest_id}/hire", headers=headers)
        assert hired.status_code == 404
    own_hr = make_staff(client, "own", role="enterprise_hr", enterprise_id=job.enterprise_id)
    wrong_path = client.post(f"{API}/enterprises/{other_enterprise}/interests/{interest_id}/hire",
                             headers=make_staff(client, "office", role="admin"))
    assert wrong_path.status_code == 404 and wrong_path.json["error"]["code"] == "interest_not_found"
    county = make_staff(client, "xixia", county_code="640105")
    seen_by_county = client.get(f"{API}/enterprises/{job.enterprise_id}/interests", headers=county).json
    # The worker agreed to be called by the enterprise, not by the county: masked for operators.
    assert seen_by_county["total"] == 1 and seen_by_county["items"][0]["worker"]["mobile"] == "139****0001"
    assert seen_by_county["items"][0]["worker"]["name"] == "张*丰"
    assert client.get(f"{API}/enterprises/{job.enterprise_id}/interests", headers=own_hr).json["total"] == 1


def test_hire_moves_the_counts_and_refuses_past_zero(client):
    job = _sample_job("电焊工")
    filled, short = job.filled, job.short
    hr = make_staff(client, "hr", role="enterprise_hr", enterprise_id=job.enterprise_id)
    first_headers, first = _interest(client, job.id, 1, contact_allowed=False)
    _, second = _interest(client, job.id, 2, contact_allowed=True)
    hire = f"{API}/enterprises/{job.enterprise_id}/interests/{{}}/hire"
    hired = client.post(hire.format(first), headers=hr)
    assert hired.status_code == 200, hired.json
    assert hired.json["interest"]["status"] == "hired" and hired.json["interest"]["decided_at"]
    assert (hired.json["job"]["filled"], hired.json["job"]["short"]) == (filled + 1, short - 1)
    twice = client.post(hire.format(first), headers=hr)
    assert twice.status_code == 409 and twice.json["error"]["code"] == "interest_not_open"
    mine = client.get(f"{MP}/interests", headers=first_headers).json["items"]
    assert mine[0]["status"] == "hired"
    quit_ = client.delete(f"{MP}/vacancies/{job.id}/interest", headers=first_headers)
    assert quit_.status_code == 409 and quit_.json["error"]["code"] == "interest_hired"
    client.patch(f"{API}/enterprises/{job.enterprise_id}/jobs/{job.id}", json={"short": 0}, headers=hr)
    none_short = client.post(hire.format(second), headers=hr)
    assert none_short.status_code == 409 and none_short.json["error"]["code"] == "no_shortage"
    listed = client.get(f"{API}/enterprises/{job.enterprise_id}/interests?status=interested", headers=hr).json
    assert [item["id"] for item in listed["items"]] == [second]  # the refused hire left it as it was
    in_use = client.delete(f"{API}/enterprises/{job.enterprise_id}/jobs/{job.id}", headers=hr)
    assert in_use.status_code == 409 and in_use.json["error"]["code"] == "job_has_interests"


def test_two_clerks_cannot_overshoot_the_shortage(make_app, backend):
    if backend["BACKEND"] == "sqlite":
        pytest.skip("concurrent writers only race on MariaDB")
    app = make_app()
    with app.app_context():
        from app.services.office.reference_data import load_reference_data

        load_reference_data()
        client = app.test_client()
        job = _sample_job("电焊工")
        job_id, enterprise_id = job.id, job.enterprise_id
        clerks = [make_staff(client, f"hr{i}", role="enterprise_hr", enterprise_id=enterprise_id) for i in range(4)]
        interests = [_interest(client, job_id, n, contact_allowed=True)[1] for n in range(4)]
        db.session.execute(EnterpriseJob.__table__.update().where(EnterpriseJob.id == job_id).values(short=1, filled=0))
        db.session.commit()
    results = []
    barrier = threading.Barrier(4)

    def hire(headers, interest_id):
        with app.app_context():
            barrier.wait()
            response = app.test_client().post(f"{API}/enterprises/{enterprise_id}/interests/{interest_id}/hire",
                                              headers=headers)
            results.append((response.status_code, (response.json.get("error") or {}).get("code")))

    threads = [threading.Thread(target=hire, args=pair) for pair in zip(clerks, interests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [(200, None)] + [(409, "no_shortage")] * 3
    with app.app_context():
        job = db.session.get(EnterpriseJob, job_id)
        assert (job.filled, job.short) == (1, 0)


def _sheet(response):
    assert response.status_code == 200, response.data[:200]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "重点企业用工服务保障工作信息汇总表"
    return rows[1], rows[2:]


def test_export_of_the_enterprise_sheet_follows_the_scope(client):
    admin = make_staff(client, "office", role="admin")
    headers, rows = _sheet(client.get(f"{API}/enterprises/export.xlsx", headers=admin))
    assert headers == SHEET_HEADERS
    assert [row[0] for row in rows] == list(range(1, len(rows) + 1))
    assert len(rows) == db.session.query(Enterprise).count()
    textile = next(row for row in rows if row[1] == "（示例）银川塞上纺织有限公司")
    assert textile[2] == "银川市西夏区，西夏区经济技术开发区" and textile[3] == "纺织品"
    assert textile[5] == "纺织工（20）、包装工（10）" and textile[6] == 30
    assert textile[7] == "纺织工（15）、包装工（5）" and textile[8] == 20
    builder = next(row for row in rows if row[1] == "（示例）银川兴庆建设工程有限公司")
    assert builder[7] == "钢筋工（10）" and builder[8] == 10  # 木工 is short of nobody

    county = make_staff(client, "helan", county_code="640122")
    _, county_rows = _sheet(client.get(f"{API}/enterprises/export.xlsx", headers=county))
    assert [row[1] for row in county_rows] == ["（示例）宁夏贺兰山食品有限公司"]
    hr = make_staff(client, "hr", role="enterprise_hr", enterprise_id=textile_id())
    _, hr_rows = _sheet(client.get(f"{API}/enterprises/export.xlsx?county_code=640105", headers=hr))
    assert [row[1] for row in hr_rows] == ["（示例）银川塞上纺织有限公司"]
    _, filtered = _sheet(client.get(f"{API}/enterprises/export.xlsx?county_code=640122", headers=hr))
    assert filtered == []
    exports = db.session.scalars(select(AuditLog).where(AuditLog.action == "export.enterprise_sheet")
                                 .order_by(AuditLog.id)).all()
    assert len(exports) == 4 and exports[2].details == {"rows": 1, "filter": {"county_code": "640105"}}


def textile_id():
    return db.session.scalar(select(Enterprise.id).where(Enterprise.name == "（示例）银川塞上纺织有限公司"))
