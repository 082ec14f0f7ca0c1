"""A write that loses a certification race (1213 at COMMIT) runs again, and is stored once; past the limit, a 503."""
import pymysql
import pytest
from flask import g
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from app import conflicts
from app.errors import Unavailable
from app.extensions import db
from app.models import Application, AuditLog, HealthEvent, ScanEvent
from tests.builders import make_staff, make_worker, publish_trip, qr_of, scan_body, submit_application
from tests.checkin.test_batch_fallback import lose_the_next_race
from tests.checkin.test_scans import SCANS, passenger
from tests.galera.inject import conflicts_at_commit
from tests.test_errors import assert_error

BATCH = "/api/checkin/v1/scans/batch"


@pytest.fixture
def trip(client):
    return publish_trip(client, passengers=4)


def count(model, *where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def boardings():
    return count(HealthEvent, HealthEvent.kind == "boarding")


def test_scan_that_conflicts_at_commit_is_run_again_and_stored_once(client, trip):
    body = scan_body(qr_of(client, passenger(trip), trip["trip"]["id"]))
    with conflicts_at_commit(fail=(1, 2)) as tried:
        response = client.post(SCANS, json=body, headers=trip["captain"]["headers"])
    assert response.status_code == 200, response.json
    assert (response.json["verdict"], response.json["reason"]) == ("allow", "ok")
    assert tried == [True, True, False]  # two conflicts, then the third run committed
    assert count(ScanEvent) == 1 and boardings() == 1
    assert db.session.get(ScanEvent, response.json["event_id"]).client_event_id == body["client_event_id"]


def test_conflicts_past_the_limit_answer_503_write_conflict_and_store_nothing(make_app, client, trip):
    body = scan_body(qr_of(client, passenger(trip), trip["trip"]["id"]))
    with conflicts_at_commit(fail=range(1, 10)) as tried:
        response = client.post(SCANS, json=body, headers=trip["captain"]["headers"])
    error = assert_error(response, 503, "write_conflict")
    assert "冲突" in error["message"] and response.headers["Retry-After"] == "5"
    assert len(tried) == 4  # the first run and DB_CONFLICT_RETRIES (3) more
    assert count(ScanEvent) == 0 and boardings() == 0
    # The scanner retries later with the same client_event_id: stored once, allowed.
    again = client.post(SCANS, json=body, headers=trip["captain"]["headers"])
    assert again.status_code == 200 and again.json["verdict"] == "allow"
    assert count(ScanEvent) == 1 and boardings() == 1


def test_retries_follow_db_conflict_retries(make_app):
    app = make_app(DB_CONFLICT_RETRIES=0)
    with app.app_context():
        client = app.test_client()
        with conflicts_at_commit(fail=(1,)) as tried:
            response = client.post("/api/mp/v1/session", json={"code": "dev:lisi"})
        assert_error(response, 503, "write_conflict")
        assert tried == [True]


@pytest.mark.parametrize("error", [(2013, "Lost connection to MySQL server during query"),
                                   (1205, "Lock wait timeout exceeded; try restarting transaction")])
def test_a_lost_connection_or_a_lock_wait_timeout_is_never_run_again(client, error):
    headers = make_worker(client, declare=False)
    with conflicts_at_commit(fail=(1,), error=error) as tried:
        response = client.post("/api/mp/v1/health-declarations", json={"temperature": 36.5,
                               "contact_with_case": False}, headers=headers)
    # A lost COMMIT's outcome is unknown; a lock wait already took 50 s: the client decides.
    assert_error(response, 503, "unavailable")
    assert tried == [True]


def test_upload_that_conflicts_stores_each_scan_once(client, trip):
    captain = trip["captain"]["headers"]
    bodies = [scan_body(qr_of(client, rider, trip["trip"]["id"])) for rider in trip["riders"][:3]]
    with conflicts_at_commit(fail=(1,)) as tried:
        response = client.post(BATCH, json={"scans": bodies}, headers=captain)
    assert response.status_code == 200, response.json
    assert [r["verdict"] for r in response.json["results"]] == ["allow"] * 3
    assert tried == [True, False]
    assert count(ScanEvent) == 3 and boardings() == 3


def test_upload_replayed_one_by_one_that_conflicts_midway_stores_each_scan_once(client, trip, monkeypatch):
    captain = trip["captain"]["headers"]
    first = qr_of(client, passenger(trip, 0), trip["trip"]["id"])
    assert client.post(SCANS, json=scan_body(first), headers=captain).json["verdict"] == "allow"
    # The upload loses a race (falls back to one scan a commit); its second step conflicts, after the first
    # step's commit went through: the whole upload runs again, and the first step is replayed, not stored twice.
    lose_the_next_race(monkeypatch)
    bodies = [scan_body(qr_of(client, passenger(trip, index), trip["trip"]["id"])) for index in (0, 1)]
    with conflicts_at_commit(fail=(2,)) as tried:
        response = client.post(BATCH, json={"scans": bodies}, headers=captain)
    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert [r["reason"] for r in results] == ["already_boarded", "ok"]
    assert tried[:2] == [False, True] and len(tried) >= 3
    assert count(ScanEvent) == 3 and boardings() == 2
    for body in bodies:
        assert count(ScanEvent, ScanEvent.client_event_id == body["client_event_id"]) == 1


def test_console_decision_that_conflicts_applies_once(client):
    worker = make_worker(client)
    application_id = submit_application(client, worker)
    staff = make_staff(client)
    with conflicts_at_commit(fail=(1, 2)) as tried:
        response = client.post(f"/api/console/v1/applications/{application_id}/approve", headers=staff)
    assert response.status_code == 200, response.json
    assert tried == [True, True, False]
    assert db.session.get(Application, application_id).status == "approved"
    assert count(AuditLog, AuditLog.action == "application.approve") == 1


def test_worker_declaration_that_conflicts_is_stored_once(client):
    headers = make_worker(client, declare=False)
    with conflicts_at_commit(fail=(1,)) as tried:
        response = client.post("/api/mp/v1/health-declarations", json={"temperature": 36.5,
                               "contact_with_case": False}, headers=headers)
    assert response.status_code in (200, 201), response.json
    assert tried == [True, False]
    assert count(HealthEvent, HealthEvent.kind == "declaration") == 1


def test_a_view_that_conflicts_after_its_own_commit_is_not_run_again(app):
    runs = []

    def two_commits():
        runs.append(1)
        db.session.execute(text("SELECT 1"))
        db.session.commit()  # the first step is stored …
        db.session.execute(text("SELECT 1"))
        with conflicts_at_commit(fail=(1,)):
            db.session.commit()  # … the second conflicts: running the whole view again would repeat the first

    with app.test_request_context("/", method="POST"):
        g.deadline = float("inf")
        with pytest.raises(Unavailable) as raised:
            conflicts._retrying(two_commits)()
        assert raised.value.code == "write_conflict" and runs == [1]
        marked = conflicts._retrying(conflicts.rerunnable(lambda: "ran"))
        assert marked() == "ran"


def test_a_savepoint_released_before_the_conflict_does_not_stop_the_retry(app):
    tried = []

    def savepoint_then_commit():
        savepoint = db.session.begin_nested()  # as the outbox does for a deduped message
        db.session.execute(text("SELECT 1"))
        savepoint.commit()
        tried.append(1)
        with conflicts_at_commit(fail=(1,) if len(tried) == 1 else ()):
            db.session.commit()
        return "stored"

    with app.test_request_context("/", method="POST"):
        g.deadline = float("inf")
        assert conflicts._retrying(savepoint_then_commit)() == "stored" and len(tried) == 2


def test_every_route_is_wrapped_once(app):
    writes = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            assert getattr(app.view_functions[rule.endpoint], "retries_conflicts", False), rule.endpoint
            writes += bool(rule.methods & {"POST", "PUT", "PATCH", "DELETE"})
    assert writes > 60


def test_an_export_that_conflicts_at_its_audit_commit_is_run_again(client, trip):
    with conflicts_at_commit(fail=(1,)) as tried:
        response = client.get(f"/api/console/v1/trips/{trip['trip']['id']}/manifest.xlsx", headers=trip["staff"])
    assert response.status_code == 200 and tried == [True, False]
    assert count(AuditLog, AuditLog.action.like("export.%")) == 1


def test_the_purge_job_runs_again_after_a_conflict(app):
    with conflicts_at_commit(fail=(1,)) as tried:
        result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("purged: ") and tried == [True, False]
    with conflicts_at_commit(fail=range(1, 10)) as tried:
        result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert result.exit_code != 0 and len(tried) == 4  # then it fails, for cron to report


def test_a_conflict_outside_a_view_answers_write_conflict_too(make_app):
    app = make_app()

    @app.before_request
    def _hook_that_writes():
        from tests.galera.inject import DEADLOCK

        raise OperationalError("COMMIT", None, pymysql.err.OperationalError(*DEADLOCK))

    with app.app_context():
        assert_error(app.test_client().get("/healthz"), 503, "write_conflict")
