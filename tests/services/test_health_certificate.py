"""The health certificate format and its offline verification (pure: no app, no database)."""
import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.credentials import credentials
from app.services.credentials import health_certificate as hc

NOW = 1_800_000_000
ID_NUMBER = "64010419900307002X"
NAME = "张小三"


def _key():
    return credentials.generate_private_key()


def _claims(**changes):
    salt = changes.pop("id_salt", b"\x01" * hc.SALT_BYTES)
    fields = dict(issuer="640100", serial=7, county="640104", issued_at=NOW - 3600, valid_until=NOW + 7 * 86400,
                  name="张*三", id_last4="002X", id_salt=salt, id_hash=hc.id_hash(ID_NUMBER, NAME, salt), status="green",
                  observation="none", check_temperature=365, check_at=NOW - 7200)
    return hc.CertificateClaims(**{**fields, **changes})


def _issuer(private_key, deployment="640100", use="certificate", counties=("640104",), retired_at=None,
            revoked=(), synced_at=None):
    public = credentials.public_key_bytes(private_key)
    key = hc.IssuerKey(credentials.key_id(public), public, use, frozenset(counties), retired_at)
    return {deployment: hc.TrustedIssuer(deployment, "银川市", (key,), frozenset(revoked), synced_at)}


def test_round_trip_keeps_every_claim():
    key = _key()
    claims = _claims(status="yellow", observation="in_progress", observation_until="2027-01-10")
    text = hc.issue_certificate(key, claims)
    assert text.startswith(hc.PREFIX)
    decoded, kid, _raw = hc.decode_certificate(text)
    assert decoded == claims
    assert kid == credentials.key_id(credentials.public_key_bytes(key))
    assert decoded.basis()["check_temperature"] == "36.5"


def test_text_is_qr_alphanumeric_and_accepted_lower_cased():
    key = _key()
    text = hc.issue_certificate(key, _claims())
    assert set(text) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    verification = hc.verify_certificate("  " + text.lower() + "\n", _issuer(key), now=NOW)
    assert (verification.verdict, verification.reason) == ("accept", None)


def test_the_payload_is_a_cose_sign1_with_a_cwt():
    key = _key()
    raw = credentials.base45_decode(hc.issue_certificate(key, _claims())[len(hc.PREFIX):])
    tagged = cbor2.loads(raw)
    assert tagged.tag == 18  # COSE_Sign1
    protected, unprotected, payload, signature = tagged.value
    assert cbor2.loads(protected) == {1: -8, 4: bytes.fromhex(credentials.key_id(credentials.public_key_bytes(key)))}
    claims = cbor2.loads(payload)
    assert claims[1] == "640100" and claims[7] == (7).to_bytes(4, "big")
    assert "ID" not in repr(claims) and ID_NUMBER not in repr(claims)
    assert len(signature) == 64


@pytest.mark.parametrize("change, reason", [
    (dict(issuers_of="other"), "unknown_issuer"),
    (dict(use="trip"), "wrong_key_use"),
    (dict(retired_at=NOW - 1), "unknown_key"),
    (dict(counties=("640105",)), "county_not_allowed"),
    (dict(revoked=(7,)), "revoked"),
    (dict(now=NOW - 2 * 3600), "not_yet_valid"),
    (dict(now=NOW + 8 * 86400), "expired"),
])
def test_each_refusal_has_its_reason(change, reason):
    key = _key()
    text = hc.issue_certificate(key, _claims())
    now = change.pop("now", NOW)
    deployment = "640200" if change.pop("issuers_of", None) else "640100"
    verification = hc.verify_certificate(text, _issuer(key, deployment=deployment, **change), now=now)
    assert (verification.verdict, verification.reason) == ("reject", reason)
    assert verification.message == hc.MESSAGES[reason]


def test_a_key_the_issuer_did_not_publish_is_unknown_and_a_forged_signature_invalid():
    key, other = _key(), _key()
    text = hc.issue_certificate(other, _claims())
    assert hc.verify_certificate(text, _issuer(key), now=NOW).reason == "unknown_key"
    # The same kid with another key's signature: a forgery.
    public = credentials.public_key_bytes(key)
    forged_kid = hc.IssuerKey(credentials.key_id(credentials.public_key_bytes(other)), public, "certificate",
                              frozenset({"640104"}))
    issuers = {"640100": hc.TrustedIssuer("640100", "银川市", (forged_kid,))}
    assert hc.verify_certificate(text, issuers, now=NOW).reason == "invalid"


def test_a_tampered_claim_breaks_the_signature():
    key = _key()
    raw = credentials.base45_decode(hc.issue_certificate(key, _claims())[len(hc.PREFIX):])
    tagged = cbor2.loads(raw)
    protected, unprotected, payload, signature = tagged.value
    claims = cbor2.loads(payload)
    claims[-65537]["st"] = "green"
    claims[-65537]["co"] = "640104"
    claims[4] = NOW + 365 * 86400  # a year's validity instead of a week's
    tampered = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(claims), signature]))
    text = hc.PREFIX + credentials.base45_encode(tampered)
    assert hc.verify_certificate(text, _issuer(key), now=NOW).reason == "invalid"


def test_id_number_matches_only_the_holders():
    key = _key()
    text = hc.issue_certificate(key, _claims())
    holder = hc.verify_certificate(text, _issuer(key), now=NOW, id_number="64010419900307002x", name=" 张小三 ")
    assert holder.verdict == "accept"
    other = hc.verify_certificate(text, _issuer(key), now=NOW, id_number="640104199003070011", name=NAME)
    assert (other.verdict, other.reason) == ("reject", "id_mismatch")
    # The hash covers the name too: the right number with another name (or none) is not the holder.
    for name in ("张大三", None):
        assert hc.verify_certificate(text, _issuer(key), now=NOW, id_number=ID_NUMBER, name=name).reason \
            == "id_mismatch"
    # A different salt gives a different hash of the same number: no table of hashes across certificates.
    assert hc.id_hash(ID_NUMBER, NAME, b"\x01" * 8) != hc.id_hash(ID_NUMBER, NAME, b"\x02" * 8)


def test_stale_trust_and_a_status_not_green_ask_for_a_person():
    key = _key()
    text = hc.issue_certificate(key, _claims())
    stale = hc.verify_certificate(text, _issuer(key, synced_at=NOW - 30 * 3600), now=NOW, stale_after_hours=24)
    assert (stale.verdict, stale.reason, stale.ok) == ("recheck", "trust_stale", True)
    assert "30小时" in stale.message and stale.trust_age_hours == pytest.approx(30)
    fresh = hc.verify_certificate(text, _issuer(key, synced_at=NOW - 3600), now=NOW, stale_after_hours=24)
    assert fresh.verdict == "accept" and fresh.trust_age_hours == pytest.approx(1)
    yellow = hc.issue_certificate(key, _claims(status="yellow", observation="in_progress",
                                               observation_until="2027-01-01"))
    assert hc.verify_certificate(yellow, _issuer(key), now=NOW).reason == "not_green"


def test_issuing_refuses_claims_out_of_range():
    key = _key()
    for changes in (dict(serial=2**32), dict(status="blue"), dict(observation="maybe"), dict(id_salt=b"x"),
                    dict(valid_until=NOW - 7200)):
        with pytest.raises(ValueError):
            hc.issue_certificate(key, _claims(**changes))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.binary().map(lambda raw: hc.PREFIX + credentials.base45_encode(raw)),
                 st.binary().map(lambda raw: hc.PREFIX + credentials.base45_encode(cbor2.dumps(cbor2.CBORTag(18, raw))))))
def test_garbage_is_invalid_and_never_raises(text):
    verification = hc.verify_certificate(text, {}, now=NOW)
    assert (verification.verdict, verification.reason) == ("reject", "invalid")


def test_non_text_is_invalid():
    for value in (None, 12, b"FGC1:", ["FGC1:"]):
        assert hc.verify_certificate(value, {}, now=NOW).reason == "invalid"


def test_a_trip_credential_is_not_a_certificate():
    key = _key()
    trip = credentials.issue_credential(key, serial=1, trip_id=2, worker_id=3, valid_from=NOW, valid_until=NOW + 1)
    assert hc.verify_certificate(trip, _issuer(key), now=NOW).reason == "invalid"
