"""账号 pages: list with filters, create (typed or generated password), role and scope, reset, deactivate; CSRF, roles."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Enterprise, StaffUser
from tests.builders import STAFF_PASSWORD
from tests.console_web.helpers import csrf_of, make_web_staff, web_login

LIST = "/console/accounts"


def _admin(client):
    return make_web_staff(client, "office", role="admin")


def _account(username):
    db.session.expire_all()
    return db.session.scalar(select(StaffUser).where(StaffUser.username == username))


def _create(client, csrf, **fields):
    data = {"username": "xixia", "display_name": "赵西夏", "role": "county_operator", "county_code": "640105",
            "password": "", "csrf_token": csrf, **fields}
    return client.post(LIST, data=data)


def _actions():
    """What staff did in the console (the accounts the tests set up are made from the command line's side)."""
    db.session.expire_all()
    return [row.action for row in db.session.scalars(select(AuditLog).where(AuditLog.actor_kind == "staff")
                                                     .order_by(AuditLog.id))]


def _shown(page):
    found = re.search(r'data-testid="new-password">([^<]+)<', page.text)
    return found.group(1) if found else None


def test_admin_creates_an_account_with_a_generated_password_shown_once(client, app):
    csrf = _admin(client)
    posted = _create(client, csrf)
    # Post/Redirect/Get: the URL carries a one-time key, not the password; the page it leads to shows it.
    assert posted.status_code == 302 and "shown=" in posted.headers["Location"]
    answer = client.get(posted.headers["Location"])
    shown = _shown(answer)
    assert answer.status_code == 200 and len(shown) >= 10 and "已新建账号 xixia" in answer.text
    assert shown not in posted.headers["Location"]
    # A reload shows it no more (and creates nothing again: no "用户名已存在").
    again = client.get(posted.headers["Location"])
    assert again.status_code == 200 and _shown(again) is None and "新密码已显示过一次" in again.text
    assert "已存在" not in again.text
    account = _account("xixia")
    assert account.role == "county_operator" and account.county_code == "640105" and account.display_name == "赵西夏"
    web_login(app.test_client(), "xixia", password=shown)  # the shown password signs in
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "staff.create", AuditLog.object_id == account.id))
    assert entry.actor_kind == "staff" and entry.object_type == "staff_user" and entry.object_id == account.id
    assert shown not in str(entry.details)
    # Shown once: the account's page never shows it again, and no cookie carries it.
    assert shown not in client.get(f"{LIST}/{account.id}").text
    assert all(shown not in cookie.value for cookie in client._cookies.values())


def test_admin_creates_an_account_with_a_typed_password(client, app):
    csrf = _admin(client)
    answer = _create(client, csrf, username="hr1", role="enterprise_hr", county_code="",
                     enterprise_id=str(db.session.scalar(select(Enterprise.id).limit(1))), password="a-typed-password")
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"])
    assert "已新建账号 hr1" in page.text and "a-typed-password" not in page.text
    web_login(app.test_client(), "hr1", password="a-typed-password")


def test_bad_input_is_said_on_the_form_and_nothing_is_created(client):
    csrf = _admin(client)
    short = _create(client, csrf, password="short")
    assert short.status_code == 422 and "密码至少10位" in short.text and 'value="xixia"' in short.text
    no_scope = _create(client, csrf, county_code="")
    assert no_scope.status_code == 422 and "该角色需要指定管辖范围" in no_scope.text and "县区：必填" in no_scope.text
    bad_name = _create(client, csrf, username="西夏 区")
    assert bad_name.status_code == 422 and "用户名应为" in bad_name.text
    taken = _create(client, csrf, username="office")
    assert taken.status_code == 409 and "用户名已存在" in taken.text
    assert _account("xixia") is None and _actions() == []


def test_list_filters_by_role_scope_state_and_name(client):
    csrf = _admin(client)
    _create(client, csrf)
    _create(client, csrf, username="yn", display_name="王永宁", county_code="640121")
    _create(client, csrf, username="doctor", display_name="卫健李", role="health_officer", county_code="")
    ids = lambda html: re.findall(r'<tr data-account="([^"]+)"', html)  # noqa: E731
    assert set(ids(client.get(LIST).text)) == {"office", "xixia", "yn", "doctor"}
    assert set(ids(client.get(LIST, query_string={"role": "county_operator"}).text)) == {"xixia", "yn"}
    assert ids(client.get(LIST, query_string={"scope": "county:640121"}).text) == ["yn"]
    assert ids(client.get(LIST, query_string={"q": "永宁"}).text) == ["yn"]
    client.post(f"{LIST}/{_account('yn').id}/deactivate", data={"csrf_token": csrf})
    assert ids(client.get(LIST, query_string={"active": "0"}).text) == ["yn"]
    assert "yn" not in ids(client.get(LIST, query_string={"active": "1"}).text)
    bad = client.get(LIST, query_string={"role": "emperor"})
    assert bad.status_code == 422 and "未知角色" in bad.text
    assert client.get(LIST, query_string={"per_page": "7"}).status_code == 422
    paged = client.get(LIST, query_string={"per_page": "20", "page": "2"}).text
    assert ids(paged) == [] and "第 2/1 页" in paged


def test_change_role_and_scope(client):
    csrf = _admin(client)
    _create(client, csrf)
    account_id = _account("xixia").id
    enterprise_id = db.session.scalar(select(Enterprise.id).limit(1))
    answer = client.post(f"{LIST}/{account_id}", data={"csrf_token": csrf, "role": "enterprise_hr", "display_name": "赵人事",
                                                       "county_code": "640105", "enterprise_id": str(enterprise_id)})
    # The county the form still carried is one the role does not take: refused, nothing changed.
    assert answer.status_code == 422 and "该角色不带这种管辖范围" in answer.text
    assert _account("xixia").role == "county_operator"
    answer = client.post(f"{LIST}/{account_id}", data={"csrf_token": csrf, "role": "enterprise_hr", "display_name": "赵人事",
                                                       "enterprise_id": str(enterprise_id)})
    assert answer.status_code == 302
    account = _account("xixia")
    assert (account.role, account.county_code, account.enterprise_id, account.display_name) == \
        ("enterprise_hr", None, enterprise_id, "赵人事")
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "staff.update"))
    assert entry.details["before"] == {"role": "county_operator", "county_code": "640105"}
    assert entry.details["after"] == {"role": "enterprise_hr", "enterprise_id": enterprise_id}


def test_reset_password_ends_the_accounts_sessions(client, app):
    csrf = _admin(client)
    _create(client, csrf, password="first-password-1")
    account_id = _account("xixia").id
    theirs = app.test_client()
    web_login(theirs, "xixia", password="first-password-1")
    short = client.post(f"{LIST}/{account_id}/password", data={"csrf_token": csrf, "new_password": "x"})
    assert short.status_code == 422 and "新密码至少10位" in short.text
    assert theirs.get("/console/password").status_code == 200  # nothing changed yet
    posted = client.post(f"{LIST}/{account_id}/password", data={"csrf_token": csrf, "new_password": ""})
    assert posted.status_code == 302
    answer = client.get(posted.headers["Location"])
    shown = _shown(answer)
    assert answer.status_code == 200 and "其登录已全部退出" in answer.text
    # A reload neither shows it again nor resets the password again.
    assert _shown(client.get(posted.headers["Location"])) is None
    assert theirs.get("/console/password").status_code == 302  # signed out at once
    web_login(app.test_client(), "xixia", password=shown)
    assert _actions().count("staff.reset_password") == 1


def test_the_one_time_key_shows_nothing_to_another_admin_or_for_another_account(client, app):
    csrf = _admin(client)
    location = _create(client, csrf).headers["Location"]
    other = app.test_client()
    make_web_staff(other, "office2", role="admin")
    stolen = other.get(location)
    assert stolen.status_code == 200 and _shown(stolen) is None  # the key is bound to the admin who made it
    office_id = _account("office").id
    elsewhere = client.get(f"{LIST}/{office_id}?" + location.split("?", 1)[1])
    assert _shown(elsewhere) is None  # … and to the account
    assert _shown(client.get(location))  # still there for the one it belongs to, once
    assert _shown(client.get(f"{LIST}/{_account('xixia').id}?shown=forged")) is None


def test_deactivate_ends_sessions_and_activate_lets_in_again(client, app):
    csrf = _admin(client)
    _create(client, csrf, password="first-password-1")
    account_id = _account("xixia").id
    theirs = app.test_client()
    web_login(theirs, "xixia", password="first-password-1")
    page = client.get(f"{LIST}/{account_id}").text
    assert 'data-confirm="确定停用账号 xixia' in page
    answer = client.post(f"{LIST}/{account_id}/deactivate", data={"csrf_token": csrf})
    assert answer.status_code == 302 and not _account("xixia").active
    assert theirs.get("/console/password").status_code == 302
    assert "已停用" in client.get(f"{LIST}/{account_id}").text
    client.post(f"{LIST}/{account_id}/activate", data={"csrf_token": csrf})
    assert _account("xixia").active
    web_login(app.test_client(), "xixia", password="first-password-1")
    assert [a for a in _actions() if a.startswith("staff.")] == ["staff.create", "staff.deactivate", "staff.activate"]


def test_an_admin_cannot_lock_themself_out(client):
    csrf = _admin(client)
    me = _account("office").id
    answer = client.post(f"{LIST}/{me}/deactivate", data={"csrf_token": csrf})
    assert answer.status_code == 422 and "不能停用自己的账号" in answer.text
    answer = client.post(f"{LIST}/{me}", data={"csrf_token": csrf, "role": "county_operator", "county_code": "640121"})
    assert answer.status_code == 422 and "不能取消自己的管理员角色" in answer.text
    account = _account("office")
    assert account.active and account.role == "admin" and _actions() == []


def test_every_change_needs_the_csrf_token(client):
    csrf = _admin(client)
    _create(client, csrf, password="first-password-1")
    account_id = _account("xixia").id
    for path, data in ((LIST, {"username": "other", "role": "admin", "password": "long-enough-1"}),
                       (f"{LIST}/{account_id}", {"role": "admin"}),
                       (f"{LIST}/{account_id}/password", {"new_password": "long-enough-1"}),
                       (f"{LIST}/{account_id}/deactivate", {})):
        answer = client.post(path, data=data)
        assert answer.status_code == 403 and "页面已过期" in answer.text, path
    account = _account("xixia")
    assert account.active and account.role == "county_operator" and _account("other") is None
    assert _actions() == ["staff.create"]


def test_other_roles_get_the_403_page(client, app):
    csrf = _admin(client)
    _create(client, csrf, password="first-password-1")
    account_id = _account("xixia").id
    county = app.test_client()
    token = make_web_staff(county, "yongning")
    for path in (LIST, f"{LIST}/new", f"{LIST}/{account_id}", f"{LIST}?role=emperor"):
        answer = county.get(path)
        assert answer.status_code == 403 and "无权访问" in answer.text, path
    for path in (LIST, f"{LIST}/{account_id}/deactivate", f"{LIST}/{account_id}/password"):
        answer = county.post(path, data={"csrf_token": token, "username": "x1", "role": "admin",
                                         "password": "long-enough-1", "new_password": "long-enough-1"})
        assert answer.status_code == 403, path
    assert _account("xixia").active and _account("x1") is None
    assert "账号" not in re.findall(r'class="nav-link[^"]*"[^>]*>([^<]+)<', county.get("/console/password").text)


def test_an_unknown_account_is_the_404_page(client):
    _admin(client)
    answer = client.get(f"{LIST}/999999")
    assert answer.status_code == 404 and "未找到" in answer.text


def test_a_scope_id_past_int_or_not_ascii_is_the_forms_message(client):
    csrf = _admin(client)
    for value in ("99999999999999999999999", "²", "2147483648"):
        answer = _create(client, csrf, username="park1", role="park_operator", county_code="", park_id=value)
        assert answer.status_code == 422 and "管辖范围不存在" in answer.text, value
    assert _account("park1") is None
    for query in ({"scope": "park:99999999999999999999999"}, {"scope": "park:²"}, {"page": "²"}, {"page": "-1"}):
        page = client.get(LIST, query_string=query)
        assert page.status_code == 422 and "有误" in page.text, query
