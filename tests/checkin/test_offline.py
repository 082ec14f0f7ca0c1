"""Offline: the signed bundle, batch uploads judged as of scanned_at, and the reference verifier."""
import base64
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ScanEvent
from app.services.credentials import credentials
from app.services.scanning.bundles import canonical, decide_offline, verify_bundle
from checkin import offline as offline_cli
from tests.builders import close_trip, depart, publish_trip, qr_of, scan_body
from tests.checkin.test_scans import passenger

BATCH = "/api/checkin/v1/scans/batch"


@pytest.fixture
def trip(client):
    return publish_trip(client, passengers=4)


def pinned_keys(client):
    """The trust list a phone saved from GET /keys, as {kid: raw key}."""
    return {key["kid"]: base64.b64decode(key["public_key"]) for key in client.get("/api/checkin/v1/keys").json["keys"]}


def save_keys(client, tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(client.get("/api/checkin/v1/keys").json), encoding="utf-8")
    return str(path)


def bundle_of(client, trip):
    response = client.get(f"/api/checkin/v1/trips/{trip['trip']['id']}/offline-bundle",
                          headers=trip["captain"]["headers"])
    assert response.status_code == 200, response.json
    return response.json


def test_bundle_is_signed_and_holds_what_a_phone_needs(client, trip):
    bundle = bundle_of(client, trip)
    pinned = pinned_keys(client)
    assert verify_bundle(bundle, pinned)
    assert len(bundle["manifest"]) == 4 and all(len(seat["id_last4"]) == 4 for seat in bundle["manifest"])
    assert all("*" in seat["name"] for seat in bundle["manifest"])
    tampered = {**bundle, "revocations": [*bundle["revocations"], 999]}
    assert not verify_bundle(tampered, pinned)
    # Re-signed by someone else with their own key, shipped inside the bundle: refused.
    forger = credentials.generate_private_key()
    public = credentials.public_key_bytes(forger)
    body = {k: v for k, v in tampered.items() if k != "signature"}
    body["keys"] = [{"kid": credentials.key_id(public), "algorithm": "Ed25519",
                     "public_key": base64.b64encode(public).decode(), "retired_at": None}]
    forged = {**body, "signature": {"kid": credentials.key_id(public), "algorithm": "Ed25519",
                                    "value": base64.b64encode(forger.sign(canonical(body))).decode()}}
    assert not verify_bundle(forged, pinned)
    assert client.get(f"/api/checkin/v1/trips/{trip['trip']['id']}/offline-bundle",
                      headers=passenger(trip)["headers"]).status_code == 404


def test_batch_is_judged_as_of_scanned_at_and_flags_conflicts(client, trip):
    captain, vice = trip["captain"]["headers"], trip["vice"]["headers"]
    riders = [passenger(trip, 0), passenger(trip, 1)]
    qrs = [qr_of(client, rider, trip["trip"]["id"]) for rider in riders]
    start = datetime.now(UTC) - timedelta(hours=2)
    at = lambda minutes: (start + timedelta(minutes=minutes)).isoformat()  # noqa: E731
    scans = [
        scan_body(qrs[0], kind="arrive", scanned_at=at(90)),  # listed first, happened last
        scan_body(qrs[0], kind="board", scanned_at=at(1)),
        scan_body(qrs[1], kind="board", scanned_at=at(2), temperature=38.1),
    ]
    results = client.post(BATCH, json={"scans": scans}, headers=captain).json["results"]
    assert [(r["verdict"], r["reason"]) for r in results] == [("allow", "ok"), ("allow", "ok"), ("isolate", "fever")]
    # The vice-captain's phone also boarded rider 0 while offline: stored and flagged, not dropped.
    clash = scan_body(qrs[0], kind="board", scanned_at=at(3), device_id="vice-phone")
    flagged = client.post(BATCH, json={"scans": [clash]}, headers=vice).json["results"][0]
    assert flagged["conflict"] is True and flagged["reason"] == "already_boarded"
    stored = db.session.scalar(select(ScanEvent).where(ScanEvent.client_event_id == clash["client_event_id"]))
    assert stored.conflict and stored.mode == "offline" and stored.device_id == "vice-phone"
    assert stored.scanned_at < stored.received_at
    again = client.post(BATCH, json={"scans": scans}, headers=captain).json["results"]
    assert all(r["replayed"] for r in again)
    assert db.session.scalar(select(func.count()).select_from(ScanEvent)) == 4


def test_scan_after_the_trip_closed_is_kept_as_a_conflict(client, trip):
    captain = trip["captain"]["headers"]
    qr = qr_of(client, passenger(trip), trip["trip"]["id"])
    client.post("/api/checkin/v1/scans", json=scan_body(qr), headers=captain)
    depart(trip["trip"]["id"])
    assert close_trip(client, trip["trip"]["id"], captain).status_code == 200
    late = scan_body(qr, kind="arrive", scanned_at=(datetime.now(UTC) + timedelta(minutes=5)).isoformat())
    result = client.post(BATCH, json={"scans": [late]}, headers=captain).json["results"][0]
    assert (result["reason"], result["conflict"]) == ("trip_closed", True)
    assert db.session.scalar(select(ScanEvent.conflict_reason).where(ScanEvent.conflict)) == "trip_closed"


def test_batch_limits_and_scope(client, trip):
    qr = qr_of(client, passenger(trip), trip["trip"]["id"])
    too_many = {"scans": [scan_body(qr) for _ in range(501)]}
    assert client.post(BATCH, json=too_many, headers=trip["captain"]["headers"]).status_code == 422
    denied = client.post(BATCH, json={"scans": [scan_body(qr, kind="checkpoint")]},
                         headers=trip["captain"]["headers"]).json["results"][0]
    assert denied["reason"] == "kind_not_allowed" and denied["stored"] is False
    stranger = client.post(BATCH, json={"scans": [scan_body(qr)]}, headers=passenger(trip, 1)["headers"])
    assert stranger.status_code == 403 and stranger.json["error"]["code"] == "not_a_scanner"
    twice = scan_body(qr)
    results = client.post(BATCH, json={"scans": [twice, twice]}, headers=trip["captain"]["headers"]).json["results"]
    assert results[0] == results[1] and results[0]["verdict"] == "allow"
    assert db.session.scalar(select(func.count()).select_from(ScanEvent)) == 1


def _cases(client, trip):
    """(label, qr, kind, temperature) covering allow, deny and isolate."""
    riders = [passenger(trip, 0), passenger(trip, 1)]
    good = qr_of(client, riders[0], trip["trip"]["id"])
    other = qr_of(client, riders[1], trip["trip"]["id"])
    tampered = good[:-5] + ("A" if good[-5] != "A" else "B") + good[-4:]
    bus = publish_trip(client, passengers=2, start=20, staff_headers=trip["staff"], destination_city="江苏省苏州市")
    elsewhere = qr_of(client, bus["riders"][0], bus["trip"]["id"])
    return [("allow", good, "board", 36.6), ("fever", other, "board", 38.4), ("arrives", good, "arrive", 36.5),
            ("tampered", tampered, "board", 36.5), ("garbage", "FG1:NOTACODE", "board", 36.5),
            ("another bus", elsewhere, "board", 36.5), ("arrived twice", good, "arrive", 36.5),
            ("not boarded", other, "arrive", 36.5)]


def test_offline_decision_matches_the_server(client, trip):
    bundle = bundle_of(client, trip)
    cases = _cases(client, trip)
    offline, passed = [], {"board": set(), "arrive": set()}
    for _, qr, kind, temperature in cases:  # the phone remembers whom it boarded and landed, as the server does
        decision, entry = decide_offline(bundle, qr, kind, temperature, boarded=passed["board"],
                                         arrived=passed["arrive"])
        offline.append(decision)
        if decision.verdict == "allow" and kind in passed:
            passed[kind].add(entry["serial"])
    online = [client.post("/api/checkin/v1/scans", json=scan_body(qr, kind=kind, temperature=temperature),
                          headers=trip["captain"]["headers"]).json for _, qr, kind, temperature in cases]
    assert [(d.verdict, d.reason) for d in offline] == [(a["verdict"], a["reason"]) for a in online]
    assert {d.verdict for d in offline} == {"allow", "deny", "isolate"}


def test_server_decisions_are_reproduced_by_the_cli(client, trip, tmp_path, capsys):
    keys = save_keys(client, tmp_path)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle_of(client, trip), ensure_ascii=False), encoding="utf-8")
    cases = _cases(client, trip)
    online = [client.post("/api/checkin/v1/scans", json=scan_body(qr, kind=kind, temperature=temperature),
                          headers=trip["captain"]["headers"]).json for _, qr, kind, temperature in cases]
    passed = {"board": set(), "arrive": set()}  # what the phone itself did since downloading, in the same order
    for (label, qr, kind, temperature), answer in zip(cases, online, strict=True):
        code = offline_cli.main([str(path), qr, "--kind", kind, "--temperature", str(temperature),
                                 "--boarded", ",".join(map(str, passed["board"])),
                                 "--arrived", ",".join(map(str, passed["arrive"])), "--keys", keys])
        decided = json.loads(capsys.readouterr().out)
        assert (decided["verdict"], decided["reason"]) == (answer["verdict"], answer["reason"]), label
        assert code == {"allow": 0, "deny": 1, "isolate": 2}[answer["verdict"]]
        if answer["verdict"] == "allow" and kind in passed:
            passed[kind].add(db.session.scalar(select(ScanEvent.serial).where(ScanEvent.id == answer["event_id"])))


def test_cli_refuses_a_tampered_bundle(client, trip, tmp_path):
    bundle = bundle_of(client, trip)
    bundle["manifest"][0]["health"]["status"] = "green" if bundle["manifest"][0]["health"]["status"] != "green" \
        else "red"
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    # Run as a phone-side tool would be: a separate process, `python -m checkin.offline`.
    done = subprocess.run([sys.executable, "-m", "checkin.offline", str(path), "FG1:X", "--keys",
                           save_keys(client, tmp_path)], capture_output=True, text=True, check=False)
    assert done.returncode == 3 and "bundle_signature_invalid" in done.stdout


def test_uuid_must_be_a_uuid(client, trip):
    qr = qr_of(client, passenger(trip), trip["trip"]["id"])
    response = client.post("/api/checkin/v1/scans", json=scan_body(qr, client_event_id="not-a-uuid"),
                           headers=trip["captain"]["headers"])
    assert response.status_code == 422 and "client_event_id" in response.json["error"]["fields"]


def test_batch_that_loses_a_race_is_judged_one_by_one(client, trip, monkeypatch):
    from tests.checkin.test_batch_fallback import lose_the_next_race

    captain = trip["captain"]["headers"]
    qr = qr_of(client, passenger(trip), trip["trip"]["id"])
    client.post("/api/checkin/v1/scans", json=scan_body(qr), headers=captain)
    # As if an online scan boarded the seat between this upload's reads and its insert.
    lose_the_next_race(monkeypatch)
    late = scan_body(qr, scanned_at=(datetime.now(UTC) - timedelta(minutes=1)).isoformat())
    result = client.post(BATCH, json={"scans": [late]}, headers=captain).json["results"][0]
    assert (result["reason"], result["conflict"]) == ("already_boarded", True)
    assert db.session.scalar(select(func.count()).select_from(ScanEvent)) == 2
