"""Staff accounts: creation, password login, lockout, scope."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.errors import Conflict, Invalid
from app.extensions import db
from app.models import Enterprise, StaffUser
from app.models.base import utcnow
from app.services import staff
from tests.builders import STAFF_PASSWORD, auth, make_staff


def login(client, username, password=STAFF_PASSWORD):
    return client.post("/api/console/v1/session", json={"username": username, "password": password})


def test_create_and_login(client):
    staff.create_staff("xq", STAFF_PASSWORD, "county_operator", "兴庆区运营", county_code="640104")
    response = login(client, "xq")
    assert response.status_code == 201
    assert response.json["staff"]["role"] == "county_operator"
    assert response.json["staff"]["county_code"] == "640104"
    me = client.get("/api/console/v1/me", headers=auth(response.json["token"]))
    assert me.json["username"] == "xq"
    stored = db.session.scalar(select(StaffUser.password_hash))
    assert stored.startswith("$argon2") and STAFF_PASSWORD not in stored


def test_scope_is_required_by_role_and_must_exist(app):
    with pytest.raises(Invalid):
        staff.create_staff("a", STAFF_PASSWORD, "county_operator")
    with pytest.raises(Invalid):
        staff.create_staff("b", STAFF_PASSWORD, "county_operator", county_code="999999")
    with pytest.raises(Invalid):
        staff.create_staff("c", "short", "admin")
    with pytest.raises(Invalid):
        staff.create_staff("d", STAFF_PASSWORD, "emperor")
    staff.create_staff("e", STAFF_PASSWORD, "admin")
    with pytest.raises(Conflict):
        staff.create_staff("e", STAFF_PASSWORD, "admin")


def test_wrong_password_and_unknown_user_answer_alike(client):
    staff.create_staff("xq", STAFF_PASSWORD, "admin")
    wrong, unknown = login(client, "xq", "nope-nope-nope"), login(client, "nobody", "nope-nope-nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.json["error"]["code"] == "invalid_credentials"


def test_repeated_failures_lock_the_account(client, app):
    staff.create_staff("xq", STAFF_PASSWORD, "admin")
    limit = app.config["STAFF_MAX_FAILED_LOGINS"]
    for _ in range(limit):
        assert login(client, "xq", "bad-password-1").status_code == 401
    locked = login(client, "xq")  # even the right password is refused while locked
    assert locked.status_code == 429 and locked.json["error"]["code"] == "account_locked"
    db.session.execute(update(StaffUser).values(locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert login(client, "xq").status_code == 201


def test_staff_login_is_rate_limited(make_app):
    app = make_app(STAFF_LOGIN_RATE_LIMIT="2 per minute")
    with app.app_context():
        client = app.test_client()
        codes = [login(client, "x", "y").status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def test_worker_tokens_do_not_open_the_console(client):
    from tests.builders import login as worker_login

    headers = worker_login(client)
    assert client.get("/api/console/v1/me", headers=headers).status_code == 401


def test_staff_cli(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "create", "hl", "--role", "county_operator", "--county", "640122"],
                           input=f"{STAFF_PASSWORD}\n{STAFF_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(StaffUser.county_code).where(StaffUser.username == "hl")) == "640122"
    result = runner.invoke(args=["staff", "create", "hl2", "--role", "county_operator"],
                           input=f"{STAFF_PASSWORD}\n{STAFF_PASSWORD}\n")
    assert result.exit_code != 0 and "--county" in result.output


def test_roles_without_planning_rights_are_403(client):
    enterprise_id = db.session.scalar(select(Enterprise.id).limit(1))
    headers = make_staff(client, "hr", role="enterprise_hr", enterprise_id=enterprise_id)
    response = client.get("/api/console/v1/applications", headers=headers)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden_role"
