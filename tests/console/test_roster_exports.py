"""Exports of 附件3, rosters and isolation lists: read back with openpyxl, scoped, masked, audited."""
import io

import openpyxl
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog
from app.services.platform.timeutil import local_today
from tests.builders import make_staff
from tests.console.roster_helpers import (
    ROSTER,
    XIXIA,
    YONGNING,
    checkpoint_id,
    hr,
    inbound_trip,
    register,
    returnee,
    scan,
)

ATTACHMENT3 = "/api/console/v1/exports/attachment3.xlsx"
ISOLATION = "/api/console/v1/isolation-orders.xlsx"
HEADERS3 = ["姓名", "身份证号", "联系电话", "从何处返回", "返回日期", "交通方式及车次/航班/车牌", "用工单位", "健康状况"]


def _sheet(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    # Every sheet numbers its rows (序号, added by the export); the tests below read the columns after it.
    assert rows[1][0] == "序号" and [row[0] for row in rows[2:]] == list(range(1, len(rows) - 1))
    return [rows[0]] + [row[1:] for row in rows[1:]]


def _audits(action):
    return db.session.scalars(select(AuditLog).where(AuditLog.action == action)).all()


def test_attachment3_over_the_callers_scope(client):
    headers, enterprise_id = hr(client)
    trip = inbound_trip(client, enterprise_id, passengers=2)
    scan(client, trip, trip["captain"])
    scan(client, trip, trip["captain"], kind="arrive")
    body = returnee()
    register(client, headers, enterprise_id)
    other_hr, other_id = hr(client, XIXIA, "hr2")
    register(client, other_hr, other_id, n=1, origin="甘肃省兰州市", transport="car", transport_number="甘A12345")
    admin = make_staff(client, "boss", role="admin")
    rows = _sheet(client.get(ATTACHMENT3, headers=admin))
    assert rows[0][0] == "银川市务工人员复工信息登记" and rows[1] == HEADERS3
    data = rows[2:]
    assert len(data) == 4
    self_row = next(row for row in data if row[3] == "四川省成都市" and row[5] == "火车 K1234")
    # A contact sheet: full name and phone (the export is audited), ID number masked.
    assert self_row[0] == "李四光" and self_row[1] == body["id_number"][:6] + "********" + body["id_number"][-4:]
    assert self_row[2] == body["phone"] and self_row[6] == YONGNING and self_row[4].date().isoformat() == \
        body["arrival_date"]
    assert self_row[7].startswith("正常（")
    trip_row = next(row for row in data if row[5] == "客车 川A·12345" and row[4].date() == local_today())
    assert "观察" in trip_row[7]
    assert any(row[5] == "自驾 甘A12345" and row[6] == XIXIA for row in data)
    assert body["id_number"] not in str(rows)
    mine = _sheet(client.get(ATTACHMENT3, headers=headers))[2:]
    assert len(mine) == 3 and {row[6] for row in mine} == {YONGNING}
    county = make_staff(client, "xixia", county_code="640105")
    assert [row[6] for row in _sheet(client.get(ATTACHMENT3, headers=county))[2:]] == [XIXIA]
    dated = _sheet(client.get(ATTACHMENT3, query_string={"date_from": local_today().isoformat()}, headers=admin))
    # Both trip passengers: one arrived today, the other expected today; the registrations are older.
    assert [row[5] for row in dated[2:]] == ["客车 川A·12345"] * 2
    outside = client.get(ATTACHMENT3, query_string={"enterprise_id": other_id}, headers=headers)
    assert outside.status_code == 404 and outside.json["error"]["code"] == "enterprise_not_found"
    checkpoint = make_staff(client, "gate", role="checkpoint_staff", checkpoint_id=checkpoint_id())
    assert client.get(ATTACHMENT3, headers=checkpoint).status_code == 403
    audits = _audits("export.attachment3")
    assert len(audits) == 4 and audits[3].details["filter"] == {"date_from": local_today().isoformat()}
    assert audits[0].actor_id is not None and audits[0].details["rows"] == 4


def test_roster_export_of_one_enterprise(client):
    headers, enterprise_id = hr(client)
    trip = inbound_trip(client, enterprise_id, passengers=2)
    scan(client, trip, trip["captain"])
    register(client, headers, enterprise_id)
    rows = _sheet(client.get(f"{ROSTER.format(enterprise_id)}.xlsx", headers=headers))
    assert rows[1][:4] == ["姓名", "身份证号", "联系电话", "从何处返回"] and "上岗状态" in rows[1]
    assert sorted(row[6] for row in rows[2:]) == ["点对点车次", "点对点车次", "零散返岗"]
    statuses = {row[6]: row[7] for row in rows[2:] if row[6] == "零散返岗"}
    assert statuses == {"零散返岗": "已到达"}
    only_self = _sheet(client.get(f"{ROSTER.format(enterprise_id)}.xlsx", query_string={"source": "self"},
                                  headers=headers))
    assert len(only_self) == 3
    assert _audits("export.roster")[1].details["filter"] == {"source": "self"}
    other_hr, _ = hr(client, XIXIA, "hr2")
    assert client.get(f"{ROSTER.format(enterprise_id)}.xlsx", headers=other_hr).status_code == 404


def test_isolation_list_masked_and_full_ids_only_for_health_officers(client):
    headers, enterprise_id = hr(client)
    body = returnee()
    row = register(client, headers, enterprise_id, days_ago=2)
    client.post(f"{ROSTER.format(enterprise_id)}/{row['worker_id']}/follow-ups", json={"temperature": 38.2},
                headers=headers)
    officer = make_staff(client, "weijian", role="health_officer", county_code="640121")
    rows = _sheet(client.get(ISOLATION, headers=officer))
    assert rows[0][0] == "隔离人员名单" and rows[1][:5] == ["姓名", "身份证号", "联系电话", "隔离方式", "隔离地点"]
    assert len(rows) == 3 and rows[2][1].startswith(body["id_number"][:6] + "********") and rows[2][7] == "待处理"
    assert body["id_number"] not in str(rows) and rows[2][2] == body["phone"]  # the site calls its guests
    full = _sheet(client.get(ISOLATION, query_string={"full_ids": "true", "status": "pending"}, headers=officer))
    assert full[2][1] == body["id_number"]
    audit = _audits("export.isolation")[1]
    assert audit.details["full_id_numbers"] is True and audit.details["filter"] == {"status": "pending"}
    other = make_staff(client, "wj-xx", role="health_officer", county_code="640105")
    assert len(_sheet(client.get(ISOLATION, headers=other))) == 2  # title and headers, nobody of 西夏区
    for staff in (headers, make_staff(client, "yongning")):
        response = client.get(ISOLATION, query_string={"full_ids": "true"}, headers=staff)
        assert response.status_code == 403 and response.json["error"]["code"] == "forbidden_role"

