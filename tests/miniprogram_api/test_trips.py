"""The worker's trips and trip QR code: details, captain contact, QR text and PNG, ownership."""
import base64
import io
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from app import crypto
from app.extensions import db
from app.models import AuditLog, SigningKey
from app.services.credentials import credentials, signing
from app.services.platform.timeutil import local_today
from tests.builders import approved_applications, make_staff, make_worker, profile


@pytest.fixture
def published(client):
    """Three workers on one published trip; returns (staff headers, [(worker headers, application id)], trip)."""
    signing.ensure_key()
    staff_headers = make_staff(client)
    made = approved_applications(client, staff_headers, 3)
    today = local_today()
    body = {"date_from": today.isoformat(), "date_to": (today + timedelta(days=10)).isoformat(),
            "vehicle_types": [{"name": "中巴", "seats": 10, "count": 5}], "notice": "请全程佩戴口罩"}
    plan = client.post("/api/console/v1/plans", json=body, headers=staff_headers).json
    client.patch(f"/api/console/v1/trips/{plan['trips'][0]['id']}", json={"plate": "宁A·88888"}, headers=staff_headers)
    client.post(f"/api/console/v1/plans/{plan['id']}/publish", headers=staff_headers)
    return staff_headers, made, plan["trips"][0]


def test_trip_list_and_details(client, published):
    _, made, trip = published
    headers = made[0][0]
    items = client.get("/api/mp/v1/trips", headers=headers).json["items"]
    assert [item["id"] for item in items] == [trip["id"]]
    detail = client.get(f"/api/mp/v1/trips/{trip['id']}", headers=headers).json
    assert detail["plate"] == "宁A·88888" and detail["notice"] == "请全程佩戴口罩"
    assert detail["departure_time"] == "08:00:00" and detail["convoy"]["vehicles"] == 1
    assert detail["captain"]["phone"].isdigit() and len(detail["captain"]["phone"]) == 11
    assert detail["vice_captain"]["name"] and "****" in detail["vice_captain"]["phone"]
    assert 1 <= detail["seat_no"] <= 3
    reads = db.session.scalars(select(AuditLog).where(AuditLog.action == "read.full_phone")).all()
    assert len(reads) == 1 and reads[0].details["role"] == "captain"


def test_unplanned_worker_sees_no_trip(client, published):
    _, _, trip = published
    stranger = make_worker(client, name="stranger", n=50, **{"id_number": profile(50)["id_number"]})
    assert client.get("/api/mp/v1/trips", headers=stranger).json["items"] == []
    for path in ("", "/qrcode", "/qrcode.png"):
        response = client.get(f"/api/mp/v1/trips/{trip['id']}{path}", headers=stranger)
        assert response.status_code == 404 and response.json["error"]["code"] == "trip_not_found"


def test_qr_text_verifies_with_the_published_trust_list(client, published):
    _, made, trip = published
    credential = client.get(f"/api/mp/v1/trips/{trip['id']}/qrcode", headers=made[0][0]).json
    assert credential["text"].startswith(credentials.PREFIX)
    keys = client.get("/api/checkin/v1/keys").json["keys"]
    trusted = [credentials.TrustedKey(kid=k["kid"], public_key=base64.b64decode(k["public_key"])) for k in keys]
    result = credentials.verify_credential(credential["text"], trusted, now=credential["valid_from"] + 60)
    assert result.ok, result.reason
    assert result.payload.trip_id == trip["id"] and result.payload.serial == credential["serial"]
    worker_id = client.get("/api/mp/v1/me", headers=made[0][0]).json["id"]
    assert result.payload.worker_id == worker_id
    assert "张" not in credential["text"]


def test_qr_png_decodes_to_the_same_text(client, published):
    _, made, trip = published
    text = client.get(f"/api/mp/v1/trips/{trip['id']}/qrcode", headers=made[1][0]).json["text"]
    response = client.get(f"/api/mp/v1/trips/{trip['id']}/qrcode.png", headers=made[1][0])
    assert response.status_code == 200 and response.mimetype == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))
    assert [barcode.text for barcode in decoded] == [text]
    cached = client.get(f"/api/mp/v1/trips/{trip['id']}/qrcode.png", headers=made[1][0])
    assert cached.data == response.data


def test_cancelled_application_revokes_the_qr(client, published):
    _, made, trip = published
    headers, application_id = made[2]
    credential = client.get(f"/api/mp/v1/trips/{trip['id']}/qrcode", headers=headers).json
    assert client.post(f"/api/mp/v1/applications/{application_id}/cancel", headers=headers).status_code == 200
    feed = client.get("/api/checkin/v1/revocations?since=0").json
    assert [r["serial"] for r in feed["revocations"]] == [credential["serial"]]
    assert feed["revocations"][0]["reason"] == "cancelled" and feed["more"] is False
    # Sent again until it settles (the cursor does not move past a row younger than REVOCATION_SETTLE_SECONDS).
    again = client.get(f"/api/checkin/v1/revocations?since={feed['cursor']}").json
    assert [r["serial"] for r in again["revocations"]] == [credential["serial"]] and again["cursor"] == feed["cursor"]
    result = credentials.verify_credential(credential["text"], signing.trusted_keys(), signing.revoked_serials(),
                                           now=credential["valid_from"] + 1)
    assert result.reason == "revoked"
    assert client.get(f"/api/mp/v1/trips/{trip['id']}/qrcode", headers=headers).status_code == 404


def test_rotated_keys_keep_verifying_until_retired(client, published):
    _, made, trip = published
    old = client.get(f"/api/mp/v1/trips/{trip['id']}/qrcode", headers=made[0][0]).json
    runner = client.application.test_cli_runner()
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    new = client.get(f"/api/mp/v1/trips/{trip['id']}/qrcode", headers=made[0][0]).json
    assert new["text"] != old["text"]
    keys = client.get("/api/checkin/v1/keys").json["keys"]
    assert len(keys) == 2 and all(k["retired_at"] is None for k in keys)
    now = old["valid_from"] + 1
    assert credentials.verify_credential(old["text"], signing.trusted_keys(), now=now).ok
    old_kid = credentials.decode_credential(old["text"])[0].kid
    assert runner.invoke(args=["keys", "retire", old_kid]).exit_code == 0
    assert credentials.verify_credential(old["text"], signing.trusted_keys(), now=now).reason == "unknown_key"
    assert credentials.verify_credential(new["text"], signing.trusted_keys(), now=now).ok


def test_private_keys_are_stored_encrypted(client, published):
    key = db.session.scalar(select(SigningKey))
    raw = base64.b64decode(crypto.cipher().decrypt(key.private_key_cipher, "signing_key.private"))
    assert len(raw) == 32 and raw not in key.private_key_cipher
    assert base64.b64encode(raw) not in key.private_key_cipher
    assert credentials.public_key_bytes(credentials.private_key_from_bytes(raw)) == key.public_key


def test_qr_without_a_signing_key_is_503(client, published):
    _, made, trip = published
    db.session.execute(SigningKey.__table__.update().values(retired_at=db.func.now()))
    db.session.commit()
    response = client.get(f"/api/mp/v1/trips/{trip['id']}/qrcode", headers=made[0][0])
    assert response.status_code == 503 and response.json["error"]["code"] == "signing_key_missing"
