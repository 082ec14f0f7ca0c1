"""联络员（附件1） pages: list masked, create, edit, delete (确定/取消), 上移/下移 as plain forms, export; office only, CSRF."""
import io
import re

import openpyxl
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, LiaisonUnit
from app.services.accounts import staff as staff_accounts
from app.services.office import liaison
from tests.builders import STAFF_PASSWORD
from tests.console.test_liaison import unit
from tests.console_web.helpers import make_web_staff

LIST = "/console/liaison"


def _office(client):
    """Sign in as the coordination office; returns the CSRF token."""
    return make_web_staff(client, "office", role="admin")


def _seed(count):
    """`count` units made through the service, in order; returns their ids."""
    admin = staff_accounts.create_staff("seeder", STAFF_PASSWORD, "admin", by=staff_accounts.CLI)
    return [liaison.create_unit(admin, unit(n)).id for n in range(count)]


def _names():
    db.session.expire_all()
    return [u.unit_name for u in db.session.scalars(select(LiaisonUnit).order_by(LiaisonUnit.position))]


def _ids_on(html):
    return [int(found) for found in re.findall(r'<tr id="unit-\d+" data-unit="(\d+)"', html)]


def test_list_shows_the_units_in_order_masked(client):
    ids = _seed(2)
    _office(client)
    page = client.get(LIST)
    assert page.status_code == 200
    html = page.text
    assert _ids_on(html) == ids and "永宁县人社局0" in html and "0951-6017170" in html
    assert "130****0000" in html and "138****0001" in html and "wx****01" in html
    assert "13014250000" not in html and "wx_liaison_01" not in html
    assert 'href="/console/liaison/export.xlsx"' in html
    # The menu entry is there and marked as the current page.
    assert re.search(r'nav-link active"\s+aria-current="page"\s+href="/console/liaison">联络员（附件1）', html)


def test_create_a_unit(client):
    token = _office(client)
    form = client.get(f"{LIST}/new")
    assert form.status_code == 200 and "单位名称" in form.text
    created = client.post(f"{LIST}/new", data={"csrf_token": token, **unit(7), "liaison_office_phone": ""})
    assert created.status_code == 302 and created.headers["Location"].endswith(LIST)
    made = db.session.scalar(select(LiaisonUnit))
    assert (made.unit_name, made.liaison_office_phone, made.liaison_mobile_mask) == ("永宁县人社局7", None, "138****0007")
    assert "已添加：永宁县人社局7" in client.get(LIST).text


def test_bad_input_shows_the_message_and_saves_nothing(client):
    token = _office(client)
    for data, words in (({"unit_name": ""}, "单位名称"), ({"leader_mobile": "12345"}, "分管领导手机号"),
                        ({"liaison_office_phone": "电话"}, "联络员办公电话"), ({"liaison_wechat": "微信"}, "联络员微信号"),
                        ({"unit_name": "长" * 129}, "单位名称")):
        page = client.post(f"{LIST}/new", data={"csrf_token": token, **unit(1, **data)})
        assert page.status_code == 422, data
        assert "未保存" in page.text and words in page.text and "is-invalid" in page.text, data
        assert 'value="李梅兰"' in page.text  # what was typed stays, to be corrected
    assert db.session.scalar(select(func.count()).select_from(LiaisonUnit)) == 0
    _seed(1)
    twice = client.post(f"{LIST}/new", data={"csrf_token": token, **unit(0)})
    assert twice.status_code == 409 and "该单位已在名单中" in twice.text
    assert _names() == ["永宁县人社局0"]


def test_edit_keeps_mobiles_unless_typed_or_cleared(client):
    [unit_id] = _seed(1)
    token = _office(client)
    form = client.get(f"{LIST}/{unit_id}/edit").text
    assert 'value="永宁县人社局0"' in form and 'value="0951-6017170"' in form
    assert "现为 130****0000，留空不改" in form and "13014250000" not in form and "wx_liaison_00" not in form
    base = {"csrf_token": token, "unit_name": "永宁县人社局", "leader_name": "赵敏", "leader_office_phone": "0951-6017170",
            "liaison_name": "李梅兰", "liaison_office_phone": ""}
    saved = client.post(f"{LIST}/{unit_id}/edit", data={**base, "liaison_mobile": "13900001111"})
    assert saved.status_code == 302
    db.session.expire_all()
    row = db.session.get(LiaisonUnit, unit_id)
    assert (row.unit_name, row.leader_name, row.liaison_office_phone) == ("永宁县人社局", "赵敏", None)
    assert (row.leader_mobile_mask, row.liaison_mobile_mask, row.liaison_wechat) == ("130****0000", "139****1111",
                                                                                     "wx_liaison_00")
    cleared = client.post(f"{LIST}/{unit_id}/edit", data={**base, "clear_liaison_wechat": "1"})
    assert cleared.status_code == 302
    db.session.expire_all()
    assert db.session.get(LiaisonUnit, unit_id).liaison_wechat is None
    bad = client.post(f"{LIST}/{unit_id}/edit", data={**base, "leader_name": " ", "leader_mobile": "1"})
    assert bad.status_code == 422 and "分管领导" in bad.text and "未保存" in bad.text
    db.session.expire_all()
    assert db.session.get(LiaisonUnit, unit_id).leader_name == "赵敏"
    assert client.get(f"{LIST}/999999/edit").status_code == 404


def test_move_up_and_down_with_plain_forms(client):
    first, second, third = _seed(3)
    token = _office(client)
    html = client.get(LIST).text
    # The first cannot go up, the last cannot go down.
    assert len(re.findall(r'value="up"\s+disabled', html)) == 1 and len(re.findall(r'value="down"\s+disabled', html)) == 1
    moved = client.post(f"{LIST}/{third}/move", data={"csrf_token": token, "direction": "up"})
    assert moved.status_code == 302 and moved.headers["Location"].endswith(f"#unit-{third}")
    assert _names() == ["永宁县人社局0", "永宁县人社局2", "永宁县人社局1"]
    client.post(f"{LIST}/{first}/move", data={"csrf_token": token, "direction": "down"})
    assert _names() == ["永宁县人社局2", "永宁县人社局0", "永宁县人社局1"]
    # At either end a unit stays where it is.
    client.post(f"{LIST}/{third}/move", data={"csrf_token": token, "direction": "up"})
    client.post(f"{LIST}/{second}/move", data={"csrf_token": token, "direction": "down"})
    assert _names() == ["永宁县人社局2", "永宁县人社局0", "永宁县人社局1"]
    assert _ids_on(client.get(LIST).text) == [third, first, second]
    sideways = client.post(f"{LIST}/{first}/move", data={"csrf_token": token, "direction": "left"})
    assert sideways.status_code == 422 and "请选择上移或下移" in sideways.text
    assert client.post(f"{LIST}/999999/move", data={"csrf_token": token, "direction": "up"}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "liaison.reorder")) == 2


def test_delete_asks_first(client):
    first, second = _seed(2)
    token = _office(client)
    # Without script the post carries no confirmation: the 确定/取消 page comes first.
    unconfirmed = client.post(f"{LIST}/{first}/delete", data={"csrf_token": token})
    assert unconfirmed.status_code == 302 and unconfirmed.headers["Location"].endswith(f"/{first}/delete")
    question = client.get(f"{LIST}/{first}/delete").text
    assert "确定从联络员名单中删除“永宁县人社局0”" in question and ">确定</button>" in question and ">取消</a>" in question
    assert len(_names()) == 2
    deleted = client.post(f"{LIST}/{first}/delete", data={"csrf_token": token, "confirmed": "yes"})
    assert deleted.status_code == 302 and _names() == ["永宁县人社局1"]
    assert "已删除：永宁县人社局0" in client.get(LIST).text
    assert client.post(f"{LIST}/{first}/delete", data={"csrf_token": token, "confirmed": "yes"}).status_code == 404


def test_export_is_the_full_sheet_and_audited(client):
    _seed(2)
    _office(client)
    response = client.get(f"{LIST}/export.xlsx")
    assert response.status_code == 200 and "filename*=UTF-8''" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    text = " ".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell)
    assert "13014250000" in text and "永宁县人社局1" in text
    assert db.session.scalar(select(func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "export.liaison_units")) == 1


def test_county_operator_gets_the_403_page(client):
    [unit_id] = _seed(1)
    token = make_web_staff(client)
    for response in (client.get(LIST), client.get(f"{LIST}/new"), client.get(f"{LIST}/{unit_id}/edit"),
                     client.get(f"{LIST}/{unit_id}/delete"), client.get(f"{LIST}/export.xlsx"),
                     client.post(f"{LIST}/new", data={"csrf_token": token, **unit(3)}),
                     client.post(f"{LIST}/{unit_id}/edit", data={"csrf_token": token, **unit(0, leader_name="赵")}),
                     client.post(f"{LIST}/{unit_id}/move", data={"csrf_token": token, "direction": "down"}),
                     client.post(f"{LIST}/{unit_id}/delete", data={"csrf_token": token, "confirmed": "yes"})):
        assert response.status_code == 403 and "无权访问" in response.text
    # An invalid form is refused for the role too: the unit's form (its names, masked mobiles) is never shown.
    for response in (client.post(f"{LIST}/new", data={"csrf_token": token, **unit(3, unit_name="")}),
                     client.post(f"{LIST}/{unit_id}/edit", data={"csrf_token": token, **unit(0, leader_mobile="12345")})):
        assert response.status_code == 403 and "无权访问" in response.text
        assert "永宁县人社局0" not in response.text and "单位名称" not in response.text
    assert _names() == ["永宁县人社局0"] and db.session.get(LiaisonUnit, unit_id).leader_name == "王建国"
    assert "联络员（附件1）" not in client.get("/console/applications").text


def test_post_without_csrf_is_refused(client):
    [unit_id] = _seed(1)
    _office(client)
    for url, data in ((f"{LIST}/new", unit(2)), (f"{LIST}/{unit_id}/edit", unit(0, leader_name="赵")),
                      (f"{LIST}/{unit_id}/move", {"direction": "down"}), (f"{LIST}/{unit_id}/delete", {"confirmed": "yes"})):
        for token in (None, "forged"):
            response = client.post(url, data={**data, **({"csrf_token": token} if token else {})})
            assert response.status_code == 403 and "<html" in response.text
    assert _names() == ["永宁县人社局0"]
