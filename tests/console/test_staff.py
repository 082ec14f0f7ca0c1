"""Staff accounts: creation, password login, lockout, scope."""
import pytest
from sqlalchemy import select, update

from app.errors import Conflict, Invalid
from app.extensions import db
from app.models import Enterprise, StaffUser
from app.services.accounts import staff
from tests.builders import STAFF_PASSWORD, auth, make_staff


def login(client, username, password=STAFF_PASSWORD):
    return client.post("/api/console/v1/session", json={"username": username, "password": password})


def test_create_and_login(client):
    staff.create_staff("xq", STAFF_PASSWORD, "county_operator", "兴庆区运营", county_code="640104", by=staff.CLI)
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
        staff.create_staff("a", STAFF_PASSWORD, "county_operator", by=staff.CLI)
    with pytest.raises(Invalid):
        staff.create_staff("b", STAFF_PASSWORD, "county_operator", county_code="999999", by=staff.CLI)
    with pytest.raises(Invalid):
        staff.create_staff("c", "short", "admin", by=staff.CLI)
    with pytest.raises(Invalid):
        staff.create_staff("d", STAFF_PASSWORD, "emperor", by=staff.CLI)
    staff.create_staff("e", STAFF_PASSWORD, "admin", by=staff.CLI)
    with pytest.raises(Conflict):
        staff.create_staff("e", STAFF_PASSWORD, "admin", by=staff.CLI)


def test_wrong_password_and_unknown_user_answer_alike(client):
    staff.create_staff("xq", STAFF_PASSWORD, "admin", by=staff.CLI)
    wrong, unknown = login(client, "xq", "nope-nope-nope"), login(client, "nobody", "nope-nope-nope")
    assert wrong.status_code == unknown.status_code == 401
    # Alike but for the request id, which is new for every request whatever the account.
    assert {**wrong.json["error"], "request_id": None} == {**unknown.json["error"], "request_id": None}
    assert wrong.json["error"]["code"] == "invalid_credentials"


def from_ip(client, ip, username, password=STAFF_PASSWORD):
    return client.post("/api/console/v1/session", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def told(response):
    """What an answer tells the client, without its per-request id."""
    error = dict(response.json["error"])
    assert error.pop("request_id")
    return error


def test_throttled_known_and_unknown_names_answer_alike(client, app):
    staff.create_staff("xq", STAFF_PASSWORD, "admin", by=staff.CLI)
    limit = app.config["STAFF_MAX_FAILED_LOGINS"]
    answers = {}
    for name in ("xq", "nobody"):
        assert [from_ip(client, "203.0.113.7", name, "bad-password-1").status_code for _ in range(limit)] == [401] * limit
        answers[name] = from_ip(client, "203.0.113.7", name)  # even the right password waits its turn
    known, unknown = answers["xq"], answers["nobody"]
    assert known.status_code == unknown.status_code == 429
    assert told(known) == told(unknown) and told(known)["code"] == "login_throttled"
    assert known.json["error"]["details"] == {"retry_after": 1}
    # Flask-Limiter sets Retry-After on this route to the later of ours and its per-IP window's reset.
    assert int(known.headers["Retry-After"]) >= 1 and int(unknown.headers["Retry-After"]) >= 1


def test_a_stranger_cannot_lock_a_clerk_out(client, app):
    staff.create_staff("clerk", STAFF_PASSWORD, "county_operator", county_code="640121", by=staff.CLI)
    stranger = [from_ip(client, "198.51.100.9", "clerk", "guess-guess-1").status_code for _ in range(20)]
    assert stranger[:5] == [401] * 5 and set(stranger[5:]) == {429}
    assert from_ip(client, "192.0.2.10", "clerk").status_code == 201  # the clerk, at the office, logs in
    assert db.session.scalar(select(StaffUser.locked_until)) is None


def test_the_delay_grows_with_each_failure_and_a_success_clears_it(client, app):
    import time

    staff.create_staff("xq", STAFF_PASSWORD, "admin", by=staff.CLI)
    limit = app.config["STAFF_MAX_FAILED_LOGINS"]
    for _ in range(limit):
        from_ip(client, "203.0.113.8", "xq", "bad-password-1")
    assert from_ip(client, "203.0.113.8", "xq", "bad-password-1").json["error"]["details"] == {"retry_after": 1}
    time.sleep(1.05)
    assert from_ip(client, "203.0.113.8", "xq", "bad-password-1").status_code == 401  # checked: a 6th failure
    waiting = from_ip(client, "203.0.113.8", "xq")
    assert waiting.status_code == 429 and waiting.json["error"]["details"] == {"retry_after": 2}
    time.sleep(2.05)
    assert from_ip(client, "203.0.113.8", "xq").status_code == 201
    assert from_ip(client, "203.0.113.8", "xq", "bad-password-1").status_code == 401  # counting starts again


def test_delays_double_up_to_the_lock_minutes(app):
    from app.services.accounts.login_throttle import delay_after

    limit = app.config["STAFF_MAX_FAILED_LOGINS"]
    assert [delay_after(n) for n in range(limit - 1, limit + 4)] == [0, 1, 2, 4, 8]
    assert delay_after(limit + 40) == app.config["STAFF_LOCK_MINUTES"] * 60 == delay_after(limit + 10)


def test_unknown_inactive_and_wrong_answer_alike_and_take_about_as_long(client):
    import time

    staff.create_staff("xq", STAFF_PASSWORD, "admin", by=staff.CLI)
    staff.create_staff("gone", STAFF_PASSWORD, "admin", by=staff.CLI)
    db.session.execute(update(StaffUser).where(StaffUser.username == "gone").values(active=False))
    db.session.commit()
    answers, took = {}, {}
    for name, password in (("xq", "wrong-password"), ("nobody", "wrong-password"), ("gone", STAFF_PASSWORD)):
        times = []
        for n in range(3):
            started = time.perf_counter()
            answers[name] = from_ip(client, f"203.0.113.{20 + n}", name, password)
            times.append(time.perf_counter() - started)
        took[name] = min(times)
    assert {a.status_code for a in answers.values()} == {401}
    assert told(answers["xq"]) == told(answers["nobody"]) == told(answers["gone"])
    # Each pays one argon2 verification: none answers in a fraction of another's time.
    assert min(took.values()) > 0.5 * max(took.values()), took


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
