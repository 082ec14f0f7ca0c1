"""Offline health certificates (健康证明互认): the bundle carries every recognised issuer, the phone decides alone.

A partner deployment is simulated without a second app: its root and certificate keys are made
here, its trust list is signed with `trust_lists.sign_trust_list` and stored as the TrustPartner
row an import leaves, and its certificates are signed with `issue_certificate`, as it would sign them.
"""
import base64
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import TrustPartner, Worker
from app.models.base import utcnow
from app.services.credentials import certificates, credentials, signing, trust, trust_lists
from app.services.credentials.health_certificate import (CertificateClaims, id_hash, issue_certificate,
                                                         verify_certificate)
from app.services.platform.timeutil import iso_local
from app.services.scanning.bundles import certificate_issuers, decide_certificate_offline, verify_bundle
from checkin import offline as offline_cli
from tests.builders import make_id_number, publish_trip
from tests.checkin.test_offline import bundle_of, pinned_keys, save_keys

PARTNER = "320500"  # 苏州市
PARTNER_COUNTY = "320506"
PARTNER_ID_NUMBER = make_id_number(area="320506", sequence=777)
SYNCED_HOURS_AGO = 2


class Partner:
    """Another city's deployment, as far as a checkpoint here can see it: its keys, its list, its certificates."""

    def __init__(self):
        self.root = credentials.generate_private_key()
        self.key = credentials.generate_private_key()
        public = credentials.public_key_bytes(self.key)
        self.kid = credentials.key_id(public)
        self.now = utcnow().replace(microsecond=0)
        self.synced_at = self.now - timedelta(hours=SYNCED_HOURS_AGO)
        self.revoked = [9]
        body = {
            "deployment": {"id": PARTNER, "name": "苏州市"},
            "issued_at": iso_local(self.synced_at), "valid_until": iso_local(self.synced_at + timedelta(days=7)),
            "keys": [{"kid": self.kid, "use": "certificate", "algorithm": "Ed25519",
                      "public_key": base64.b64encode(public).decode(), "counties": [PARTNER_COUNTY],
                      "valid_from": iso_local(self.synced_at - timedelta(days=1)), "retired_at": None}],
            "revocations": {"certificate": self.revoked},
        }
        self.document = trust_lists.sign_trust_list(body, self.root)
        self.fingerprint = trust_lists.fingerprint(credentials.public_key_bytes(self.root))

    def store(self):
        """Leave the row `flask trust add` would leave after verifying the list against the pin."""
        trust_lists.verify_trust_list(self.document, self.fingerprint, int(self.synced_at.replace(tzinfo=UTC)
                                                                           .timestamp()))
        db.session.add(TrustPartner(deployment_id=PARTNER, name="苏州市", fingerprint=self.fingerprint,
                                    source="file:suzhou.json", document=self.document,
                                    counties=trust_lists.counties_of(self.document),
                                    list_issued_at=self.synced_at, synced_at=self.synced_at))
        db.session.commit()

    def certificate(self, serial=1, county=PARTNER_COUNTY, issuer=PARTNER, key=None, status="green"):
        """A certificate this partner (or, with key/issuer, someone posing as it) signs for a worker leaving it."""
        salt = os.urandom(8)
        issued = int((self.now - timedelta(hours=1)).replace(tzinfo=UTC).timestamp())
        claims = CertificateClaims(
            issuer=issuer, serial=serial, county=county, issued_at=issued, valid_until=issued + 7 * 86400,
            name="王*明", id_last4=PARTNER_ID_NUMBER[-4:], id_salt=salt, id_hash=id_hash(PARTNER_ID_NUMBER, "王小明", salt),
            status=status, observation="completed", check_temperature=364, check_at=issued - 3600)
        return issue_certificate(key or self.key, claims)

    def scan_time(self, hours_after_sync):
        """An aware scan time, some hours after this partner's list was last synced."""
        return (self.synced_at + timedelta(hours=hours_after_sync)).replace(tzinfo=UTC)


@pytest.fixture
def trip(client):
    return publish_trip(client, passengers=4)


@pytest.fixture
def partner(app):
    made = Partner()
    made.store()
    return made


@pytest.fixture
def own_certificate(trip):
    """A certificate this deployment issued to one of the trip's riders (its own key, its own county)."""
    signing.ensure_key("certificate")
    worker = db.session.get(Worker, trip["riders"][0]["worker_id"])
    row = certificates.sign_and_store(worker, "640121", {"status": "green", "observation": "none"}, "staff")
    db.session.commit()
    return row


def cases(partner):
    """(label, qr, expected verdict, reason) of partner certificates a Yinchuan checkpoint meets."""
    stranger = credentials.generate_private_key()
    return [
        ("genuine", partner.certificate(), "accept", None),
        ("revoked", partner.certificate(serial=partner.revoked[0]), "reject", "revoked"),
        ("key not in the partner's list", partner.certificate(key=stranger), "reject", "unknown_key"),
        ("county the partner may not speak for", partner.certificate(county="110101"), "reject",
         "county_not_allowed"),
        ("deployment never trusted", partner.certificate(issuer="110100", key=stranger), "reject", "unknown_issuer"),
        ("not green at issue", partner.certificate(serial=2, status="yellow"), "recheck", "not_green"),
        ("tampered", partner.certificate()[:-6] + "AAAAAA", "reject", "invalid"),
    ]


def test_bundle_carries_every_issuer_under_its_signature(client, trip, partner, own_certificate):
    bundle = bundle_of(client, trip)
    pinned = pinned_keys(client)
    assert verify_bundle(bundle, pinned)
    section = bundle["certificates"]
    assert section["trust_stale_after_hours"] == 24
    by_id = {issuer["deployment_id"]: issuer for issuer in section["issuers"]}
    assert set(by_id) == {"640100", PARTNER}
    own, suzhou = by_id["640100"], by_id[PARTNER]
    assert own["synced_at"] is None and own["name"] == "银川市"
    assert [key["kid"] for key in own["keys"] if key["use"] == "certificate"] == [own_certificate.kid]
    assert suzhou["synced_at"] == iso_local(partner.synced_at) and suzhou["revoked"] == partner.revoked
    assert suzhou["keys"] == [{"kid": partner.kid, "use": "certificate", "algorithm": "Ed25519",
                               "public_key": partner.document["keys"][0]["public_key"],
                               "counties": [PARTNER_COUNTY], "retired_at": None}]
    # The trip credential's fields are what phones in use read, unchanged.
    assert {key["kid"] for key in bundle["keys"]} == {key.kid for key in signing.trust_list("trip")}
    # The signature covers the issuers: widening a key's counties, un-revoking or sliding synced_at breaks it.
    for change in (lambda b: b["certificates"]["issuers"][1]["keys"][0]["counties"].append("110101"),
                   lambda b: b["certificates"]["issuers"][1]["revoked"].clear(),
                   lambda b: b["certificates"]["issuers"][1].update(synced_at=iso_local(utcnow())),
                   lambda b: b["certificates"].update(trust_stale_after_hours=10_000)):
        tampered = json.loads(json.dumps(bundle))
        change(tampered)
        assert not verify_bundle(tampered, pinned)


def test_offline_decisions_are_the_servers(client, trip, partner):
    bundle = bundle_of(client, trip)
    at = partner.scan_time(1)
    read_once = certificate_issuers(bundle)  # as an app scanning many would
    for label, qr, verdict, reason in cases(partner):
        offline = decide_certificate_offline(bundle, qr, at=at)
        assert (offline.verdict, offline.reason) == (verdict, reason), label
        assert decide_certificate_offline(bundle, qr, at=at, issuers=read_once) == offline, label
        server = verify_certificate(qr, trust.issuers(), now=int(at.timestamp()), stale_after_hours=24)
        assert (server.verdict, server.reason) == (offline.verdict, offline.reason), label
    genuine = decide_certificate_offline(bundle, partner.certificate(), at=at)
    assert genuine.claims.county == PARTNER_COUNTY and genuine.issuer.name == "苏州市"
    assert genuine.trust_age_hours == pytest.approx(1.0)


def test_holder_is_matched_against_the_id_card(client, trip, partner):
    bundle = bundle_of(client, trip)
    qr, at = partner.certificate(), partner.scan_time(1)
    assert decide_certificate_offline(bundle, qr, at=at, id_number=PARTNER_ID_NUMBER.lower(), name="王小明").verdict \
        == "accept"
    other = decide_certificate_offline(bundle, qr, at=at, id_number=make_id_number(area="320506", sequence=778),
                                       name="王小明")
    assert (other.verdict, other.reason) == ("reject", "id_mismatch")


def test_a_phone_offline_past_the_limit_turns_amber(client, trip, partner, own_certificate):
    bundle = bundle_of(client, trip)
    qr = partner.certificate()
    assert decide_certificate_offline(bundle, qr, at=partner.scan_time(24)).verdict == "accept"
    stale = decide_certificate_offline(bundle, qr, at=partner.scan_time(24 + 1))
    assert (stale.verdict, stale.reason) == ("recheck", "trust_stale") and "25小时" in stale.message
    # This deployment's own keys and revocations are as old as the bundle: they go stale too, offline.
    downloaded = datetime.fromisoformat(bundle["issued_at"])
    assert decide_certificate_offline(bundle, own_certificate.text, at=downloaded + timedelta(hours=1)).verdict \
        == "accept"
    own_stale = decide_certificate_offline(bundle, own_certificate.text, at=downloaded + timedelta(hours=30))
    assert (own_stale.verdict, own_stale.reason) == ("recheck", "trust_stale")
    # Still stale, not green, when the certificate is revoked meanwhile: revocation comes first.
    revoked = decide_certificate_offline(bundle, partner.certificate(serial=partner.revoked[0]),
                                         at=partner.scan_time(48))
    assert (revoked.verdict, revoked.reason) == ("reject", "revoked")


def test_a_bundle_saved_before_certificates_recognises_none(client, trip, partner):
    bundle = {name: value for name, value in bundle_of(client, trip).items() if name != "certificates"}
    decided = decide_certificate_offline(bundle, partner.certificate(), at=partner.scan_time(1))
    assert (decided.verdict, decided.reason) == ("reject", "unknown_issuer")


def _save(bundle, tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_cli_prints_and_exit_codes_the_same(client, trip, partner, tmp_path, capsys):
    path, keys = _save(bundle_of(client, trip), tmp_path), save_keys(client, tmp_path)
    at = partner.scan_time(1).isoformat()
    for label, qr, verdict, reason in cases(partner):
        code = offline_cli.main([path, qr, "--at", at, "--keys", keys])
        printed = json.loads(capsys.readouterr().out)
        assert (printed["verdict"], printed["reason"], code) == (verdict, reason, {"accept": 0, "reject": 1,
                                                                                   "recheck": 4}[verdict]), label
    code = offline_cli.main([path, partner.certificate(), "--at", at, "--keys", keys,
                             "--id-number", PARTNER_ID_NUMBER, "--name", "王小明"])
    out = capsys.readouterr().out
    printed = json.loads(out)
    assert code == 0 and printed["message"] == "健康证明有效"
    certificate = printed["certificate"]
    assert certificate["issuer"] == {"id": PARTNER, "name": "苏州市"} and certificate["county"]["code"] == PARTNER_COUNTY
    assert (certificate["name"], certificate["id_last4"], certificate["id_checked"]) == \
        ("王*明", PARTNER_ID_NUMBER[-4:], True)
    assert certificate["valid_until"].endswith("+08:00") and certificate["basis"]["check_temperature"] == "36.4"
    assert printed["trust"] == {"deployment_id": PARTNER, "name": "苏州市", "synced_at": iso_local(partner.synced_at),
                                "age_hours": 1.0, "stale": False, "stale_after_hours": 24}
    assert PARTNER_ID_NUMBER not in out  # the number typed in is matched, never echoed
    late = partner.scan_time(30).isoformat()
    assert offline_cli.main([path, partner.certificate(), "--at", late, "--keys", keys]) == 4
    printed = json.loads(capsys.readouterr().out)
    assert printed["reason"] == "trust_stale" and printed["trust"]["stale"] is True
    assert printed["trust"]["age_hours"] == 30.0 and printed["certificate"]["id_checked"] is False


def test_cli_as_a_separate_process_refuses_a_tampered_issuer_list(client, trip, partner, tmp_path):
    bundle = bundle_of(client, trip)
    keys = save_keys(client, tmp_path)
    qr = partner.certificate(serial=partner.revoked[0])
    run = lambda path: subprocess.run([sys.executable, "-m", "checkin.offline", path, qr, "--keys", keys,  # noqa: E731
                                       "--at", partner.scan_time(1).isoformat()],
                                      capture_output=True, text=True, check=False)
    done = run(_save(bundle, tmp_path))
    assert done.returncode == 1 and json.loads(done.stdout)["reason"] == "revoked"
    bundle["certificates"]["issuers"][1]["revoked"] = []  # someone un-revokes it on the phone
    done = run(_save(bundle, tmp_path))
    assert done.returncode == 3 and "bundle_signature_invalid" in done.stdout
