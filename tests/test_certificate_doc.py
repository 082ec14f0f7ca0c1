"""docs/certificate.md says what the code does: its vectors are read from the page and re-verified, and re-made
from the keys and claims it publishes (Ed25519 and the CBOR encoding are deterministic)."""
import base64
import hashlib
import json
import pathlib
import re
from dataclasses import asdict
from datetime import datetime

import base45
import cbor2
import pytest

from app.services.credentials import credentials, health_certificate, trust_lists
from app.services.credentials.health_certificate import CertificateClaims, issue_certificate, verify_certificate
from app.services.scanning.bundles import certificate_section
from tests import certificate_vectors

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "certificate.md"


def _doc():
    return DOC.read_text(encoding="utf-8")


def _block(marker):
    block = re.search(rf"<!-- {marker}:[^\n]*-->\n```json\n(.*?)\n```", _doc(), re.S)
    assert block, f"docs/certificate.md lost its {marker} block"
    return json.loads(block.group(1))


def _vectors():
    return _block("certificate-vectors")


def _trust_list():
    return _block("certificate-trust-list")


def _pinned():
    found = re.search(r"the test list's fingerprint is `([0-9a-f]{64})`", _doc())
    assert found, "docs/certificate.md lost the test list's fingerprint"
    return found.group(1)


def _keys_table():
    """{name: (seed, public key, kid)} from the doc's table of test keys."""
    rows = re.findall(r"^\| (\w+)[^|]*\| `([0-9a-f]{64})` \| `([0-9a-f]{64})` \| `([0-9a-f]{8})` \|$", _doc(), re.M)
    return {name: (bytes.fromhex(seed), bytes.fromhex(public), kid) for name, seed, public, kid in rows}


def _unix(text):
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() is not None  # a vector's clock is unambiguous
    return int(moment.timestamp())


def _claims(fields):
    return CertificateClaims(**{name: bytes.fromhex(value) if name in ("id_salt", "id_hash") else value
                                for name, value in fields.items()})


@pytest.mark.parametrize("vector", _vectors(), ids=lambda vector: vector["name"])
def test_vector_verdict_and_claims_are_what_the_code_decides(vector):
    synced = _unix(vector["synced_at"])
    document = trust_lists.verify_trust_list(_trust_list(), _pinned(), synced)  # raises unless it holds
    issuer = trust_lists.issuer_from_list(document, synced_at=synced)
    result = verify_certificate(vector["qr"], {issuer.deployment_id: issuer}, now=_unix(vector["now"]),
                                stale_after_hours=vector["stale_after_hours"], id_number=vector["id_number"],
                                name=vector["id_name"])
    assert (result.verdict, result.reason) == (vector["verdict"], vector["reason"])
    decoded = None if result.claims is None else certificate_vectors.claims_json(result.claims)
    assert decoded == vector["claims"]


def test_vectors_cover_every_reason_and_both_window_ends():
    by_name = {vector["name"]: vector for vector in _vectors()}
    reasons = {vector["reason"] for vector in by_name.values()}
    assert reasons == {None} | (set(health_certificate.MESSAGES) - {"ok"})
    valid = by_name["valid"]["claims"]
    assert _unix(by_name["last_valid_second"]["now"]) == valid["valid_until"]
    assert _unix(by_name["expired"]["now"]) == valid["valid_until"] + 1
    assert _unix(by_name["not_yet_valid"]["now"]) == valid["issued_at"] - 1
    stale = by_name["trust_stale"]
    assert _unix(stale["now"]) - _unix(stale["synced_at"]) > stale["stale_after_hours"] * 3600
    assert by_name["lowercase"]["qr"] == by_name["valid"]["qr"].lower()


def test_documented_seeds_give_the_documented_keys():
    table = _keys_table()
    assert set(table) == {"certificate", "root", "trip", "stranger"}
    for seed, public, kid in table.values():
        assert credentials.public_key_bytes(credentials.private_key_from_bytes(seed)) == public
        assert credentials.key_id(public) == kid
    root_public = table["root"][1]
    assert trust_lists.fingerprint(root_public) == _pinned()
    listed = {entry["kid"]: (entry["use"], base64.b64decode(entry["public_key"])) for entry in _trust_list()["keys"]}
    assert listed == {table["trip"][2]: ("trip", table["trip"][1]),
                      table["certificate"][2]: ("certificate", table["certificate"][1])}
    assert base64.b64decode(_trust_list()["root"]["public_key"]) == root_public


def test_issuing_from_the_documented_keys_and_claims_reproduces_the_texts():
    table = _keys_table()
    by_name = {vector["name"]: vector for vector in _vectors()}
    signer = {"valid": "certificate", "not_green": "certificate", "revoked": "certificate",
              "county_not_allowed": "certificate", "wrong_key_use": "trip"}
    for name, key_name in signer.items():
        vector = by_name[name]
        key = credentials.private_key_from_bytes(table[key_name][0])
        assert issue_certificate(key, _claims(vector["claims"])) == vector["qr"], name
    # The list re-signed from its body and the root seed is the document, signature and all.
    body = {name: value for name, value in _trust_list().items()
            if name not in ("signature", "root", "format", "version")}
    assert trust_lists.sign_trust_list(body, credentials.private_key_from_bytes(table["root"][0])) == _trust_list()
    # And the builders that made the page still make it, every vector included.
    assert certificate_vectors.vectors() == _vectors() and certificate_vectors.trust_list() == _trust_list()


def test_the_valid_certificate_read_out_is_its_bytes():
    doc = _doc()
    valid = next(vector for vector in _vectors() if vector["name"] == "valid")
    raw = base45.b45decode(valid["qr"][len(health_certificate.PREFIX):])
    tagged = cbor2.loads(raw)
    protected, unprotected, payload, signature = tagged.value
    assert tagged.tag == 18 and unprotected == {} and cbor2.loads(protected) == {1: -8, 4: bytes.fromhex("24f6ed6a")}
    for part in (protected, payload, signature):
        assert f"`{part.hex()}`" in doc
    assert f"{len(raw)} bytes; the QR text is {len(valid['qr'])} characters" in doc
    assert f"```\n{valid['qr']}\n```" in doc
    # The Sig_structure the page describes is what the signature covers.
    signed = cbor2.dumps(["Signature1", protected, b"", payload])
    public = _keys_table()["certificate"][1]
    assert credentials.verify_signature(public, signed, signature)
    claims = cbor2.loads(payload)
    assert set(claims) == {1, 4, 6, 7, -65537} and claims[7] == (7).to_bytes(4, "big")


def test_the_id_hash_is_scrypt_as_written():
    doc = _doc()
    assert (f"N = {health_certificate.SCRYPT_N}, r = {health_certificate.SCRYPT_R}, "
            f"p = {health_certificate.SCRYPT_P}, dkLen = {health_certificate.HASH_BYTES}") in doc
    valid = next(vector for vector in _vectors() if vector["name"] == "valid")
    claims = valid["claims"]
    number, name = valid["id_number"], valid["id_name"]
    assert f"`{number}`" in doc and f"`{name}`" in doc and number[-4:] == claims["id_last4"]
    recomputed = hashlib.scrypt(f"{number}\n{name}".encode("utf-8"), salt=bytes.fromhex(claims["id_salt"]),
                                n=32768, r=8, p=1, maxmem=128 * 1024 * 1024, dklen=16)
    assert recomputed.hex() == claims["id_hash"] and f"`{claims['id_hash']}`" in doc


def test_the_claims_tables_name_every_key_the_code_writes():
    doc = _doc()
    health_keys = set(re.findall(r"^\| `(\w+)` \| (?:unsigned|text|bytes)", doc, re.M))
    by_name = {vector["name"]: vector for vector in _vectors()}
    written = set()
    for name in ("valid", "not_green"):
        raw = base45.b45decode(by_name[name]["qr"][len(health_certificate.PREFIX):])
        written |= set(cbor2.loads(cbor2.loads(raw).value[2])[health_certificate.CLAIM_HEALTH])
    assert health_keys == written == {"v", "co", "n", "l4", "s", "h", "st", "ob", "t", "ct", "ou"}
    for key in (1, 4, 6, 7, -65537):
        assert f"| {key} |" in doc


def test_trust_list_has_the_fields_a_deployment_publishes(app):
    from app.services.credentials import signing, trust

    for purpose in ("trip", "certificate", "root"):
        signing.ensure_key(purpose)
    served, example = trust.own_trust_list(), _trust_list()
    assert set(example) == set(served)
    for part in ("deployment", "root", "signature", "revocations"):
        assert set(example[part]) == set(served[part]), part
    assert all(set(entry) == set(served["keys"][0]) for entry in example["keys"])
    assert {entry["use"] for entry in served["keys"]} == {"trip", "certificate"}


def test_bundle_example_has_the_fields_a_bundle_carries():
    found = re.search(r"Its `certificates` field, covered by the bundle's signature:\n\n```json\n(.*?)\n```", _doc(),
                      re.S)
    example = json.loads(found.group(1))
    made = certificate_section([trust_lists.issuer_from_list(_trust_list(), synced_at=None)], 24)
    assert set(example) == set(made)
    assert all(set(issuer) == set(made["issuers"][0]) for issuer in example["issuers"])
    assert set(example["issuers"][0]["keys"][0]) == set(made["issuers"][0]["keys"][0])
    assert asdict(trust_lists.issuer_from_list(_trust_list(), synced_at=None))["revoked"] == \
        frozenset(example["issuers"][0]["revoked"])
