"""The scanner API accepts the console's session cookie, but only with its CSRF token: the scan station's page."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import ScanEvent
from tests.builders import make_staff, scan_body
from tests.console_web.checkpoint_helpers import SCANS, bus_to, checkpoint_id, station_staff


def _count():
    return db.session.scalar(select(func.count()).select_from(ScanEvent))


def test_cookie_with_its_csrf_header_scans(client):
    bus = bus_to(client, checkpoint_id())
    csrf = station_staff(client)
    before = _count()
    qr = next(iter(bus["qrs"].values()))
    answer = client.post(SCANS, json=scan_body(qr, kind="arrive", device_id="station"),
                         headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.json
    assert answer.json["verdict"] == "allow" and answer.json["passenger"]["name"] == "张*丰"
    batch = client.post(f"{SCANS}/batch", json={"scans": [scan_body(qr, kind="checkpoint", device_id="station")]},
                        headers={"X-CSRF-Token": csrf})
    assert batch.status_code == 200 and batch.json["results"][0]["verdict"] == "allow"
    expected = client.get(f"/api/checkin/v1/checkpoints/{checkpoint_id()}/expected", headers={"X-CSRF-Token": csrf})
    assert expected.status_code == 200 and expected.json["trips"][0]["trip_id"] == bus["trip"]["id"]
    assert _count() == before + 2
    elsewhere = client.get(f"/api/checkin/v1/checkpoints/{checkpoint_id('hedong-airport')}/expected",
                           headers={"X-CSRF-Token": csrf})
    assert elsewhere.status_code == 403 and elsewhere.json["error"]["code"] == "wrong_checkpoint"


def test_cookie_without_or_with_a_wrong_header_is_refused_and_nothing_stored(client):
    bus = bus_to(client, checkpoint_id())
    csrf = station_staff(client)
    before = _count()
    qr = next(iter(bus["qrs"].values()))
    for headers in ({}, {"X-CSRF-Token": "x" * 40}, {"X-CSRF-Token": csrf[:-1] + ("0" if csrf[-1] != "0" else "1")}):
        refused = client.post(SCANS, json=scan_body(qr, kind="arrive"), headers=headers)
        assert refused.status_code == 403 and refused.json["error"]["code"] == "csrf_failed"
    assert _count() == before


def test_a_signed_out_cookie_and_no_credentials_get_401(client):
    bus = bus_to(client, checkpoint_id())
    csrf = station_staff(client)
    qr = next(iter(bus["qrs"].values()))
    old = client.get_cookie("fg_console").value
    assert client.post("/console/logout", data={"csrf_token": csrf}).status_code == 302
    client.set_cookie("fg_console", old, path="/")  # a copy of the cookie kept past sign-out
    gone = client.post(SCANS, json=scan_body(qr, kind="arrive"), headers={"X-CSRF-Token": csrf})
    assert gone.status_code == 401 and gone.json["error"]["code"] == "unauthorized"
    client.delete_cookie("fg_console", path="/")
    assert client.post(SCANS, json=scan_body(qr, kind="arrive"), headers={"X-CSRF-Token": csrf}).status_code == 401


def test_bearer_tokens_still_work_and_win_over_a_cookie(client):
    bus = bus_to(client, checkpoint_id(), board=False)
    station_staff(client)  # a console cookie sits in the client beside the bearer tokens below
    qrs = list(bus["qrs"].values())
    captain = client.post(SCANS, json=scan_body(qrs[0]), headers=bus["captain"]["headers"])
    assert captain.status_code == 200 and captain.json["verdict"] == "allow"
    officer = make_staff(client, "railway2", role="checkpoint_staff", checkpoint_id=checkpoint_id())
    arrival = client.post(SCANS, json=scan_body(qrs[0], kind="arrive"), headers=officer)
    assert arrival.status_code == 200 and arrival.json["verdict"] == "allow"
    # A county operator's bearer token is no scanner, whatever cookie travels with it.
    assert client.post(SCANS, json=scan_body(qrs[1], kind="arrive"), headers=bus["staff"]).status_code == 403


def test_scanning_keeps_the_station_signed_in_but_a_background_refresh_does_not(app, client):
    from datetime import timedelta

    from app.models import AuthToken
    from app.models.base import utcnow
    from app.services.platform import cache

    bus = bus_to(client, checkpoint_id())
    csrf = station_staff(client)
    row = db.session.scalars(select(AuthToken).where(AuthToken.revoked_at.is_(None))
                             .order_by(AuthToken.id.desc())).first()
    ttl = app.config["STAFF_TOKEN_TTL_SECONDS"]
    idle_since = (utcnow() + timedelta(seconds=ttl - 3600)).replace(microsecond=0)  # an hour since the last click
    row.expires_at = idle_since
    db.session.commit()
    refresh = client.get("/console/checkpoint/expected", headers={"HX-Request": "true", "X-Console-Background": "1"})
    assert refresh.status_code == 200
    db.session.refresh(row)
    assert row.expires_at == idle_since  # a page refreshing itself is not someone at work
    cache.delete(f"console-alive:{row.token_hash}")
    qr = next(iter(bus["qrs"].values()))
    answer = client.post(SCANS, json=scan_body(qr, kind="arrive", device_id="station"), headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200
    db.session.refresh(row)
    assert row.expires_at > utcnow() + timedelta(seconds=ttl - 60)  # a scan is
