"""No response, log line or column holds a full ID number, phone or session_key in plain text."""
import logging
import threading

import pytest
import responses
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Application, Worker
from tests.builders import application, declare_health, login, make_worker, profile

SESSION_KEY = "HyVFkGl5F5OQWJZZaNzBBg=="


def _all_stored_text():
    """Every value of every row of every table, as one string."""
    chunks = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                for value in row:
                    chunks.append(value.decode("latin-1") if isinstance(value, bytes) else str(value))
    return "\n".join(chunks)


def test_secrets_appear_nowhere_in_plain_text(make_app, caplog):
    app = make_app(WECHAT_APP_ID="wx0123456789abcdef", WECHAT_APP_SECRET="test-app-secret")
    client = app.test_client()
    body = profile(mobile="13987654321")
    bodies = []
    with app.app_context(), caplog.at_level(logging.DEBUG), responses.RequestsMock() as wechat:
        from app.services.office.reference_data import load_reference_data

        load_reference_data()
        wechat.post("https://api.weixin.qq.com/cgi-bin/stable_token", json={"access_token": "AT", "expires_in": 7200})
        wechat.get("https://api.weixin.qq.com/sns/jscode2session",
                   json={"openid": "o-private", "session_key": SESSION_KEY})
        login_response = client.post("/api/mp/v1/session", json={"code": "0x1"})
        headers = {"Authorization": f"Bearer {login_response.json['token']}"}
        bodies.append(login_response.get_data(as_text=True))
        bodies.append(client.put("/api/mp/v1/me", json=body, headers=headers).get_data(as_text=True))
        bodies.append(declare_health(client, headers).get_data(as_text=True))
        bodies.append(client.post("/api/mp/v1/applications", json=application(employer_contact="13711112222"),
                                  headers=headers).get_data(as_text=True))
        bodies.append(client.get("/api/mp/v1/me", headers=headers).get_data(as_text=True))
        bodies.append(client.get("/api/mp/v1/applications", headers=headers).get_data(as_text=True))
        stored = _all_stored_text()
    secrets = [body["id_number"], body["mobile"], "13711112222", SESSION_KEY]
    for secret in secrets:
        for response_body in bodies:
            assert secret not in response_body
        assert secret not in caplog.text
        assert secret not in stored


@pytest.mark.parametrize("n_threads", [4])
def test_concurrent_submissions_make_one_application(make_app, backend, n_threads):
    if backend["BACKEND"] == "sqlite":
        pytest.skip("concurrent writers only race on MariaDB")
    app = make_app()
    with app.app_context():
        from app.services.office.reference_data import load_reference_data

        load_reference_data()
        headers = make_worker(app.test_client())
    results = []
    barrier = threading.Barrier(n_threads)

    def submit():
        with app.app_context():
            barrier.wait()
            results.append(app.test_client().post("/api/mp/v1/applications", json=application(),
                                                  headers=headers).status_code)

    threads = [threading.Thread(target=submit) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201] + [409] * (n_threads - 1)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Application)) == 1


def test_concurrent_claims_of_one_id_number_leave_one_owner(make_app, backend):
    if backend["BACKEND"] == "sqlite":
        pytest.skip("concurrent writers only race on MariaDB")
    app = make_app()
    with app.app_context():
        from app.services.office.reference_data import load_reference_data

        load_reference_data()
        tokens = [login(app.test_client(), f"w{i}") for i in range(4)]
    results = []
    barrier = threading.Barrier(len(tokens))

    def claim(i, headers):
        with app.app_context():
            barrier.wait()
            response = app.test_client().put("/api/mp/v1/me", json=profile(i, id_number=profile(0)["id_number"]),
                                             headers=headers)
            results.append(response.status_code)

    threads = [threading.Thread(target=claim, args=(i, h)) for i, h in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409, 409, 409]
    with app.app_context():
        owners = db.session.scalar(select(func.count()).select_from(Worker).where(Worker.id_number_index.is_not(None)))
        assert owners == 1
        assert db.session.execute(text("SELECT 1")).scalar() == 1


def test_database_keeps_one_active_application_even_if_the_check_is_raced(client, monkeypatch):
    from app.services.transport import applications

    headers = make_worker(client)
    assert client.post("/api/mp/v1/applications", json=application(), headers=headers).status_code == 201
    # Pretend a concurrent request had passed the check before the first one committed.
    real = applications.active_application_id
    monkeypatch.setattr(applications, "active_application_id", lambda worker_id: None)
    response = client.post("/api/mp/v1/applications", json=application(), headers=headers)
    monkeypatch.setattr(applications, "active_application_id", real)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "application_active"
    assert db.session.scalar(select(func.count()).select_from(Application)) == 1


def test_database_keeps_one_owner_per_id_number_even_if_the_check_is_raced(client, monkeypatch):
    from app.services.people import workers

    first, second = login(client, "first"), login(client, "second")
    assert client.put("/api/mp/v1/me", json=profile(0), headers=first).status_code == 200
    monkeypatch.setattr(workers, "id_number_owner", lambda index: None)
    response = client.put("/api/mp/v1/me", json=profile(1, id_number=profile(0)["id_number"]), headers=second)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "id_number_taken"
