"""The liaison list (附件1): kept by the office, read masked by member units, exported in full and audited."""
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import AuditLog, Enterprise, LiaisonUnit
from app.services.platform.exports import XLSX_MIMETYPE
from tests.builders import make_staff
from tests.test_privacy import _all_stored_text

UNITS = "/api/console/v1/liaison-units"


def unit(n=0, **overrides):
    """A complete unit body; mobiles differ per n."""
    body = {"unit_name": f"永宁县人社局{n}", "leader_name": "王建国", "leader_office_phone": "0951-6017170",
            "leader_mobile": f"1301425{n:04d}", "liaison_name": "李梅兰", "liaison_office_phone": "6017170",
            "liaison_mobile": f"1381234{n:04d}", "liaison_wechat": f"wx_liaison_{n:02d}"}
    body.update(overrides)
    return body


@pytest.fixture
def office(client):
    return make_staff(client, "office", role="admin")


def create(client, headers, n=0, **overrides):
    response = client.post(UNITS, json=unit(n, **overrides), headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_office_keeps_the_list_and_members_read_it_masked(client, office):
    first = create(client, office, 0)
    assert first["leader_mobile"] == "130****0000" and first["liaison_mobile"] == "138****0000"
    assert first["liaison_wechat"] == "wx****00" and first["position"] == 1
    create(client, office, 1)
    county = make_staff(client, "yongning")
    listed = client.get(UNITS, headers=county)
    assert listed.status_code == 200
    assert [u["unit_name"] for u in listed.json["items"]] == ["永宁县人社局0", "永宁县人社局1"]
    text = listed.get_data(as_text=True)
    assert "13014250000" not in text and "13812340001" not in text and "wx_liaison_01" not in text
    assert "13014250000" not in _all_stored_text() and "13812340001" not in _all_stored_text()
    # Office phones are the units' public numbers: shown as they are.
    assert listed.json["items"][0]["leader_office_phone"] == "0951-6017170"


def test_only_the_office_writes_and_enterprises_do_not_read(client, office):
    made = create(client, office)
    county = make_staff(client, "yongning")
    one = f"{UNITS}/{made['id']}"
    for method, path, body in (("post", UNITS, unit(5)), ("patch", one, {"leader_name": "赵"}), ("delete", one, None),
                               ("put", f"{UNITS}/order", {"ids": [made["id"]]}), ("get", f"{UNITS}/export", None)):
        response = getattr(client, method)(path, json=body, headers=county)
        assert (response.status_code, response.json["error"]["code"]) == (403, "forbidden_role"), (method, path)
    enterprise_id = db.session.scalar(select(Enterprise.id).limit(1))
    hr = make_staff(client, "hr", role="enterprise_hr", enterprise_id=enterprise_id)
    response = client.get(UNITS, headers=hr)
    assert (response.status_code, response.json["error"]["code"]) == (403, "forbidden_role")
    assert client.get(UNITS).status_code == 401


def test_update_clear_and_delete(client, office):
    made = create(client, office)
    changed = client.patch(f"{UNITS}/{made['id']}", json={"leader_mobile": "139 0000 1111", "liaison_mobile": None,
                                                           "liaison_wechat": None}, headers=office)
    assert changed.status_code == 200, changed.json
    assert (changed.json["leader_mobile"], changed.json["liaison_mobile"]) == ("139****1111", None)
    stored = db.session.get(LiaisonUnit, made["id"])
    db.session.refresh(stored)
    assert stored.liaison_mobile_cipher is None and stored.liaison_wechat is None
    assert client.patch(f"{UNITS}/999999", json={"leader_name": "赵"}, headers=office).json["error"]["code"] \
        == "liaison_unit_not_found"
    assert client.delete(f"{UNITS}/{made['id']}", headers=office).status_code == 204
    missing = client.delete(f"{UNITS}/{made['id']}", headers=office)
    assert (missing.status_code, missing.json["error"]["code"]) == (404, "liaison_unit_not_found")
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "liaison_unit")).all()
    assert actions == ["liaison.create", "liaison.update", "liaison.delete"]


def test_bad_phones_and_duplicate_units_are_refused(client, office):
    bad = client.post(UNITS, json=unit(leader_mobile="12345", liaison_office_phone="电话", liaison_wechat="微信"),
                      headers=office)
    assert (bad.status_code, bad.json["error"]["code"]) == (422, "validation_error")
    assert set(bad.json["error"]["fields"]) == {"leader_mobile", "liaison_office_phone", "liaison_wechat"}
    blank = client.post(UNITS, json=unit(leader_name="  "), headers=office)
    assert (blank.status_code, blank.json["error"]["fields"]) == (422, {"leader_name": "不能为空"})
    first = create(client, office, 0)
    twice = client.post(UNITS, json=unit(0), headers=office)
    assert (twice.status_code, twice.json["error"]["code"]) == (409, "liaison_unit_exists")
    second = create(client, office, 1)
    renamed = client.patch(f"{UNITS}/{second['id']}", json={"unit_name": first["unit_name"]}, headers=office)
    assert (renamed.status_code, renamed.json["error"]["code"]) == (409, "liaison_unit_exists")
    assert client.get(UNITS, headers=office).json["items"][1]["unit_name"] == "永宁县人社局1"


def test_reorder_needs_every_unit_once(client, office):
    ids = [create(client, office, n)["id"] for n in range(3)]
    moved = client.put(f"{UNITS}/order", json={"ids": [ids[2], ids[0], ids[1]]}, headers=office)
    assert moved.status_code == 200
    assert [u["id"] for u in client.get(UNITS, headers=office).json["items"]] == [ids[2], ids[0], ids[1]]
    for wrong in ([ids[0], ids[1]], [ids[0], ids[1], ids[1]], ids + [999999]):
        response = client.put(f"{UNITS}/order", json={"ids": wrong}, headers=office)
        assert (response.status_code, response.json["error"]["code"]) == (422, "validation_error")
    assert create(client, office, 9)["position"] == 4  # a new unit goes to the end


def test_export_has_the_notice_headers_and_full_mobiles_and_is_audited(client, office):
    create(client, office, 0)
    create(client, office, 1, leader_mobile=None, liaison_office_phone=None)
    response = client.get(f"{UNITS}/export", headers=office)
    assert response.status_code == 200 and response.mimetype == XLSX_MIMETYPE
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "务工人员返岗复工联络员名单"
    assert rows[1] == ["序号", "单位名称", "分管领导", "联系方式", None, "联络员", "联系方式", None, None]
    assert rows[2] == [None, None, None, "办公电话", "手机号", None, "办公电话", "手机号", "微信号"]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"D2:E2", "G2:I2", "A2:A3", "B2:B3", "F2:F3"} <= merged
    assert rows[3] == [1, "永宁县人社局0", "王建国", "0951-6017170", "13014250000", "李梅兰", "6017170",
                       "13812340000", "wx_liaison_00"]
    assert rows[4][:5] == [2, "永宁县人社局1", "王建国", "0951-6017170", None] and rows[4][6] is None
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "export.liaison_units"))
    assert entry is not None and entry.details["rows"] == 2


def test_move_unit_one_place_and_not_past_the_ends(client, office):
    """The console's 上移/下移: one step through `reorder` (audited), at either end nothing moves."""
    from app.services.accounts import staff as staff_accounts
    from app.services.office import liaison

    ids = [create(client, office, n)["id"] for n in range(3)]
    admin = staff_accounts.create_staff("office2", "correct-horse-battery", "admin", by=staff_accounts.CLI)
    assert [u.id for u in liaison.move_unit(admin, ids[2], -1)] == [ids[0], ids[2], ids[1]]
    assert [u.id for u in liaison.move_unit(admin, ids[0], 1)] == [ids[2], ids[0], ids[1]]
    assert [u.id for u in liaison.move_unit(admin, ids[2], -1)] == [ids[2], ids[0], ids[1]]
    assert [u.id for u in liaison.move_unit(admin, ids[1], 5)] == [ids[2], ids[0], ids[1]]
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "liaison.reorder")) == 2
    county = staff_accounts.create_staff("yongning2", "correct-horse-battery", "county_operator", county_code="640121", by=staff_accounts.CLI)
    with pytest.raises(Forbidden):
        liaison.move_unit(county, ids[0], 1)
    with pytest.raises(NotFound):
        liaison.move_unit(admin, 999999, 1)
